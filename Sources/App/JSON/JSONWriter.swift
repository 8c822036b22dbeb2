import HTTPServer
import Telemetry

/// Builds JSON response bodies directly as bytes, splicing stored raw JSON in unchanged.
struct JSONWriter {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The bytes written so far.
    private(set) var bytes: [UInt8]

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends bytes that are already valid JSON (a stored state or message) or punctuation.
    mutating func raw(_ data: [UInt8]) {
        bytes.append(contentsOf: data)
    }

    /// Appends ASCII punctuation or a literal such as `null`.
    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `"name":`.
    mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends a JSON string, escaping quotes, backslashes and control characters.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        // Most strings (IDs, timestamps, label values) need no escape: copy them whole.
        let copied = text.withUTF8 { utf8 in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(JSONWriter.hexDigits[Int(byte >> 4)])
                bytes.append(JSONWriter.hexDigits[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends an integer.
    mutating func int<T: BinaryInteger>(_ value: T) {
        // Every integer the API writes fits in Int64 (versions, counts, seqs, byte sizes, milliseconds).
        DecimalDigits.append(Int64(value), to: &bytes)
    }

    /// Appends an integer or `null`.
    mutating func int<T: BinaryInteger>(_ value: T?) {
        if let value { int(value) } else { raw("null") }
    }

    /// Appends an RFC 3339 timestamp as a JSON string (`"2026-11-22T10:00:00.123Z"`), or `null`.
    mutating func timestamp(_ millisecondsSince1970: Int64?) {
        guard let millisecondsSince1970 else { return raw("null") }
        bytes.append(UInt8(ascii: "\""))
        RFC3339.append(millisecondsSince1970: millisecondsSince1970, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `true` or `false`.
    mutating func bool(_ value: Bool) {
        raw(value ? "true" : "false")
    }
}
