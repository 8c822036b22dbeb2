/// One command encoded as RESP (an array of bulk strings) straight from its parts, for
/// ``RedisClient/send(_:read:reply:)``: no array of arguments first, every byte written once into an array
/// of exactly its size, and constant runs of arguments (a field list) appended already encoded
/// (``encodedArguments(_:)``).
public struct RESPCommand: Sendable {
    /// The encoded command.
    public let bytes: [UInt8]

    /// Writes the arguments of a command into its encoding.
    ///
    /// The body runs twice, first to measure and then to write, so it must append the same arguments both times.
    public struct Writer: ~Copyable {
        /// Nil while measuring.
        fileprivate let buffer: UnsafeMutableBufferPointer<UInt8>?
        fileprivate var offset = 0

        /// Appends one argument.
        public mutating func append(_ argument: [UInt8]) {
            append(argument, suffix: [])
        }

        /// Appends one argument made of `argument` followed by `suffix` (a key and its suffix).
        public mutating func append(_ argument: [UInt8], suffix: [UInt8]) {
            let length = argument.count + suffix.count
            guard let buffer else {
                offset += RESPEncoder.headerSize(length) + length + 2
                return
            }
            offset = RESPEncoder.writeHeader(UInt8(ascii: "$"), length, into: buffer, at: offset)
            copy(argument, into: buffer)
            copy(suffix, into: buffer)
            buffer[offset] = 13
            buffer[offset + 1] = 10
            offset += 2
        }

        /// Appends one argument: the UTF-8 of `text`.
        public mutating func append(utf8 text: String) {
            var text = text
            text.withUTF8 { append(bytes: $0) }
        }

        /// Appends one argument: `value` in decimal.
        public mutating func append(decimal value: Int64) {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                append(bytes: UnsafeBufferPointer(rebasing: digits[..<Self.writeDecimal(value, into: digits)]))
            }
        }

        /// Appends one argument: `byte`, followed by `value` in decimal when there is one (`n`, `n42`).
        public mutating func append(_ byte: UInt8, decimal value: Int64?) {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { digits in
                digits[0] = byte
                let count = value.map { 1 + Self.writeDecimal($0, into: UnsafeMutableBufferPointer(rebasing: digits[1...])) } ?? 1
                append(bytes: UnsafeBufferPointer(rebasing: digits[..<count]))
            }
        }

        /// Writes `value` in decimal at the start of `buffer` (20 bytes suffice); returns how many bytes.
        private static func writeDecimal(_ value: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
            var magnitude = value.magnitude
            var digits = 1
            var rest = magnitude
            while rest >= 10 {
                rest /= 10
                digits += 1
            }
            let sign = value < 0 ? 1 : 0
            if sign == 1 { buffer[0] = UInt8(ascii: "-") }
            var position = sign + digits
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            return sign + digits
        }

        private mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
            guard let buffer else {
                offset += RESPEncoder.headerSize(bytes.count) + bytes.count + 2
                return
            }
            offset = RESPEncoder.writeBulk(bytes, into: buffer, at: offset)
        }

        /// Appends arguments encoded by ``RESPCommand/encodedArguments(_:)``; they count as arguments like any other.
        public mutating func append(encoded arguments: [UInt8]) {
            guard let buffer else {
                offset += arguments.count
                return
            }
            copy(arguments, into: buffer)
        }

        private mutating func copy(_ bytes: [UInt8], into buffer: UnsafeMutableBufferPointer<UInt8>) {
            bytes.withUnsafeBufferPointer { source in
                if let base = source.baseAddress, !source.isEmpty {
                    (buffer.baseAddress! + offset).initialize(from: base, count: source.count)
                }
            }
            offset += bytes.count
        }
    }

    /// The command of `argumentCount` arguments (the name included) that `body` appends.
    public init(argumentCount: Int, _ body: (inout Writer) -> Void) {
        var measure = Writer(buffer: nil)
        measure.offset = RESPEncoder.headerSize(argumentCount)
        body(&measure)
        let size = measure.offset
        bytes = ByteArrays.make(capacity: size) { buffer in
            var writer = Writer(buffer: buffer)
            writer.offset = RESPEncoder.writeHeader(UInt8(ascii: "*"), argumentCount, into: buffer, at: 0)
            body(&writer)
            precondition(writer.offset == size, "a RESPCommand body appended different arguments when measured")
            return size
        }
    }

    /// The command of these arguments (the name first).
    public init(_ arguments: [[UInt8]]) {
        bytes = RESPEncoder.encoded(arguments)
    }

    /// `arguments` encoded as bulk strings, without an array header: a constant run for ``Writer/append(encoded:)``.
    public static func encodedArguments(_ arguments: [[UInt8]]) -> [UInt8] {
        let whole = RESPEncoder.encoded(arguments)
        return Array(whole[RESPEncoder.headerSize(arguments.count)...])
    }

    /// The same arguments as a list, for a command sent as `[[UInt8]]` (the async path): a ``RESPArgumentSink``
    /// that ``Writer`` mirrors, so that one function can write a command's arguments either way.
    public struct ArgumentList: RESPArgumentSink {
        public private(set) var arguments: [[UInt8]] = []

        public init() {}

        public mutating func append(_ argument: [UInt8]) { arguments.append(argument) }
        public mutating func append(utf8 text: String) { arguments.append(Array(text.utf8)) }
        public mutating func append(decimal value: Int64) { arguments.append(Array(String(value).utf8)) }
        public mutating func append(_ byte: UInt8, decimal value: Int64?) {
            arguments.append([byte] + (value.map { Array(String($0).utf8) } ?? []))
        }
    }

    /// The arguments back, for a client that needs them (one that routes by key, or sends in a task).
    public var arguments: [[UInt8]] {
        bytes.withUnsafeBytes { raw in
            guard case .array(let elements?) = RESPParser.value(of: raw) else { return [] }
            return elements.map { $0.bytes ?? [] }
        }
    }
}

/// Where a command's arguments are written: straight into its encoding (``RESPCommand/Writer``), or into a
/// list (``RESPCommand/ArgumentList``).
public protocol RESPArgumentSink: ~Copyable {
    /// One argument, as it is.
    mutating func append(_ argument: [UInt8])
    /// One argument: the UTF-8 of `text`.
    mutating func append(utf8 text: String)
    /// One argument: `value` in decimal.
    mutating func append(decimal value: Int64)
    /// One argument: `byte`, followed by `value` in decimal when there is one.
    mutating func append(_ byte: UInt8, decimal value: Int64?)
}

extension RESPCommand.Writer: RESPArgumentSink {}
