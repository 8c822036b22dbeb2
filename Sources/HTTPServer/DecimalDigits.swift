/// Writes integers as ASCII decimal digits straight into a byte buffer, without building a `String`.
public enum DecimalDigits {
    /// Appends `value` in decimal (with a leading `-` when negative).
    public static func append<T: BinaryInteger>(_ value: T, to output: inout [UInt8]) {
        if value < 0 {
            output.append(UInt8(ascii: "-"))
            // The magnitude of the most negative value does not fit in T: go through UInt64.
            appendMagnitude(UInt64(0) &- UInt64(truncatingIfNeeded: Int64(value)), to: &output)
        } else {
            appendMagnitude(UInt64(value), to: &output)
        }
    }

    private static func appendMagnitude(_ value: UInt64, to output: inout [UInt8]) {
        var divisor: UInt64 = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            output.append(UInt8(truncatingIfNeeded: 0x30 &+ rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
