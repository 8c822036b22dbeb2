import HTTPServer
import RedisClient
import Telemetry

/// Builds JSON response bodies directly as bytes, splicing stored raw JSON in unchanged.
///
/// It writes into a buffer of its own and hands the result over as one array (``bytes``): each
/// `Array.append(contentsOf:)` of a constant cost about 90 instructions, a copy into this buffer a few.
/// Noncopyable, because it owns the buffer.
struct JSONWriter: ~Copyable {
    private static let hexDigits: StaticString = "0123456789abcdef"

    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Whether `base` was allocated here (false while writing into a buffer lent by ``body(capacity:_:)``).
    private var ownsBuffer: Bool
    /// The number of bytes written so far.
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = Swift.max(capacity, 16)
        base = .allocate(capacity: self.capacity)
        ownsBuffer = true
    }

    /// Writes into `buffer` until it is full, then into a buffer of its own.
    private init(writingInto buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
        ownsBuffer = false
    }

    deinit {
        if ownsBuffer { base.deallocate() }
    }

    /// The bytes written so far.
    var bytes: [UInt8] {
        [UInt8](UnsafeBufferPointer(start: base, count: count))
    }

    /// A body written by `write` straight into the storage of the array returned, when it fits in `capacity`
    /// bytes; otherwise the writer moves to a buffer of its own and the result is copied out of it once.
    /// (Measured on a 1 KiB session read: writing into a buffer and then copying it into an array cost one
    /// allocation and one copy of the body more, about 700 instructions.)
    static func body(capacity: Int, _ write: (inout JSONWriter) -> Void) -> [UInt8] {
        var spilled: [UInt8]?
        let written = ByteArrays.make(capacity: Swift.max(capacity, 16)) { buffer in
            var json = JSONWriter(writingInto: buffer)
            write(&json)
            guard !json.ownsBuffer else {
                spilled = json.bytes
                return 0
            }
            return json.count
        }
        return spilled ?? written
    }

    /// Makes room for `extra` more bytes.
    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let grown = Swift.max(capacity * 2, count + extra)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        bigger.initialize(from: base, count: count)
        if ownsBuffer { base.deallocate() }
        base = bigger
        capacity = grown
        ownsBuffer = true
    }

    private mutating func append(_ source: UnsafePointer<UInt8>?, _ length: Int) {
        guard let source, length > 0 else { return }
        reserve(length)
        (base + count).initialize(from: source, count: length)
        count += length
    }

    private mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    /// Appends bytes that are already valid JSON (a stored state or message) or punctuation.
    mutating func raw(_ data: [UInt8]) {
        data.withUnsafeBufferPointer { append($0.baseAddress, $0.count) }
    }

    /// Appends ASCII punctuation or a literal such as `null`.
    mutating func raw(_ text: StaticString) {
        append(text.utf8Start, text.utf8CodeUnitCount)
    }

    /// Appends `"name":`.
    mutating func key(_ name: StaticString) {
        append(UInt8(ascii: "\""))
        raw(name)
        append(UInt8(ascii: "\""))
        append(UInt8(ascii: ":"))
    }

    /// Appends a JSON string, escaping quotes, backslashes and control characters.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            // Most strings (IDs, timestamps, label values) need no escape: copy them whole.
            reserve(utf8.count + 2)
            append(UInt8(ascii: "\""))
            var clean = true
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                clean = false
                break
            }
            if clean {
                append(utf8.baseAddress, utf8.count)
            } else {
                for byte in utf8 { escape(byte) }
            }
            append(UInt8(ascii: "\""))
        }
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        case 0..<0x20:
            raw("\\u00")
            append(Self.hexDigits.utf8Start[Int(byte >> 4)])
            append(Self.hexDigits.utf8Start[Int(byte & 0xF)])
        default: append(byte)
        }
    }

    /// Appends an integer.
    mutating func int<T: BinaryInteger>(_ value: T) {
        // Every integer the API writes fits in Int64 (versions, counts, seqs, byte sizes, milliseconds).
        reserve(20)
        count += DecimalDigits.write(Int64(value), to: base + count)
    }

    /// Appends an integer or `null`.
    mutating func int<T: BinaryInteger>(_ value: T?) {
        if let value { int(value) } else { raw("null") }
    }

    /// Appends `true` or `false`.
    mutating func bool(_ value: Bool) {
        raw(value ? "true" : "false")
    }

    /// Appends an RFC 3339 timestamp as a JSON string (`"2026-11-22T10:00:00.123Z"`), or `null`.
    mutating func timestamp(_ millisecondsSince1970: Int64?) {
        guard let millisecondsSince1970 else { return raw("null") }
        reserve(RFC3339.length + 2)
        base[count] = UInt8(ascii: "\"")
        RFC3339.write(millisecondsSince1970: millisecondsSince1970, into: UnsafeMutableBufferPointer(start: base + count + 1, count: RFC3339.length))
        base[count + 1 + RFC3339.length] = UInt8(ascii: "\"")
        count += RFC3339.length + 2
    }
}
