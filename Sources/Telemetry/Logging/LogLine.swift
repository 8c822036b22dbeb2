/// Encoders of one log line, as UTF-8 bytes turned into a `String` once.
enum LogLine {
    /// `{"time":…,"level":…,"msg":…,<metadata>}\n`, escaped per RFC 8259 §7.
    static func json(time: String, level: Logger.Level, message: String, metadata: [(String, LogValue)]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64 + message.utf8.count + metadata.count * 24)
        out.append(contentsOf: #"{"time":""#.utf8)
        out.append(contentsOf: time.utf8)
        out.append(contentsOf: #"","level":""#.utf8)
        out.append(contentsOf: level.rawValue.utf8)
        out.append(contentsOf: #"","msg":"#.utf8)
        appendJSONString(message, to: &out)
        for (key, value) in metadata {
            out.append(UInt8(ascii: ","))
            appendJSONString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case .string(let string): appendJSONString(string, to: &out)
            case .int(let int): out.append(contentsOf: String(int).utf8)
            case .bool(let bool): out.append(contentsOf: (bool ? "true" : "false").utf8)
            case .double(let double):
                if double.isFinite {
                    out.append(contentsOf: double.description.utf8)
                } else {
                    appendJSONString(Exposition.format(double), to: &out)
                }
            }
        }
        out.append(contentsOf: "}\n".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// `time LEVEL msg key=value key="quoted value"\n`; control characters are escaped so a
    /// call is always exactly one line.
    static func text(time: String, level: Logger.Level, message: String, metadata: [(String, LogValue)]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(48 + message.utf8.count + metadata.count * 24)
        out.append(contentsOf: time.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: level.rawValue.uppercased().utf8)
        out.append(UInt8(ascii: " "))
        appendEscaped(message.utf8, to: &out)
        for (key, value) in metadata {
            out.append(UInt8(ascii: " "))
            appendEscaped(key.utf8, to: &out)
            out.append(UInt8(ascii: "="))
            switch value {
            case .string(let string):
                if needsQuotes(string) {
                    appendJSONString(string, to: &out)
                } else {
                    out.append(contentsOf: string.utf8)
                }
            case .int(let int): out.append(contentsOf: String(int).utf8)
            case .bool(let bool): out.append(contentsOf: (bool ? "true" : "false").utf8)
            case .double(let double):
                out.append(contentsOf: (double.isFinite ? double.description : Exposition.format(double)).utf8)
            }
        }
        out.append(UInt8(ascii: "\n"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether a text value must be quoted: empty, or containing a space, `"`, `=`, `\` or a control character.
    private static func needsQuotes(_ value: String) -> Bool {
        value.isEmpty
            || value.utf8.contains {
                $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=")
                    || $0 == UInt8(ascii: "\\")
            }
    }

    /// Appends `"value"` with `"`, `\` and control characters escaped.
    static func appendJSONString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(value.utf8, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends `bytes` with JSON escapes: `\"`, `\\`, `\n`, `\r`, `\t`, and `\u00XX` for other
    /// control characters. Other bytes, UTF-8 sequences included, are copied.
    private static func appendEscaped(_ bytes: String.UTF8View, to out: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            default:
                out.append(byte)
            }
        }
    }
}
