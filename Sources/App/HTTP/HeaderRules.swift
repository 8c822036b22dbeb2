import Foundation
import HTTPServer
import Store

/// Validation of the request headers the API gives meaning to.
enum HeaderRules {
    /// Whether a `Content-Type` value is JSON: `application/json` or `*/*+json`, case-insensitive,
    /// parameters allowed. A missing header is read as JSON.
    ///
    /// Checked on the UTF-8 bytes with ASCII case folding: this runs on every PUT and POST, and
    /// Foundation's trimming and lowercasing cost about 46K instructions a call (BENCHMARKS.md).
    static func isJSONMediaType(_ value: String?) -> Bool {
        guard var value else { return true }
        return value.withUTF8(isJSONMediaType(bytes:))
    }

    /// ``isJSONMediaType(_:)`` on a field value's bytes.
    static func isJSONMediaType(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
        var start = 0
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        let mediaType = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if asciiLowercaseEquals(mediaType, "application/json") { return true }
        guard let slash = mediaType.firstIndex(of: UInt8(ascii: "/")), slash > 0 else { return false }
        let subtype = UnsafeBufferPointer(rebasing: mediaType[(slash + 1)...])
        guard subtype.count > 5, asciiLowercaseEquals(UnsafeBufferPointer(rebasing: subtype[(subtype.count - 5)...]), "+json") else {
            return false
        }
        // A second slash is not a token byte, so this also refuses `a/b/c+json`.
        for (index, byte) in mediaType.enumerated() where index != slash {
            if !isTokenByte(asciiLowercased(byte)) { return false }
        }
        return true
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// Whether `bytes` equals the lowercase ASCII `word`, ignoring ASCII case.
    private static func asciiLowercaseEquals(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        let literal = word.utf8Start
        for index in 0..<bytes.count where asciiLowercased(bytes[index]) != literal[index] { return false }
        return true
    }

    /// Parses an entity-tag list (`*`, or `"3", W/"4"`) into versions.
    /// - Parameters:
    ///   - values: the header's field values (one per header line).
    ///   - allowWeak: whether weak tags count (true for `If-None-Match`, false for `If-Match`).
    /// - Returns: nil when the header is absent; tags that are not a version never match.
    /// - Throws: `invalid_request` when a value is not `*` or a list of entity tags
    ///   (`^(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)$`, as openapi.yaml says).
    static func entityTags(_ values: [String], allowWeak: Bool, header: String) throws(APIError) -> ETagSet? {
        guard !values.isEmpty else { return nil }
        guard values.allSatisfy(isEntityTagList) else {
            throw APIError.invalidRequest("\(header) must be * or a comma-separated list of entity tags such as \"3\".")
        }
        var versions: [Int64] = []
        for value in values {
            for rawTag in value.split(separator: ",") {
                var tag = rawTag.trimmingCharacters(in: .whitespaces)[...]
                if tag == "*" { return .any }
                if tag.hasPrefix("W/") {
                    guard allowWeak else { continue }
                    tag = tag.dropFirst(2)
                }
                guard tag.count >= 3, tag.first == "\"", tag.last == "\"",
                      let version = Int64(tag.dropFirst().dropLast()) else { continue }
                versions.append(version)
            }
        }
        return .versions(versions)
    }

    /// Whether `value` is `*` or a list of entity tags separated by commas and spaces.
    static func isEntityTagList(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        if bytes == [UInt8(ascii: "*")] { return true }
        var index = 0
        func skipSpaces() { while index < bytes.count, bytes[index] == 0x20 { index += 1 } }
        while true {
            if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "W"), bytes[index + 1] == UInt8(ascii: "/") { index += 2 }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return false }
            index += 1
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                guard bytes[index] >= 0x21, bytes[index] <= 0x7E else { return false }
                index += 1
            }
            guard index < bytes.count else { return false }
            index += 1
            if index == bytes.count { return true }
            skipSpaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return false }
            index += 1
            skipSpaces()
        }
    }

    /// The strong ETag for a session version.
    static func etag(_ version: Int64) -> String {
        // Digits written in place: interpolation built the number's description and then appended it (about
        // 450 instructions); a tag of up to 13 digits is a small string, never allocated.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: DecimalDigits.maxLength + 2) { buffer in
            let base = buffer.baseAddress!
            base[0] = UInt8(ascii: "\"")
            let digits = DecimalDigits.write(version, to: base + 1)
            base[digits + 1] = UInt8(ascii: "\"")
            return String(decoding: UnsafeBufferPointer(start: base, count: digits + 2), as: UTF8.self)
        }
    }

    /// The `Fencing-Token` header (DESIGN §11): nil when absent, else a non-negative decimal
    /// integer; one beyond `Int64.max` counts as `Int64.max` (it can never be stale).
    /// - Throws: `invalid_request` for anything else, or for the header given twice.
    static func fencingToken(_ values: [String]) throws(APIError) -> Int64? {
        guard !values.isEmpty else { return nil }
        let invalid = APIError.invalidRequest("Fencing-Token must be one non-negative decimal integer.")
        guard values.count == 1 else { throw invalid }
        let text = values[0].utf8
        guard !text.isEmpty, text.count <= 4096, text.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw invalid }
        return Int64(values[0]) ?? .max
    }

    /// Whether an `Idempotency-Key` is 1–128 visible ASCII characters.
    static func isValidIdempotencyKey(_ key: String) -> Bool {
        let count = key.utf8.count
        return count >= 1 && count <= 128 && key.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    /// Whether an incoming `X-Request-Id` may be echoed: `^[A-Za-z0-9._:@-]{1,128}$`.
    static func isValidRequestID(_ id: String) -> Bool {
        let count = id.utf8.count
        return count >= 1 && count <= 128 && id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "-")
        }
    }

    /// The punctuation allowed in an RFC 9110 token.
    private static let tokenPunctuation: Set<UInt8> = Set("!#$%&'*+-.^_`|~".utf8)

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return tokenPunctuation.contains(byte)
        }
    }
}
