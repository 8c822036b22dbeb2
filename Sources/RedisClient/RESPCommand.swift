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
        bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var writer = Writer(buffer: buffer)
            writer.offset = RESPEncoder.writeHeader(UInt8(ascii: "*"), argumentCount, into: buffer, at: 0)
            body(&writer)
            precondition(writer.offset == size, "a RESPCommand body appended different arguments when measured")
            count = size
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

    /// The arguments back, for a client that needs them (one that routes by key, or sends in a task).
    public var arguments: [[UInt8]] {
        bytes.withUnsafeBytes { raw in
            guard case .array(let elements?) = RESPParser.value(of: raw) else { return [] }
            return elements.map { $0.bytes ?? [] }
        }
    }
}
