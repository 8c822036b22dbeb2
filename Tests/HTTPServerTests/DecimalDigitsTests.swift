import Testing
import TestSupport
@testable import HTTPServer

@Suite(.offCooperativePool)
struct DecimalDigitsTests {
    @Test(arguments: [0, 1, 9, 10, 11, 99, 100, 101, 999, 1_000, 4_096, 8_388_608, 1_234_567_890, Int.max, -1, -10, -987_654, Int.min])
    func matchesStringDescription(_ value: Int) {
        var out: [UInt8] = Array("x".utf8)
        DecimalDigits.append(value, to: &out)
        #expect(out == Array("x\(value)".utf8))
    }

    @Test func writeInPlaceMatchesStringDescription() {
        var values: [Int64] = [0, 1, 9, 10, 99, 100, .max, .min, -1, -9, -10, .max - 1, .min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -(power - 1), -power]
        }
        for value in values {
            let written = [UInt8](unsafeUninitializedCapacity: DecimalDigits.maxLength) { buffer, count in
                count = DecimalDigits.write(value, to: buffer.baseAddress!)
            }
            #expect(written == Array(String(value).utf8), "\(value)")
        }
    }

    @Test func int64AndUInt64Extremes() {
        var out: [UInt8] = []
        DecimalDigits.append(UInt64.max, to: &out)
        out.append(UInt8(ascii: " "))
        DecimalDigits.append(Int64.min, to: &out)
        out.append(UInt8(ascii: " "))
        DecimalDigits.append(UInt64(0), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\(UInt64.max) \(Int64.min) 0")
    }
}
