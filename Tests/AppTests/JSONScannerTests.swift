import Testing
import TestSupport
@testable import App

@Suite(.offCooperativePool)
struct JSONScannerTests {
    /// The word-at-a-time skip over plain string bytes stops exactly where a byte-by-byte scan does.
    @Test func plainASCIIEndMatchesAByteByByteScan() {
        func naive(_ bytes: [UInt8], _ start: Int) -> Int {
            var index = start
            while index < bytes.count, bytes[index] >= 0x20, bytes[index] < 0x80, bytes[index] != 0x22, bytes[index] != 0x5C { index += 1 }
            return index
        }
        var generator = SplitMix64(seed: 0x5CA9_0022)
        // Every byte value, at every offset of a plain run of up to 40 bytes, from every start.
        let plain: [UInt8] = (0..<40).map { (offset: Int) -> UInt8 in
            let byte = UInt8(0x20 + (offset * 7) % 0x5F)
            return byte == 0x22 || byte == 0x5C ? 0x41 : byte
        }
        for special in 0...255 {
            let position = Int.random(in: 0..<plain.count, using: &generator)
            var bytes = plain
            bytes[position] = UInt8(special)
            for start in 0...bytes.count {
                let got = bytes.withUnsafeBufferPointer { JSONScanner.plainASCIIEnd($0, from: start) }
                #expect(got == naive(bytes, start), "byte \(special) at \(position), from \(start)")
            }
        }
        // Random buffers mostly of plain bytes.
        for _ in 0..<2000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<70, using: &generator) {
                let anyByte = Int.random(in: 0..<12, using: &generator) == 0
                bytes.append(anyByte ? UInt8.random(in: 0...255, using: &generator) : UInt8.random(in: 0x20..<0x7F, using: &generator))
            }
            let start = Int.random(in: 0...bytes.count, using: &generator)
            #expect(bytes.withUnsafeBufferPointer { JSONScanner.plainASCIIEnd($0, from: start) } == naive(bytes, start))
        }
    }

    private func members(_ text: String) throws -> [JSONScanner.Member]? {
        try JSONScanner.topLevelMembers(of: Array(text.utf8))
    }

    @Test(arguments: [
        #"{}"#, #" { "a" : 1 } "#, #"{"state":{"x":[1,2,{"y":null}]}}"#, #"{"n":-0.5e+10}"#, #"{"s":"\u00e9\n\"\\\/"}"#,
        #"{"u":"héllo €𝄞"}"#, #"{"big":12345678901234567890}"#, #"{"a":true,"b":false,"c":null}"#,
    ])
    func acceptsValidObjects(_ text: String) throws {
        #expect(try members(text) != nil)
    }

    @Test(arguments: [
        "", "{", "}", #"{"a":}"#, #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#,
        #"{"a":1e}"#, #"{"a":tru}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#, "{\"a\":\"\u{01}\"}", #"{"a":1} x"#,
        #"{"a":[1,2}"#, #"{"a":NaN}"#, #"{"a":+1}"#, #"{'a':1}"#,
    ])
    func rejectsMalformedJSON(_ text: String) {
        #expect(throws: JSONScanner.SyntaxError.self) { try members(text) }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [[UInt8]] = [
            Array(#"{"a":""#.utf8) + [0xFF] + Array(#""}"#.utf8),          // invalid lead byte
            Array(#"{"a":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8),    // overlong
            Array(#"{"a":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8),  // surrogate
            Array(#"{"a":""#.utf8) + [0xE2, 0x82] + Array(#""}"#.utf8),    // truncated
        ]
        for document in bytes {
            #expect(throws: JSONScanner.SyntaxError.self) { try JSONScanner.topLevelMembers(of: document) }
        }
    }

    @Test func nonObjectTopLevelIsValidButHasNoMembers() throws {
        #expect(try members("[1,2]") == nil)
        #expect(try members(" 42 ") == nil)
        #expect(try members("null") == nil)
    }

    @Test func membersKeepExactRawBytes() throws {
        let text = #"{"state": 9007199254740993 , "x":[0.1, 12345678901234567890],"st\u0061te2":{"k":"v"}}"#
        let bytes = Array(text.utf8)
        let found = try #require(try JSONScanner.topLevelMembers(of: bytes))
        #expect(found.map(\.name) == ["state", "x", "state2"])
        #expect(String(decoding: bytes[found[0].range], as: UTF8.self) == "9007199254740993")
        #expect(String(decoding: bytes[found[1].range], as: UTF8.self) == "[0.1, 12345678901234567890]")
        #expect(found[1].kind == .array)
        let elements = JSONScanner.arrayElements(of: bytes, in: found[1].range)
        #expect(elements.map { String(decoding: bytes[$0], as: UTF8.self) } == ["0.1", "12345678901234567890"])
    }

    @Test func arrayElementsOfEmptyAndNestedArrays() throws {
        let bytes = Array(#"{"m":[ ],"n":[[1,[2]], {"a":[3]} ,"x"]}"#.utf8)
        let found = try #require(try JSONScanner.topLevelMembers(of: bytes))
        #expect(JSONScanner.arrayElements(of: bytes, in: found[0].range).isEmpty)
        let nested = JSONScanner.arrayElements(of: bytes, in: found[1].range)
        #expect(nested.map { String(decoding: bytes[$0], as: UTF8.self) } == ["[1,[2]]", #"{"a":[3]}"#, #""x""#])
    }

    @Test func depthIsBounded() {
        let deep = "{\"a\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"
        #expect(throws: JSONScanner.SyntaxError.self) { try members(deep) }
        let fine = "{\"a\":" + String(repeating: "[", count: 500) + String(repeating: "]", count: 500) + "}"
        #expect(throws: Never.self) { try members(fine) }
    }

    @Test func writerEscapesStrings() {
        var writer = JSONWriter()
        writer.string("a\"b\\c\n\u{01}é")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""a\"b\\c\n\u0001é""#)
    }

    /// Strings that need no escape are copied whole; one escapable byte anywhere switches to escaping.
    @Test(arguments: [("plain-id_1.2~x@y", #""plain-id_1.2~x@y""#), ("é✓", #""é✓""#), ("", #""""#),
                      ("tail\"", #""tail\"""#), ("\u{1F}head", #""\u001fhead""#), ("mid\\dle", #""mid\\dle""#)])
    func writerCopiesCleanStringsAndEscapesOthers(_ input: String, _ expected: String) {
        var writer = JSONWriter()
        writer.string(input)
        writer.int(-42)
        writer.int(Int64?.none)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected + "-42null")
    }
}
