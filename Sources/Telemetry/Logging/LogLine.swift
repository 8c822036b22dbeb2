/// Encoders of one log line, appended as UTF-8 bytes to a caller's buffer.
enum LogLine {
    /// Appends `{"time":…,"level":…,"msg":…,<metadata>}\n`, escaped per RFC 8259 §7.
    static func json(
        into out: inout [UInt8], time: Int64, level: Logger.Level, message: String, metadata: [(String, LogValue)]
    ) {
        out.append(contentsOf: #"{"time":""#.utf8)
        appendTime(time, to: &out)
        out.append(contentsOf: #"","level":""#.utf8)
        appendString(level.rawValue, to: &out)
        out.append(contentsOf: #"","msg":"#.utf8)
        appendJSONString(message, to: &out)
        for (key, value) in metadata {
            out.append(UInt8(ascii: ","))
            appendJSONString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case .string(let string): appendJSONString(string, to: &out)
            case .int(let int): appendDecimal(int, to: &out)
            case .bool(let bool): out.append(contentsOf: (bool ? "true" : "false").utf8)
            case .double(let double):
                if double.isFinite {
                    appendDouble(double, to: &out)
                } else {
                    appendJSONString(Exposition.format(double), to: &out)
                }
            }
        }
        out.append(contentsOf: "}\n".utf8)
    }

    /// Appends `time LEVEL msg key=value key="quoted value"\n`; control characters are escaped so a
    /// call is always exactly one line.
    static func text(
        into out: inout [UInt8], time: Int64, level: Logger.Level, message: String, metadata: [(String, LogValue)]
    ) {
        appendTime(time, to: &out)
        out.append(UInt8(ascii: " "))
        appendString(level.rawValue.uppercased(), to: &out)
        out.append(UInt8(ascii: " "))
        appendEscaped(message, to: &out)
        for (key, value) in metadata {
            out.append(UInt8(ascii: " "))
            appendEscaped(key, to: &out)
            out.append(UInt8(ascii: "="))
            switch value {
            case .string(let string):
                if needsQuotes(string) {
                    appendJSONString(string, to: &out)
                } else {
                    appendString(string, to: &out)
                }
            case .int(let int): appendDecimal(int, to: &out)
            case .bool(let bool): out.append(contentsOf: (bool ? "true" : "false").utf8)
            case .double(let double):
                if double.isFinite {
                    appendDouble(double, to: &out)
                } else {
                    appendString(Exposition.format(double), to: &out)
                }
            }
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// Whether a text value must be quoted: empty, or containing a space, `"`, `=`, `\` or a control character.
    private static func needsQuotes(_ value: String) -> Bool {
        value.isEmpty
            || value.utf8.contains {
                $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=")
                    || $0 == UInt8(ascii: "\\")
            }
    }

    /// Appends the RFC 3339 timestamp of `millisecondsSince1970`.
    private static func appendTime(_ millisecondsSince1970: Int64, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: RFC3339.length))
        out.withUnsafeMutableBufferPointer { buffer in
            RFC3339.write(millisecondsSince1970: millisecondsSince1970, into: UnsafeMutableBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// Appends a string's UTF-8 bytes as they are.
    private static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(contentsOf: value.utf8)
    }

    /// Appends `"value"` with `"`, `\` and control characters escaped.
    static func appendJSONString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(value, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// Appends `value` with JSON escapes: `\"`, `\\`, `\n`, `\r`, `\t`, and `\u00XX` for other
    /// control characters. Other bytes, UTF-8 sequences included, are copied, a run at a time.
    private static func appendEscaped(_ value: String, to out: inout [UInt8]) {
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { appendEscaped($0, to: &out) }
        guard done == nil else { return }
        var value = value
        value.withUTF8 { appendEscaped($0, to: &out) }
    }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var runStart = 0
        for index in bytes.indices {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index])) }
            runStart = index + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: "u00".utf8)
                out.append(hexDigits.utf8Start[Int(byte >> 4)])
                out.append(hexDigits.utf8Start[Int(byte & 0xF)])
            }
        }
        if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
    }

    /// Appends `value` in decimal.
    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude, to: &out)
    }

    private static func appendDigits(_ value: UInt64, to out: inout [UInt8]) {
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
    static func appendDouble(_ value: Double, to out: inout [UInt8]) {
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
