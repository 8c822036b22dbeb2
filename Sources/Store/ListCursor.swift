/// Where a page of the session list starts: after the session `(updatedAt, sessionID)`.
///
/// Clients treat it as opaque. Its form is `<updatedAt ms>-<session_id>`, which a schema can
/// describe exactly (`^[0-9]{1,15}-<ID rule>$`), so every well-formed cursor is a valid one.
public struct ListCursor: Sendable, Hashable {
    /// `updatedAt` (ms) of the last session of the previous page.
    public var updatedAt: Int64
    /// `sessionID` of the last session of the previous page.
    public var sessionID: String

    /// A cursor positioned just after the session `(updatedAt, sessionID)`.
    public init(updatedAt: Int64, sessionID: String) {
        self.updatedAt = updatedAt
        self.sessionID = sessionID
    }

    /// Decodes the opaque form; nil when it is malformed.
    public init?(encoded: String) {
        let utf8 = encoded.utf8
        guard let dash = utf8.firstIndex(of: UInt8(ascii: "-")) else { return nil }
        let digits = utf8[..<dash]
        let id = utf8[utf8.index(after: dash)...]
        guard (1...15).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let millis = Int64(String(decoding: digits, as: UTF8.self)), SessionID.isValid(id) else { return nil }
        self.updatedAt = millis
        self.sessionID = String(decoding: id, as: UTF8.self)
    }

    /// The opaque form handed to clients as `next_cursor`.
    public var encoded: String {
        "\(updatedAt)-\(sessionID)"
    }

    /// Whether a session sorts strictly after this cursor (newest first, ties by ID descending).
    public func precedes(updatedAt otherUpdatedAt: Int64, sessionID otherID: String) -> Bool {
        otherUpdatedAt < updatedAt || (otherUpdatedAt == updatedAt && otherID < sessionID)
    }
}
