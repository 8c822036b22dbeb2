/// Rendering helpers for the Prometheus text exposition format 0.0.4.
///
/// See https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format.
public enum Exposition {
    /// Formats a sample value or a bucket bound the way this registry always does.
    ///
    /// - Integral values below 10^15 in magnitude print as integers, without `.0` or exponent
    ///   (`1`, `1048576`, `-3`), as Prometheus' Go client does for small integers.
    /// - Other finite values print in Swift's shortest round-trip form (`0.00025`, `2.5`, `1e-05`, `1e+20`).
    /// - Non-finite values are spelled `+Inf`, `-Inf` and `NaN`.
    ///
    /// - Parameter value: The value to format.
    /// - Returns: The text for a sample value or an `le` label.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == value.rounded(.towardZero), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return value.description
    }

    /// Escapes a label value: backslash, double quote and line feed.
    ///
    /// - Parameter value: The raw label value.
    /// - Returns: The text to put between the quotes of `name="…"`.
    public static func escapeLabelValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") })
        else { return value }
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count + 8)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Escapes `# HELP` text: backslash and line feed.
    ///
    /// - Parameter help: The raw help text.
    /// - Returns: The text to put after `# HELP name `.
    public static func escapeHelp(_ help: String) -> String {
        guard help.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") }) else { return help }
        var escaped = ""
        escaped.reserveCapacity(help.utf8.count + 8)
        for scalar in help.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Appends the `# HELP` and `# TYPE` lines of a family.
    static func writeHeader(name: String, help: String, type: MetricType, to out: inout String) {
        out += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }

    /// Appends one sample line: `name{a="x",b="y"} value`.
    ///
    /// - Parameters:
    ///   - extraLabel: An additional label written last, such as a histogram's `le`.
    static func writeSample(
        name: String, labelNames: [String], labelValues: [String], extraLabel: (name: String, value: String)? = nil,
        value: String, to out: inout String
    ) {
        out += name
        if !labelNames.isEmpty || extraLabel != nil {
            out += "{"
            var first = true
            for (label, labelValue) in zip(labelNames, labelValues) {
                if !first { out += "," }
                first = false
                out += "\(label)=\"\(escapeLabelValue(labelValue))\""
            }
            if let extraLabel {
                if !first { out += "," }
                out += "\(extraLabel.name)=\"\(escapeLabelValue(extraLabel.value))\""
            }
            out += "}"
        }
        out += " \(value)\n"
    }
}
