import Foundation
import Testing
import TestSupport
@testable import Telemetry

@Suite(.offCooperativePool)
struct RFC3339Tests {
    /// Seconds-precision reference (integral seconds are exact in a `Double`).
    static func referenceSeconds(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// Parses our output back with Foundation and checks it names the same millisecond.
    static func check(_ milliseconds: Int64) {
        let formatted = RFC3339.format(millisecondsSince1970: milliseconds)
        #expect(formatted.utf8.count == 24)
        let fraction = ((milliseconds % 1000) + 1000) % 1000
        #expect(formatted == String(referenceSeconds(milliseconds).dropLast()) + String(format: ".%03dZ", fraction))
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = parser.date(from: formatted)
        #expect(parsed.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } == milliseconds, "\(formatted)")
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_795_341_600_123, "2026-11-22T10:00:00.123Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (951_868_799_999, "2000-02-29T23:59:59.999Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),  // 2100 is not a leap year
        (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
        (946_684_799_999, "1999-12-31T23:59:59.999Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
    ])
    func knownValues(milliseconds: Int64, expected: String) {
        #expect(RFC3339.format(millisecondsSince1970: milliseconds) == expected)
        // write puts the same bytes into a buffer, and nothing past its 24.
        var bytes = [UInt8](repeating: UInt8(ascii: "#"), count: RFC3339.length + 1)
        bytes.withUnsafeMutableBufferPointer { RFC3339.write(millisecondsSince1970: milliseconds, into: $0) }
        #expect(bytes == Array((expected + "#").utf8))
    }

    @Test func edgeCasesMatchFoundation() {
        let edges: [Int64] = [
            0, 1, 999, 1000, 59_999, 86_399_999, 86_400_000, 951_782_400_000, 951_868_799_999, 951_868_800_000,
            1_709_251_199_999, 4_107_542_399_999, 253_402_300_799_999, 253_402_214_400_000, 2_147_483_647_000,
            2_147_483_648_000, 68_169_600_000,  // 1972-02-29
        ]
        for value in edges { Self.check(value) }
    }

    @Test func seededRandomMatchesFoundation() {
        var generator = SplitMix64(seed: 0x5EED_A9E7_57A7E)
        for _ in 0..<5000 {
            Self.check(Int64.random(in: 0...RFC3339.maximum, using: &generator))
        }
    }

    @Test func outOfRangeIsClamped() {
        #expect(RFC3339.format(millisecondsSince1970: .max) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339.format(millisecondsSince1970: .min) == "0000-01-01T00:00:00.000Z")
    }
}

