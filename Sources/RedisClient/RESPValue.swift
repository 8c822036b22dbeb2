/// One RESP2 reply value.
///
/// See the [RESP2 specification](https://redis.io/docs/latest/develop/reference/protocol-spec/).
/// A RESP null (`$-1` or `*-1`) is represented as `.bulkString(nil)` or `.array(nil)`.
public enum RESPValue: Sendable, Equatable {
    /// A simple string (`+OK`).
    case simpleString(String)
    /// An error reply (`-ERR message`). ``RedisClient/send(_:)`` throws these as ``RedisError``;
    /// they appear as values only inside arrays (for example `EXEC` results).
    case error(String)
    /// An integer reply (`:42`).
    case integer(Int64)
    /// A binary-safe bulk string (`$3\r\nfoo`), or `nil` for the null bulk string (`$-1`).
    case bulkString([UInt8]?)
    /// An array of values (`*2\r\n…`), or `nil` for the null array (`*-1`).
    case array([RESPValue]?)
}

extension RESPValue {
    /// The value of an integer reply, or of a bulk or simple string holding a decimal integer; otherwise `nil`.
    public var int: Int64? {
        switch self {
        case .integer(let value):
            return value
        case .bulkString(let bytes?):
            return Self.decimal(bytes)
        case .simpleString(let string):
            return Int64(string)
        default:
            return nil
        }
    }

    /// `bytes` read as `Int64(String)` reads text (an optional sign, then decimal digits, no overflow),
    /// without building the `String`.
    static func decimal(_ bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBufferPointer { decimal($0, allowsPlus: true) }
    }

    /// Decimal digits after an optional `-` (and `+`, when `allowsPlus`), with no whitespace, in `Int64`;
    /// nil for anything else or an overflow. Shared with ``RESPParser``'s integer and length lines.
    static func decimal(_ digits: UnsafeBufferPointer<UInt8>, allowsPlus: Bool) -> Int64? {
        var index = 0
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "-") || (allowsPlus && sign == UInt8(ascii: "+")) {
            negative = sign == UInt8(ascii: "-")
            index = 1
        }
        guard index < digits.count else { return nil }
        var value: Int64 = 0
        if digits.count - index <= 18 {
            // Up to 18 digits cannot overflow: no check per digit.
            while index < digits.count {
                let digit = digits[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value &* 10 &+ Int64(digit)
                index += 1
            }
            return negative ? -value : value
        }
        while index < digits.count {
            let digit = digits[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            // Accumulated with its sign, so that Int64.min fits.
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = negative ? shifted.subtractingReportingOverflow(Int64(digit))
                                             : shifted.addingReportingOverflow(Int64(digit))
            if overflowA || overflowB { return nil }
            value = next
            index += 1
        }
        return value
    }

    /// The bytes of a bulk string or simple string; `nil` for null and for every other type.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes):
            return bytes
        case .simpleString(let string):
            return Array(string.utf8)
        default:
            return nil
        }
    }

    /// The text of a simple string, or of a bulk string that is valid UTF-8; otherwise `nil`.
    public var string: String? {
        switch self {
        case .simpleString(let string):
            return string
        case .bulkString(let bytes?):
            return String(validating: bytes, as: UTF8.self)
        default:
            return nil
        }
    }

    /// The elements of a non-null array; otherwise `nil`.
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is the null bulk string or the null array.
    public var isNull: Bool {
        switch self {
        case .bulkString(nil), .array(nil):
            return true
        default:
            return false
        }
    }
}

extension RESPValue: CustomStringConvertible {
    /// A short human-readable rendering for debugging; bulk strings show as UTF-8 (lossy) in quotes.
    public var description: String {
        switch self {
        case .simpleString(let string):
            return "+\(string)"
        case .error(let message):
            return "-\(message)"
        case .integer(let value):
            return ":\(value)"
        case .bulkString(nil), .array(nil):
            return "(nil)"
        case .bulkString(let bytes?):
            return "\"\(String(decoding: bytes, as: UTF8.self))\""
        case .array(let elements?):
            return "[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
