/// Encodes commands and values in the RESP2 wire format.
///
/// Commands are sent as an array of bulk strings, as the
/// [RESP2 specification](https://redis.io/docs/latest/develop/reference/protocol-spec/#sending-commands-to-a-redis-server) requires.
public enum RESPEncoder {
    /// One command, encoded as a RESP2 array of bulk strings, in an array of exactly its size.
    ///
    /// The size is worked out first and every byte written once, in place: appending header digits and
    /// arguments one call at a time cost about 300 instructions an argument.
    /// - Parameter args: The command name and its arguments.
    public static func encoded(_ args: [[UInt8]]) -> [UInt8] {
        var size = headerSize(args.count)
        for arg in args { size += headerSize(arg.count) + arg.count + 2 }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var offset = writeHeader(UInt8(ascii: "*"), args.count, into: buffer, at: 0)
            for arg in args {
                offset = arg.withUnsafeBufferPointer { writeBulk($0, into: buffer, at: offset) }
            }
            count = offset
        }
    }

    /// Writes `bytes` as a bulk string (`$<length>\r\n<bytes>\r\n`) at `offset`; returns the offset after it.
    static func writeBulk(_ bytes: UnsafeBufferPointer<UInt8>, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) -> Int {
        var offset = writeHeader(UInt8(ascii: "$"), bytes.count, into: buffer, at: offset)
        if let base = bytes.baseAddress, !bytes.isEmpty {
            (buffer.baseAddress! + offset).initialize(from: base, count: bytes.count)
        }
        offset += bytes.count
        buffer[offset] = 13
        buffer[offset + 1] = 10
        return offset + 2
    }

    /// The size of `<type><count>\r\n`.
    static func headerSize(_ count: Int) -> Int {
        // Comparisons for the lengths commands have (a division per digit cost more, twice per argument).
        if count < 10 { return 4 }
        if count < 100 { return 5 }
        if count < 1000 { return 6 }
        if count < 10000 { return 7 }
        var digits = 5
        var rest = count / 100_000
        while rest > 0 {
            rest /= 10
            digits += 1
        }
        return digits + 3
    }

    /// Writes `<type><count>\r\n` at `offset`; returns the offset after it.
    static func writeHeader(_ type: UInt8, _ count: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) -> Int {
        let end = offset + headerSize(count)
        buffer[offset] = type
        var rest = count
        var position = end - 3
        repeat {
            buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
            position -= 1
        } while position > offset
        buffer[end - 2] = 13
        buffer[end - 1] = 10
        return end
    }

    /// Appends any value in the RESP2 wire format to `buffer` (useful for tests and fakes).
    /// - Parameters:
    ///   - value: The value to encode.
    ///   - buffer: The buffer to append to.
    public static func encode(_ value: RESPValue, into buffer: inout [UInt8]) {
        switch value {
        case .simpleString(let string):
            buffer.append(UInt8(ascii: "+"))
            buffer.append(contentsOf: string.utf8)
            buffer.append(contentsOf: [13, 10])
        case .error(let message):
            buffer.append(UInt8(ascii: "-"))
            buffer.append(contentsOf: message.utf8)
            buffer.append(contentsOf: [13, 10])
        case .integer(let integer):
            buffer.append(UInt8(ascii: ":"))
            buffer.append(contentsOf: String(integer).utf8)
            buffer.append(contentsOf: [13, 10])
        case .bulkString(nil):
            buffer.append(contentsOf: Array("$-1\r\n".utf8))
        case .bulkString(let bytes?):
            appendHeader(UInt8(ascii: "$"), bytes.count, into: &buffer)
            buffer.append(contentsOf: bytes)
            buffer.append(contentsOf: [13, 10])
        case .array(nil):
            buffer.append(contentsOf: Array("*-1\r\n".utf8))
        case .array(let elements?):
            appendHeader(UInt8(ascii: "*"), elements.count, into: &buffer)
            for element in elements { encode(element, into: &buffer) }
        }
    }

    /// Appends `<type><count>\r\n` without allocating a String for the number.
    private static func appendHeader(_ type: UInt8, _ count: Int, into buffer: inout [UInt8]) {
        buffer.append(type)
        if count == 0 {
            buffer.append(UInt8(ascii: "0"))
        } else {
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var length = 0
            var remaining = count
            withUnsafeMutableBytes(of: &digits) { raw in
                while remaining > 0 {
                    raw[length] = UInt8(ascii: "0") + UInt8(remaining % 10)
                    remaining /= 10
                    length += 1
                }
                for position in stride(from: length - 1, through: 0, by: -1) {
                    buffer.append(raw[position])
                }
            }
        }
        buffer.append(13)
        buffer.append(10)
    }
}
