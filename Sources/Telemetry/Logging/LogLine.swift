/// The fields of one log line being written, for ``Logger/log(_:_:fields:)``: each call appends one
/// `key: value` in the logger's format, with no metadata array and no `LogValue` in between.
///
/// A key is written as it is: it must be plain (letters, digits and `_`, as every ``LogKey`` is).
/// Values are escaped as in every other line.
public struct LogFields: ~Copyable {
    var out: LogBytes
    let format: Logger.Format

    init(format: Logger.Format, capacity: Int) {
        self.format = format
        out = LogBytes(capacity: capacity)
    }

    /// Appends a string field.
    public mutating func string(_ key: String, _ value: String) {
        self.key(key)
        stringValue(value)
    }

    /// Appends an integer field.
    public mutating func int(_ key: String, _ value: Int64) {
        self.key(key)
        LogLine.appendDecimal(value, to: &out)
    }

    /// Appends a number field; non-finite values as the strings `NaN`, `+Inf`, `-Inf`.
    public mutating func double(_ key: String, _ value: Double) {
        self.key(key)
        doubleValue(value)
    }

    /// Appends a boolean field.
    public mutating func bool(_ key: String, _ value: Bool) {
        self.key(key)
        LogLine.appendStatic(value ? "true" : "false", to: &out)
    }

    /// Appends a field of any ``LogValue``, with a key that is escaped when it needs to be.
    mutating func value(_ key: String, _ value: LogValue) {
        if format == .json {
            out.append(UInt8(ascii: ","))
            LogLine.appendJSONString(key, to: &out)
            out.append(UInt8(ascii: ":"))
        } else {
            out.append(UInt8(ascii: " "))
            LogLine.appendEscaped(key, to: &out)
            out.append(UInt8(ascii: "="))
        }
        switch value {
        case .string(let string): stringValue(string)
        case .int(let int): LogLine.appendDecimal(int, to: &out)
        case .bool(let bool): LogLine.appendStatic(bool ? "true" : "false", to: &out)
        case .double(let double): doubleValue(double)
        }
    }

    /// A string value: JSON-quoted, or in text as it is unless it needs quotes.
    private mutating func stringValue(_ value: String) {
        if format == .json || LogLine.needsQuotes(value) {
            LogLine.appendJSONString(value, to: &out)
        } else {
            LogLine.appendString(value, to: &out)
        }
    }

    /// A number value; non-finite ones as the strings `NaN`, `+Inf`, `-Inf` (quoted in JSON).
    private mutating func doubleValue(_ value: Double) {
        if value.isFinite {
            LogLine.appendDouble(value, to: &out)
        } else if format == .json {
            LogLine.appendJSONString(Exposition.format(value), to: &out)
        } else {
            LogLine.appendString(Exposition.format(value), to: &out)
        }
    }

