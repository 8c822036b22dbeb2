/// Input that does not follow the RESP2 wire format, or that exceeds a ``RESPParser`` limit.
///
/// After this error the byte stream cannot be resynchronised: the connection must be closed.
public struct RESPProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of violation this is; compare against the static members.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidTypeByte, invalidInteger, invalidLength, missingCRLF
            case lineTooLong, bulkTooLarge, arrayTooLarge, nestingTooDeep
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The first byte of a value is not one of `+ - : $ *`.
        public static let invalidTypeByte = Code(.invalidTypeByte)
        /// An integer reply is not a valid 64-bit decimal integer.
        public static let invalidInteger = Code(.invalidInteger)
        /// A bulk or array length is malformed, or negative other than `-1`.
        public static let invalidLength = Code(.invalidLength)
        /// A line or bulk payload is not terminated by CRLF.
        public static let missingCRLF = Code(.missingCRLF)
        /// A header or simple-string line exceeds ``RESPParser/maxLineBytes``.
        public static let lineTooLong = Code(.lineTooLong)
        /// A bulk string exceeds ``RESPParser/maxBulkBytes``.
        public static let bulkTooLarge = Code(.bulkTooLarge)
        /// An array exceeds ``RESPParser/maxArrayCount``.
        public static let arrayTooLarge = Code(.arrayTooLarge)
        /// Arrays are nested deeper than ``RESPParser/maxDepth``.
        public static let nestingTooDeep = Code(.nestingTooDeep)

        /// The code's name, e.g. `invalidTypeByte`.
        public var description: String { base.rawValue }
    }

    /// What kind of violation this is.
    public let code: Code
    /// A human-readable explanation (never contains payload bytes beyond a single type byte).
    public let message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of violation.
    ///   - message: A human-readable explanation.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `RESP protocol error (code): message`.
    public var description: String { "RESP protocol error (\(code)): \(message)" }
}
