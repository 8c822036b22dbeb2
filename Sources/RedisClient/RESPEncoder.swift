/// Encodes commands and values in the RESP2 wire format.
///
/// Commands are sent as an array of bulk strings, as the
/// [RESP2 specification](https://redis.io/docs/latest/develop/reference/protocol-spec/#sending-commands-to-a-redis-server) requires.
public enum RESPEncoder {
    /// Appends one command, encoded as a RESP2 array of bulk strings, to `buffer`.
    /// - Parameters:
    ///   - args: The command name and its arguments, e.g. `[Array("GET".utf8), key]`.
    ///   - buffer: The buffer to append to.
    public static func encode(_ args: [[UInt8]], into buffer: inout [UInt8]) {
        var size = 16
        for arg in args { size += arg.count + 16 }
        buffer.reserveCapacity(buffer.count + size)
        appendHeader(UInt8(ascii: "*"), args.count, into: &buffer)
        for arg in args {
            appendHeader(UInt8(ascii: "$"), arg.count, into: &buffer)
            buffer.append(contentsOf: arg)
            buffer.append(13)
            buffer.append(10)
        }
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
