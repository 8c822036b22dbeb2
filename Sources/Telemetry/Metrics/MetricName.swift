/// Checks of metric and label names against the Prometheus data model.
///
/// See https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels.
enum MetricName {
    /// Stops the process unless `name` and `labelNames` are valid Prometheus names.
    ///
    /// Metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`; label names match `[a-zA-Z_][a-zA-Z0-9_]*`,
    /// do not start with `__` (reserved) and are unique within the family.
    static func validate(name: String, labelNames: [String]) {
        precondition(isValidMetricName(name), "invalid metric name \"\(name)\"")
        for label in labelNames {
            precondition(isValidLabelName(label), "invalid label name \"\(label)\" on \(name)")
        }
        precondition(Set(labelNames).count == labelNames.count, "duplicate label names on \(name): \(labelNames)")
    }

    static func isValidMetricName(_ name: String) -> Bool {
        isValid(name, allowColon: true)
    }

    static func isValidLabelName(_ name: String) -> Bool {
        isValid(name, allowColon: false) && !name.hasPrefix("__")
    }

    private static func isValid(_ name: String, allowColon: Bool) -> Bool {
        guard let first = name.utf8.first else { return false }
        func isLetter(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || c == UInt8(ascii: "_") || (allowColon && c == UInt8(ascii: ":"))
        }
        guard isLetter(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
    }
}
