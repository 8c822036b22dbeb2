/// One line of the tokens file (DESIGN §9): a named token, known only by its SHA-256 digest, with
/// the access it grants and the agents it covers.
struct AccessToken: Sendable, Equatable {
    /// What a token may do. `write` implies `read`.
    enum Access: String, Sendable {
        case read, write
    }

    /// The token's name, logged as `token_name`; never the token itself.
    var name: String
    /// SHA-256 of the token's bytes.
    var digest: [UInt8]
    var access: Access
    /// The agents it covers; any one matching is enough.
    var patterns: [AgentPattern]

    /// Whether the token covers `agentID`.
    func covers(agent agentID: Substring) -> Bool {
        patterns.contains { $0.matches(agentID) }
    }

    /// Whether the token allows a request that `mutates` (anything but GET and HEAD) or only reads.
    func allows(mutation mutates: Bool) -> Bool {
        !mutates || access == .write
    }
}

/// An agent ID, or a glob in which `*` stands for any run of characters (`support-*`, `*`).
struct AgentPattern: Sendable, Equatable {
    /// The pattern's bytes; `*` is the only special one.
    let bytes: [UInt8]

    /// A pattern made of ID characters (`A-Z a-z 0-9 . _ ~ @ -`) and `*`, 1–128 bytes, or nil.
    init?(_ text: Substring) {
        let bytes = Array(text.utf8)
        guard (1...128).contains(bytes.count), bytes.allSatisfy({ $0 == UInt8(ascii: "*") || Self.isIDByte($0) }) else {
            return nil
        }
        self.bytes = bytes
    }

    /// Whether `agentID` matches, with `*` matching any run of bytes, the empty run included.
    /// Greedy with backtracking to the last `*`: O(pattern × ID) at worst, both at most a few hundred bytes.
    func matches(_ agentID: Substring) -> Bool {
        let text = Array(agentID.utf8)
        var p = 0, t = 0
        var star: Int?, resume = 0
        while t < text.count {
            if p < bytes.count, bytes[p] == UInt8(ascii: "*") {
                star = p
                resume = t
                p += 1
            } else if p < bytes.count, bytes[p] == text[t] {
                p += 1
                t += 1
            } else if let starAt = star {
                p = starAt + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < bytes.count, bytes[p] == UInt8(ascii: "*") { p += 1 }
        return p == bytes.count
    }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "@"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
