/// Writes integers as ASCII decimal digits straight into a byte buffer, without building a `String`.
///
/// Not generic on purpose: a generic version called from another module runs unspecialized, with its
/// divisions through protocol witnesses.
public enum DecimalDigits {
    /// Appends `value` in decimal (with a leading `-` when negative).
    public static func append(_ value: Int, to output: inout [UInt8]) {
        append(Int64(value), to: &output)
    }

    /// Appends `value` in decimal (with a leading `-` when negative).
    public static func append(_ value: Int64, to output: inout [UInt8]) {
        if value < 0 {
            output.append(UInt8(ascii: "-"))
            // The magnitude of Int64.min does not fit in Int64: negate in UInt64.
            append(UInt64(0) &- UInt64(bitPattern: value), to: &output)
        } else {
            append(UInt64(value), to: &output)
        }
    }

    /// Appends `value` in decimal.
    public static func append(_ value: UInt64, to output: inout [UInt8]) {
        var divisor: UInt64 = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            output.append(UInt8(truncatingIfNeeded: 0x30 &+ rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// The most bytes ``write(_:to:)`` writes: `-9223372036854775808`.
    public static let maxLength = 20

    /// Writes `value` in decimal (with a leading `-` when negative) at `output`, which must have room for
    /// ``maxLength`` bytes; returns how many it wrote.
    public static func write(_ value: Int64, to output: UnsafeMutablePointer<UInt8>) -> Int {
        var sign = 0
        if value < 0 {
            output[0] = UInt8(ascii: "-")
            sign = 1
        }
        // The magnitude of Int64.min does not fit in Int64: take it in UInt64.
        var rest = value < 0 ? UInt64(0) &- UInt64(bitPattern: value) : UInt64(value)
        var digits = 1
        var scale: UInt64 = 10
        while digits < 20 && rest >= scale {
            digits += 1
            scale = scale &* 10
        }
        var position = sign + digits - 1
        repeat {
            output[position] = UInt8(truncatingIfNeeded: 0x30 &+ rest % 10)
            rest /= 10
            position -= 1
        } while position >= sign
        return sign + digits
    }
}
