/// A log metadata value.
///
/// Written as a JSON string, integer, number or boolean in JSON lines, and as `key=value`
/// (quoted when needed) in text lines.
public enum LogValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral
{
    /// Text.
    case string(String)
    /// An integer.
    case int(Int64)
    /// A floating-point number; non-finite values are written as the strings `NaN`, `+Inf`, `-Inf`.
    case double(Double)
    /// A boolean.
    case bool(Bool)

    /// Creates a `.string` from a literal.
    public init(stringLiteral value: String) {
        self = .string(value)
    }

    /// Creates an `.int` from a literal.
    public init(integerLiteral value: Int64) {
        self = .int(value)
    }

    /// Creates a `.bool` from a literal.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }

    /// Creates a `.double` from a literal.
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}
