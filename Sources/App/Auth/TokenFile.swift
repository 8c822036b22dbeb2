/// The tokens file of `--auth-tokens-file` (DESIGN §9): one token per line,
/// `<name> <sha256-hex-of-token> <read|write> <agent-pattern>[,<agent-pattern>…]`; `#` starts a comment.
enum TokenFile {
    /// The largest tokens file read, so a wrong path (a log, a device) cannot exhaust memory.
    static let maxBytes = 1 << 20

    /// Why a tokens file was refused, with the physical line (comments and blank lines count).
    struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The 1-based line number, or 0 for a fault of the file as a whole.
        var line: Int
        var reason: String

        var description: String { line > 0 ? "line \(line): \(reason)" : reason }
    }

    /// Parses the whole file; any bad line refuses it whole.
    /// - Throws: ``ParseError`` naming the first bad line.
    static func parse(_ text: String) throws(ParseError) -> [AccessToken] {
        var tokens: [AccessToken] = []
        var names = Set<String>()
        var digests = Set<[UInt8]>()
        var number = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = rawLine
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 4 else {
                throw ParseError(line: number, reason: "expected 4 fields (name, sha256 hex digest, read|write, agent patterns), found \(fields.count)")
            }
            let name = String(fields[0])
            guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(isNameByte) else {
                throw ParseError(line: number, reason: "a token name is 1-64 characters of A-Z a-z 0-9 . _ -")
            }
            guard names.insert(name).inserted else { throw ParseError(line: number, reason: "token name '\(name)' appears twice") }
            guard let digest = hexBytes(fields[1]), digest.count == 32 else {
                throw ParseError(line: number, reason: "the digest must be 64 hex characters (SHA-256 of the token)")
            }
            guard digests.insert(digest).inserted else { throw ParseError(line: number, reason: "this digest appears twice") }
            guard let access = AccessToken.Access(rawValue: String(fields[2])) else {
                throw ParseError(line: number, reason: "access must be read or write")
            }
            var patterns: [AgentPattern] = []
            for text in fields[3].split(separator: ",", omittingEmptySubsequences: false) {
                guard let pattern = AgentPattern(text) else {
                    throw ParseError(line: number, reason: "an agent pattern is an agent ID or a glob with *, 1-128 characters")
                }
                patterns.append(pattern)
            }
            tokens.append(AccessToken(name: name, digest: digest, access: access, patterns: patterns))
        }
        return tokens
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// The bytes of an even-length hex string (either case), or nil.
    static func hexBytes(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
