import Foundation

/// Where a page of the session list starts: after the session `(updatedAt, sessionID)`.
///
/// Clients see it only in its opaque, URL-safe encoded form.
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
        guard !encoded.isEmpty, encoded.utf8.count <= 256 else { return nil }
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard base64.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/") }) else { return nil }
        while base64.utf8.count % 4 != 0 { base64.append("=") }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "1", let millis = Int64(parts[1]), millis >= 0,
              ListCursor.isValidID(parts[2]) else { return nil }
        self.updatedAt = millis
        self.sessionID = String(parts[2])
    }

    /// The opaque, URL-safe form handed to clients as `next_cursor`.
    public var encoded: String {
        let raw = Data("1:\(updatedAt):\(sessionID)".utf8).base64EncodedString()
        return String(raw.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").prefix { $0 != "=" })
    }

    /// Whether a session sorts strictly after this cursor (newest first, ties by ID ascending).
    public func precedes(updatedAt otherUpdatedAt: Int64, sessionID otherID: String) -> Bool {
        otherUpdatedAt < updatedAt || (otherUpdatedAt == updatedAt && otherID > sessionID)
    }

    static func isValidID(_ id: Substring) -> Bool {
        SessionID.isValid(id.utf8)
    }
}
