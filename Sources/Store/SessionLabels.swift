/// A session's labels (DESIGN §11): at most 16 `key: value` pairs.
///
/// A key matches `^[a-z][a-z0-9_]{0,62}$`; a value is 1–256 bytes of UTF-8. The HTTP layer
/// validates both with `isValidKey`/`isValidValue` before they reach a store.
public typealias SessionLabels = [String: String]

/// The rules for labels and label filters.
public enum LabelRules {
    /// Most labels one session may carry.
    public static let maxLabels = 16
    /// Longest value, in bytes.
    public static let maxValueBytes = 256

    /// Whether `key` matches `^[a-z][a-z0-9_]{0,62}$`.
    public static func isValidKey(_ key: String) -> Bool {
        var count = 0
        for byte in key.utf8 {
            count += 1
            let lower = byte >= 0x61 && byte <= 0x7A
            if count == 1 {
                if !lower { return false }
            } else if !(lower || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F) {
                return false
            }
        }
        return count >= 1 && count <= 63
    }

    /// Whether `value` is 1–256 bytes.
    public static func isValidValue(_ value: String) -> Bool {
        (1...maxValueBytes).contains(value.utf8.count)
    }
}

/// One label, as a filter of the session list (`?label=key:value`).
public struct LabelFilter: Sendable, Hashable {
    /// A valid label key.
    public var key: String
    /// A valid label value.
    public var value: String

    /// A filter for sessions carrying exactly `key: value`.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