    private mutating func key(_ key: String) {
        assert(key.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) },
               "a LogFields key must be plain: \(key)")
        if format == .json {
            LogLine.appendStatic(#",""#, to: &out)
            LogLine.appendString(key, to: &out)
            LogLine.appendStatic(#"":"#, to: &out)
        } else {
            out.append(UInt8(ascii: " "))
            LogLine.appendString(key, to: &out)
            out.append(UInt8(ascii: "="))
        }
    }

    /// Appends what precedes the fields: `{"time":…,"level":…,"msg":…` or `time LEVEL msg`.
    mutating func begin(time: Int64, level: Logger.Level, message: String) {
        if format == .json {
            LogLine.appendStatic(#"{"time":""#, to: &out)
            LogLine.appendTime(time, to: &out)
            LogLine.appendStatic(#"","level":""#, to: &out)
            LogLine.appendString(level.rawValue, to: &out)
            LogLine.appendStatic(#"","msg":"#, to: &out)
            LogLine.appendJSONString(message, to: &out)
        } else {
            LogLine.appendTime(time, to: &out)
            out.append(UInt8(ascii: " "))
            LogLine.appendString(level.rawValue.uppercased(), to: &out)
            out.append(UInt8(ascii: " "))
            LogLine.appendEscaped(message, to: &out)
        }
    }

    /// Appends what ends the line.
    mutating func end() {
        if format == .json {
            LogLine.appendStatic("}\n", to: &out)
        } else {
            out.append(UInt8(ascii: "\n"))
        }
    }
}

/// The bytes of one log line: a buffer of its own that grows by doubling, so that appending a piece is a
/// bounds check and a copy (an `Array` append checks uniqueness and capacity through more layers: about
/// 95 instructions a piece, 25 pieces a line).
struct LogBytes: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = Swift.max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if count + bytes.count > capacity { grow(to: count + bytes.count) }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    mutating func append<Bytes: Sequence>(contentsOf bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes { append(byte) }
    }

    /// Calls `body` with the bytes written so far.
    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        body(UnsafeBufferPointer(start: base, count: count))
    }

    private mutating func grow(to needed: Int) {
        let grown = Swift.max(needed, capacity * 2)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = grown
    }
}

/// Encoders of the parts of a log line, appended as UTF-8 bytes to a caller's buffer.
enum LogLine {
    /// Appends `{"time":…,"level":…,"msg":…,<metadata>}\n` (JSON, escaped per RFC 8259 §7) or
    /// `time LEVEL msg key=value key="quoted value"\n` (text; control characters are escaped so a call is
    /// always exactly one line).
    static func line(
        format: Logger.Format, time: Int64, level: Logger.Level, message: String, metadata: [(String, LogValue)]
    ) -> LogBytes {
        var fields = LogFields(format: format, capacity: 512)
        fields.begin(time: time, level: level, message: message)
        for (key, value) in metadata { fields.value(key, value) }
        fields.end()
        return fields.out
    }

    /// Whether a text value must be quoted: empty, or containing a space, `"`, `=`, `\` or a control character.
    static func needsQuotes(_ value: String) -> Bool {
        value.isEmpty
            || value.utf8.contains {
                $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=")
                    || $0 == UInt8(ascii: "\\")
            }
    }

    /// Appends the RFC 3339 timestamp of `millisecondsSince1970`.
    static func appendTime(_ millisecondsSince1970: Int64, to out: inout LogBytes) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: RFC3339.length) { buffer in
            RFC3339.write(millisecondsSince1970: millisecondsSince1970, into: buffer)
            out.append(contentsOf: UnsafeBufferPointer(buffer))
        }
    }

    /// Appends a string's UTF-8 bytes as they are.
    static func appendString(_ value: String, to out: inout LogBytes) {
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { out.append(contentsOf: $0) }
        if done == nil { out.append(contentsOf: value.utf8) }
    }

    /// Appends a constant's bytes in one copy (`append(contentsOf: "…".utf8)` goes through the generic
    /// sequence path, several times slower).
    static func appendStatic(_ value: StaticString, to out: inout LogBytes) {
        out.append(contentsOf: UnsafeBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
    }

    /// Appends `"value"` with `"`, `\` and control characters escaped.
    static func appendJSONString(_ value: String, to out: inout LogBytes) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(value, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// Appends `value` with JSON escapes: `\"`, `\\`, `\n`, `\r`, `\t`, and `\u00XX` for other
    /// control characters. Other bytes, UTF-8 sequences included, are copied, a run at a time.
    static func appendEscaped(_ value: String, to out: inout LogBytes) {
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { appendEscaped($0, to: &out) }
        guard done == nil else { return }
        var value = value
        value.withUTF8 { appendEscaped($0, to: &out) }
    }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout LogBytes) {
        var runStart = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index - 1 { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index - 1])) }
            runStart = index
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
            default:
                LogLine.appendStatic("u00", to: &out)
                out.append(hexDigits.utf8Start[Int(byte >> 4)])
                out.append(hexDigits.utf8Start[Int(byte & 0xF)])
            }
        }
        if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
    }

    /// Appends `value` in decimal.
    static func appendDecimal(_ value: Int64, to out: inout LogBytes) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude, to: &out)
    }

    private static func appendDigits(_ value: UInt64, to out: inout LogBytes) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var remaining = value
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            } while remaining > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Appends a finite `value` exactly as `value.description` spells it.
    ///
    /// A value that is a whole number of thousandths below 10⁹ in magnitude (every `duration_ms`) is
    /// written from its integer thousandths: such a decimal has at most 12 significant digits, so it is
    /// the shortest that rounds to `value`, which is what `description` prints, with at least one
    /// fraction digit. Any other value goes through `description`.
    static func appendDouble(_ value: Double, to out: inout LogBytes) {
        let scaled = (value * 1000).rounded()
        guard value.magnitude < 1e9, scaled / 1000 == value, !(value == 0 && value.sign == .minus) else {
            appendString(value.description, to: &out)
            return
        }
        let thousandths = Int64(scaled)
        if thousandths < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = thousandths.magnitude
        appendDigits(magnitude / 1000, to: &out)
        out.append(UInt8(ascii: "."))
        var fraction = magnitude % 1000
        guard fraction != 0 else {
            out.append(UInt8(ascii: "0"))
            return
        }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var divisor: UInt64 = digits == 3 ? 100 : digits == 2 ? 10 : 1
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(fraction / divisor % 10))
            divisor /= 10
        }
    }
}
