import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Telemetry

/// Collects the lines a logger writes.
final class LineCollector: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    func sink(_ line: String) { storage.withLock { $0.append(line) } }
}

@Suite(.offCooperativePool)
struct LoggerTests {
    /// 2026-11-22T10:00:00.123Z
    static let fixedTime: Int64 = 1_795_341_600_123

    static func make(_ level: Logger.Level = .info, _ format: Logger.Format = .json) -> (Logger, LineCollector) {
        let collector = LineCollector()
        let logger = Logger(level: level, format: format, sink: collector.sink, clock: { fixedTime })
        return (logger, collector)
    }

    @Test func jsonLineHasKeysInOrder() throws {
        let (logger, collector) = Self.make()
        logger.info("request", [
            (LogKey.requestID, "r-1"), (LogKey.method, "PUT"), (LogKey.route, "/agents/{agent_id}"),
            (LogKey.status, 201), (LogKey.durationMS, .double(1.25)), (LogKey.bytesIn, .int(17)),
            (LogKey.bytesOut, 0), ("cached", .bool(false)),
        ])
        #expect(collector.lines == [
            #"{"time":"2026-11-22T10:00:00.123Z","level":"info","msg":"request","request_id":"r-1","method":"PUT","#
                + #""route":"/agents/{agent_id}","status":201,"duration_ms":1.25,"bytes_in":17,"bytes_out":0,"#
                + #""cached":false}"# + "\n",
        ])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(collector.lines[0].utf8)) as? [String: Any])
        #expect(object["status"] as? Int == 201)
        #expect(object["duration_ms"] as? Double == 1.25)
    }

    @Test func jsonEscapesStrings() throws {
        let (logger, collector) = Self.make()
        let nasty = "quote \" backslash \\ newline \n tab \t cr \r bell \u{07} nul \u{00} esc \u{1B} é 🚀"
        logger.error(nasty, [("k\"ey", .string(nasty)), ("nan", .double(.nan)), ("inf", .double(-.infinity))])
        let line = try #require(collector.lines.first)
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().contains("\n") == false)
        #expect(line.contains(#"\u0007"#) && line.contains(#"\u0000"#) && line.contains(#"\u001b"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == nasty)
        #expect(object["k\"ey"] as? String == nasty)
        #expect(object["level"] as? String == "error")
        #expect(object["nan"] as? String == "NaN")
        #expect(object["inf"] as? String == "-Inf")
    }

    /// Doubles are spelled as `description` spells them, the fast path for whole thousandths included.
    @Test func doublesMatchDescription() throws {
        var values: [Double] = [0, -0.0, 0.5, 1, 1.25, 0.001, 0.01, 0.1, 0.05, 0.007, 12.345, 999_999_999.999, 1e9, 1e9 + 0.5,
                                123_456.7, 1e-4, 1e-5, 1.0 / 3, 2.5e15, 1e17, -3.5, -0.125, .ulpOfOne, .greatestFiniteMagnitude]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let microseconds = Double(UInt64.random(in: 0..<10_000_000_000, using: &random))
            values.append((microseconds).rounded() / 1e3)
            values.append(Double.random(in: -1e6...1e6, using: &random))
        }
        for value in values {
            var out = LogBytes(capacity: 16)
            LogLine.appendDouble(value, to: &out)
            #expect(out.withBytes { String(decoding: $0, as: UTF8.self) } == value.description, "\(value)")
        }
    }

    /// Random strings with specials at every position (the escaper skips plain runs eight bytes at a time)
    /// come back unchanged through a JSON parser.
    @Test func escapingRoundTripsRandomStrings() throws {
        let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "🚀", "/"]
        var random = SystemRandomNumberGenerator()
        let (logger, collector) = Self.make()
        var expected: [String] = []
        for _ in 0..<300 {
            let length = Int.random(in: 0...40, using: &random)
            let value = String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
            expected.append(value)
            logger.info("m", [("v", .string(value))])
        }
        #expect(collector.lines.count == expected.count)
        for (line, value) in zip(collector.lines, expected) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["v"] as? String == value, "\(line)")
            #expect(line.dropLast().contains("\n") == false)
        }
    }

    /// The fields form writes exactly what the metadata form writes, in both formats.
    @Test(arguments: Logger.Format.allCases)
    func fieldsFormMatchesMetadataForm(_ format: Logger.Format) {
        let (logger, collector) = Self.make(.info, format)
        let nasty = "two words \"quoted\" back\\slash \n é"
        logger.info("request", [
            (LogKey.requestID, .string("r-1")), (LogKey.route, .string("/agents/{agent_id}")), ("note", .string(nasty)),
            ("empty", .string("")), (LogKey.status, .int(-201)), (LogKey.durationMS, .double(0.125)),
            ("big", .double(1e300)), ("nan", .double(.nan)), ("ok", .bool(true)),
        ])
        logger.log(.info, "request") { line in
            line.string(LogKey.requestID, "r-1")
            line.string(LogKey.route, "/agents/{agent_id}")
            line.string("note", nasty)
            line.string("empty", "")
            line.int(LogKey.status, -201)
            line.double(LogKey.durationMS, 0.125)
            line.double("big", 1e300)
            line.double("nan", .nan)
            line.bool("ok", true)
        }
        var evaluated = false
        logger.log(.debug, "dropped") { _ in evaluated = true }
        #expect(!evaluated, "the fields of a dropped line are not written")
        #expect(collector.lines.count == 2)
        #expect(collector.lines.first == collector.lines.last)
    }

    /// A line far longer than the buffer's first capacity (512 bytes) grows it and stays whole.
    @Test func longLinesGrowTheBuffer() throws {
        let (logger, collector) = Self.make()
        let long = String(repeating: "ab\"c\\d\né🚀 ", count: 2_000)
        logger.info("long", [("v", .string(long)), ("n", .int(Int64.min))])
        logger.log(.info, "long") { line in
            line.string("v", long)
            line.int("n", Int64.min)
        }
        #expect(collector.lines.count == 2 && collector.lines[0] == collector.lines[1])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(collector.lines[0].utf8)) as? [String: Any])
        #expect(object["v"] as? String == long)
        #expect((object["n"] as? NSNumber)?.int64Value == Int64.min)
    }

    @Test func levelFiltering() {
        let (logger, collector) = Self.make(.warning)
        var evaluated = false
        logger.debug("d", { evaluated = true; return [] }())
        logger.info("i")
        logger.warning("w")
        logger.error("e")
        logger.log(.info, "i2")
        #expect(!evaluated, "metadata of a dropped message is not evaluated")
        #expect(collector.lines.count == 2)
        #expect(!logger.isEnabled(.info) && logger.isEnabled(.warning) && logger.isEnabled(.error))
        #expect(Logger.Level.allCases.sorted() == [.debug, .info, .warning, .error])
        #expect(Logger.Level(rawValue: "warning") == .warning)
    }

    @Test func textFormatShape() {
        let (logger, collector) = Self.make(.debug, .text)
        logger.debug("request done", [
            (LogKey.route, "/agents/{agent_id}"), (LogKey.status, 200), ("note", "two words"), ("empty", ""),
            ("eq", "a=b"), ("ok", true), ("ms", .double(0.5)),
        ])
        logger.warning("multi\nline")
        #expect(collector.lines == [
            #"2026-11-22T10:00:00.123Z DEBUG request done route=/agents/{agent_id} status=200 note="two words" "#
                + #"empty="" eq="a=b" ok=true ms=0.5"# + "\n",
            #"2026-11-22T10:00:00.123Z WARNING multi\nline"# + "\n",
        ])
    }

    @Test func defaultLoggerIsInfoJSON() {
        let logger = Logger()
        #expect(logger.level == .info && logger.format == .json)
        #expect(Logger.Format(rawValue: "text") == .text)
    }

    @Test func realClockTimeIsCurrent() throws {
        let collector = LineCollector()
        let logger = Logger(sink: collector.sink)
        let before = RFC3339.format(millisecondsSince1970: RFC3339.currentMilliseconds())
        logger.info("now")
        let after = RFC3339.format(millisecondsSince1970: RFC3339.currentMilliseconds())
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(collector.lines[0].utf8)) as? [String: Any])
        let time = try #require(object["time"] as? String)
        #expect(before <= time && time <= after)
    }
}
