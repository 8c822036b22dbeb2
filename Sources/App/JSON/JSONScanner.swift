/// A strict RFC 8259 JSON validator that keeps values as raw bytes.
///
/// agentstate never decodes a client's `state` or message data into numbers and re-encodes it:
/// values round-trip byte for byte. The scanner only checks syntax and reports where each
/// member of the top-level object lies, so the handlers can copy those bytes verbatim.
/// See <https://www.rfc-editor.org/rfc/rfc8259>.
struct JSONScanner {
    /// The kind of a JSON value, from its first byte.
    enum Kind: Sendable, Equatable {
        case object, array, string, number, bool, null
    }

    /// One member of the top-level object: its decoded name and where its value's bytes are.
    struct Member: Sendable {
        var name: String
        var range: Range<Int>
        var kind: Kind
    }

    /// Why a document is not valid JSON.
    struct SyntaxError: Error, Sendable, Equatable {
        /// Byte offset of the problem.
        var offset: Int
        var reason: String
    }

    /// Deepest nesting accepted; deeper documents are rejected as invalid rather than risking the stack.
    static let maxDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index: Int

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = 0
    }

    /// Validates a whole document and returns the members of its top level, or nil members when the
    /// top-level value is valid JSON but not an object.
    /// - Throws: `SyntaxError` when the bytes are not one valid JSON value (whitespace around it allowed).
    static func topLevelMembers(of document: [UInt8]) throws(SyntaxError) -> [Member]? {
        try document.withUnsafeBufferPointer { (buffer) throws(SyntaxError) -> [Member]? in
            var scanner = JSONScanner(buffer)
            scanner.skipWhitespace()
            var members: [Member]? = nil
            if scanner.peek() == UInt8(ascii: "{") {
                members = try scanner.scanObjectMembers()
            } else {
                _ = try scanner.scanValue(depth: 0)
            }
            scanner.skipWhitespace()
            guard scanner.index == buffer.count else {
                throw SyntaxError(offset: scanner.index, reason: "unexpected data after the JSON value")
            }
            return members
        }
    }

    /// Splits an already-validated array value into the byte ranges of its elements.
    /// - Parameter range: the array's range inside `document`, as reported by `topLevelMembers`.
    static func arrayElements(of document: [UInt8], in range: Range<Int>) -> [Range<Int>] {
        document.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            scanner.index = range.lowerBound + 1
            var elements: [Range<Int>] = []
            scanner.skipWhitespace()
            if scanner.peek() == UInt8(ascii: "]") { return elements }
            while scanner.index < range.upperBound {
                scanner.skipWhitespace()
                let start = scanner.index
                // The document was validated already, so this cannot fail.
                guard (try? scanner.scanValue(depth: 1)) != nil else { return elements }
                elements.append(start..<scanner.index)
                scanner.skipWhitespace()
                if scanner.peek() == UInt8(ascii: ",") { scanner.index += 1 } else { break }
            }
            return elements
        }
    }

    // MARK: - Grammar

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func fail(_ reason: String) -> SyntaxError {
        SyntaxError(offset: index, reason: reason)
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(SyntaxError) {
        guard peek() == byte else { throw fail("expected \(what)") }
        index += 1
    }

    /// Scans the top-level object, recording each member's name and value range.
    private mutating func scanObjectMembers() throws(SyntaxError) -> [Member] {
        index += 1  // '{'
        var members: [Member] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return members
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let name = try scanString(decode: true) ?? ""
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':'")
            skipWhitespace()
            let start = index
            let kind = try scanValue(depth: 1)
            members.append(Member(name: name, range: start..<index, kind: kind))
            skipWhitespace()
            guard let byte = peek() else { throw fail("unterminated object") }
            index += 1
            if byte == UInt8(ascii: "}") { return members }
            guard byte == UInt8(ascii: ",") else { throw fail("expected ',' or '}'") }
        }
    }

    /// Scans one value starting at `index` (no leading whitespace) and returns its kind.
    private mutating func scanValue(depth: Int) throws(SyntaxError) -> Kind {
        guard depth <= JSONScanner.maxDepth else { throw fail("nesting deeper than \(JSONScanner.maxDepth)") }
        guard let byte = peek() else { throw fail("expected a value") }
        switch byte {
        case UInt8(ascii: "{"):
            try scanContainer(close: UInt8(ascii: "}"), depth: depth, isObject: true)
            return .object
        case UInt8(ascii: "["):
            try scanContainer(close: UInt8(ascii: "]"), depth: depth, isObject: false)
            return .array
        case UInt8(ascii: "\""):
            _ = try scanString(decode: false)
            return .string
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            return .bool
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            return .bool
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            return .number
        default:
            throw fail("unexpected character")
        }
    }

    private mutating func scanContainer(close: UInt8, depth: Int, isObject: Bool) throws(SyntaxError) {
        index += 1
        skipWhitespace()
        if peek() == close {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            if isObject {
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                _ = try scanString(decode: false)
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhitespace()
            }
            _ = try scanValue(depth: depth + 1)
            skipWhitespace()
            guard let byte = peek() else { throw fail("unterminated container") }
            index += 1
            if byte == close { return }
            guard byte == UInt8(ascii: ",") else { throw fail("expected ',' or a closing bracket") }
        }
    }

    private mutating func scanLiteral(_ literal: StaticString) throws(SyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("invalid literal") }
        let base = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != base[offset] {
            throw fail("invalid literal")
        }
        index += count
    }

    private mutating func digits() -> Int {
        let start = index
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
        return index - start
    }

    private mutating func scanNumber() throws(SyntaxError) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), first >= 0x30, first <= 0x39 else { throw fail("invalid number") }
        if first == 0x30 {
            index += 1
        } else {
            _ = digits()
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw fail("invalid number fraction") }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("invalid number exponent") }
        }
    }

    /// Scans a string, validating escapes and UTF-8. Returns the decoded text when `decode` is set.
    private mutating func scanString(decode: Bool) throws(SyntaxError) -> String? {
        index += 1  // opening quote
        let start = index
        var hasEscapes = false
        while true {
            index = Self.plainASCIIEnd(bytes, from: index)
            guard index < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                break
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                index += 1
                guard let escaped = peek() else { throw fail("unterminated escape") }
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    for _ in 0..<4 {
                        guard let hex = peek(), JSONScanner.hexValue(hex) != nil else { throw fail("invalid \\u escape") }
                        index += 1
                    }
                default:
                    throw fail("invalid escape")
                }
            } else if byte < 0x20 {
                throw fail("control character in string")
            } else if byte < 0x80 {
                index += 1
            } else {
                try scanUTF8Sequence()
            }
        }
        let end = index
        index += 1  // closing quote
        guard decode else { return nil }
        let raw = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if !hasEscapes { return String(decoding: raw, as: UTF8.self) }
        return JSONScanner.unescape(raw)
    }

    /// The offset of the first byte from `start` on that a string cannot take as it is: a quote, a
    /// backslash, a control character or a non-ASCII byte (or `bytes.count`).
    ///
    /// Eight bytes at a time while none of them is one (SWAR: a byte is found by the borrow of a
    /// subtraction, see "Determine if a word has a byte less than n" in Bit Twiddling Hacks), then byte by
    /// byte. A state document is mostly long plain strings: this took the scan from about 14 to 3
    /// instructions a byte.
    static func plainASCIIEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return start }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var index = start
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            let special = (word & highs)  // a byte from 0x80
                | ((word &- ones &* 0x20) & ~word & highs)  // a byte below 0x20
                | ((quote &- ones) & ~quote & highs)  // a quote
                | ((backslash &- ones) & ~backslash & highs)  // a backslash
            if special != 0 { break }
            index += 8
        }
        while index < bytes.count {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { break }
            index += 1
        }
        return index
    }

    /// Validates one multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
    private mutating func scanUTF8Sequence() throws(SyntaxError) {
        let lead = bytes[index]
        let length: Int
        var lowerSecond: UInt8 = 0x80
        var upperSecond: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowerSecond = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upperSecond = 0x9F
        case 0xF0: length = 4; lowerSecond = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upperSecond = 0x8F
        default: throw fail("invalid UTF-8")
        }
        guard index + length <= bytes.count else { throw fail("truncated UTF-8") }
        let second = bytes[index + 1]
        guard second >= lowerSecond, second <= upperSecond else { throw fail("invalid UTF-8") }
        for offset in 2..<max(2, length) {
            let continuation = bytes[index + offset]
            guard continuation & 0xC0 == 0x80 else { throw fail("invalid UTF-8") }
        }
        index += length
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: return UInt32(byte - 0x30)
        case 0x41...0x46: return UInt32(byte - 0x41 + 10)
        case 0x61...0x66: return UInt32(byte - 0x61 + 10)
        default: return nil
        }
    }

    /// Decodes an already-validated string value (quotes included in `range`) of `document`.
    static func decodedString(of document: [UInt8], in range: Range<Int>) -> String {
        document.withUnsafeBufferPointer { buffer in
            unescape(UnsafeBufferPointer(rebasing: buffer[(range.lowerBound + 1)..<(range.upperBound - 1)]))
        }
    }

    /// Decodes the escapes of an already-validated string body. Lone surrogates become U+FFFD.
    private static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 << 4 | (hexValue(raw[at + $1]) ?? 0) }
        }
        func appendScalar(_ value: UInt32) {
            let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        while i < raw.count {
            let byte = raw[i]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                i += 1
                continue
            }
            let escaped = raw[i + 1]
            i += 2
            switch escaped {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var value = hex4(i)
                i += 4
                if (0xD800...0xDBFF).contains(value), i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(i + 2)
                    if (0xDC00...0xDFFF).contains(low) {
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                appendScalar(value)
            default: out.append(escaped)  // '"', '\\', '/'
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
