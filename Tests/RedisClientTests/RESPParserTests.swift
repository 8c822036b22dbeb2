import Testing
import TestSupport
@testable import RedisClient

/// Parses all values currently available.
private func parseAll(_ text: String, parser: inout RESPParser) throws -> [RESPValue] {
    parser.feed(Array(text.utf8))
    var values: [RESPValue] = []
    while let value = try parser.next() { values.append(value) }
    return values
}

private func parseOne(_ text: String) throws -> RESPValue? {
    var parser = RESPParser()
    parser.feed(Array(text.utf8))
    return try parser.next()
}

@Suite(.offCooperativePool)
struct RESPParserTests {
    @Test(arguments: [
        ("+OK\r\n", RESPValue.simpleString("OK")),
        ("+\r\n", .simpleString("")),
        ("-ERR unknown command\r\n", .error("ERR unknown command")),
        (":0\r\n", .integer(0)),
        (":-42\r\n", .integer(-42)),
        (":9223372036854775807\r\n", .integer(.max)),
        (":-9223372036854775808\r\n", .integer(.min)),
        ("$3\r\nfoo\r\n", .bulkString(Array("foo".utf8))),
        ("$0\r\n\r\n", .bulkString([])),
        ("$-1\r\n", .bulkString(nil)),
        ("$4\r\na\r\nb\r\n", .bulkString(Array("a\r\nb".utf8))),
        ("*0\r\n", .array([])),
        ("*-1\r\n", .array(nil)),
        ("*2\r\n$1\r\na\r\n:1\r\n", .array([.bulkString([97]), .integer(1)])),
        ("*2\r\n*1\r\n+x\r\n*2\r\n$-1\r\n*-1\r\n",
         .array([.array([.simpleString("x")]), .array([.bulkString(nil), .array(nil)])])),
    ])
    func parsesEachReplyType(input: String, expected: RESPValue) throws {
        var parser = RESPParser()
        #expect(try parseAll(input, parser: &parser) == [expected])
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func binaryBulkStringIsByteExact() throws {
        let payload: [UInt8] = [0, 255, 13, 10, 128, 1]
        var parser = RESPParser()
        parser.feed(Array("$6\r\n".utf8) + payload + [13, 10])
        #expect(try parser.next() == .bulkString(payload))
    }

    @Test func byteByByteFeedingYieldsValuesOnlyWhenComplete() throws {
        let stream = "+OK\r\n*3\r\n$5\r\nhello\r\n:7\r\n*1\r\n$-1\r\n-ERR x\r\n$3\r\nbye\r\n"
        let expected: [RESPValue] = [
            .simpleString("OK"),
            .array([.bulkString(Array("hello".utf8)), .integer(7), .array([.bulkString(nil)])]),
            .error("ERR x"),
            .bulkString(Array("bye".utf8)),
        ]
        var parser = RESPParser()
        var values: [RESPValue] = []
        for byte in stream.utf8 {
            parser.feed([byte])
            while let value = try parser.next() { values.append(value) }
        }
        #expect(values == expected)
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func incompleteInputConsumesNothing() throws {
        var parser = RESPParser()
        parser.feed(Array("*2\r\n$3\r\nfoo\r\n$3\r\nba".utf8))
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == 19)
        #expect(try parser.next() == nil)
        parser.feed(Array("r\r\n".utf8))
        #expect(try parser.next() == .array([.bulkString(Array("foo".utf8)), .bulkString(Array("bar".utf8))]))
    }

    @Test func bulkStringSplitAcrossReads() throws {
        let payload = [UInt8](repeating: 120, count: 100_000)
        var wire = Array("$100000\r\n".utf8) + payload + [13, 10] + Array(":1\r\n".utf8)
        var parser = RESPParser()
        var values: [RESPValue] = []
        while !wire.isEmpty {
            let chunk = wire.prefix(4096)
            wire.removeFirst(chunk.count)
            parser.feed(chunk)
            while let value = try parser.next() { values.append(value) }
        }
        #expect(values == [.bulkString(payload), .integer(1)])
    }

    @Test(arguments: [
        ("?what\r\n", RESPProtocolError.Code.invalidTypeByte),
        ("%2\r\n", .invalidTypeByte),
        ("$abc\r\n", .invalidLength),
        ("$\r\n", .invalidLength),
        ("$-2\r\n", .invalidLength),
        ("*-5\r\n", .invalidLength),
        ("$ 3\r\nfoo\r\n", .invalidLength),
        ("$99999999999999999999\r\n", .invalidLength),
        (":12a\r\n", .invalidInteger),
        (":\r\n", .invalidInteger),
        (":9223372036854775808\r\n", .invalidInteger),
        ("$3\r\nfooXY", .missingCRLF),
        ("$3\r\nfoo\rX", .missingCRLF),
        ("+OK\rX", .missingCRLF),
        ("+OK\n", .missingCRLF),
        ("*1\r\n!\r\n", .invalidTypeByte),
    ])
    func malformedInputThrows(input: String, code: RESPProtocolError.Code) {
        var parser = RESPParser()
        parser.feed(Array(input.utf8))
        #expect {
            _ = try parser.next()
        } throws: { error in
            (error as? RESPProtocolError)?.code == code
        }
    }

    @Test func oversizeBulkIsRejectedFromItsHeader() {
        var parser = RESPParser(maxBulkBytes: 10)
        parser.feed(Array("$11\r\n".utf8))
        #expect(throws: RESPProtocolError.self) { try parser.next() }
        var exact = RESPParser(maxBulkBytes: 10)
        exact.feed(Array("$10\r\n0123456789\r\n".utf8))
        #expect((try? exact.next()) == .bulkString(Array("0123456789".utf8)))
    }

    @Test func oversizeArrayIsRejected() {
        var parser = RESPParser(maxArrayCount: 3)
        parser.feed(Array("*4\r\n".utf8))
        #expect {
            _ = try parser.next()
        } throws: { ($0 as? RESPProtocolError)?.code == .arrayTooLarge }
    }

    @Test func nestingDeeperThanTheLimitIsRejected() throws {
        let depth = RESPParser.defaultMaxDepth
        var allowed = RESPParser()
        allowed.feed(Array((String(repeating: "*1\r\n", count: depth) + ":1\r\n").utf8))
        #expect(try allowed.next() != nil)

        var tooDeep = RESPParser()
        tooDeep.feed(Array(String(repeating: "*1\r\n", count: depth + 1).utf8))
        #expect {
            _ = try tooDeep.next()
        } throws: { ($0 as? RESPProtocolError)?.code == .nestingTooDeep }
    }

    @Test func overlongLineIsRejected() {
        var parser = RESPParser(maxLineBytes: 8)
        parser.feed(Array("+123456789".utf8))
        #expect {
            _ = try parser.next()
        } throws: { ($0 as? RESPProtocolError)?.code == .lineTooLong }
    }

    @Test func helpersReadTheExpectedTypes() {
        #expect(RESPValue.integer(5).int == 5)
        #expect(RESPValue.bulkString(Array("12".utf8)).int == 12)
        #expect(RESPValue.bulkString(Array("hé".utf8)).string == "hé")
        #expect(RESPValue.bulkString([0xff]).string == nil)
        #expect(RESPValue.bulkString(nil).bytes == nil)
        #expect(RESPValue.bulkString(nil).isNull)
        #expect(RESPValue.array([.integer(1)]).array == [.integer(1)])
        #expect(RESPValue.simpleString("OK").string == "OK")
        #expect(RESPValue.integer(1).string == nil)
    }
}

@Suite(.offCooperativePool)
struct RESPValueIntTests {
    @Test(arguments: [
        "", "-", "+", "0", "-0", "+5", "007", "42", "-42", "1a", " 1", "1 ", "--1", "+-1", "1.5", "\u{0}",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "99999999999999999999", "١٢",
    ])
    func bulkStringsReadAsInt64OfTheirText(_ text: String) {
        #expect(RESPValue.bulkString(Array(text.utf8)).int == Int64(text))
    }
}

@Suite(.offCooperativePool)
struct RESPEncoderTests {
    @Test func encodesACommandAsAnArrayOfBulkStrings() {
        let buffer = RESPEncoder.encoded([Array("SET".utf8), Array("k".utf8), [0, 13, 10]])
        #expect(buffer == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n".utf8) + [0, 13, 10, 13, 10])
    }

    @Test func encodesEmptyArgumentsAndLongLengths() {
        let buffer = RESPEncoder.encoded([[], [UInt8](repeating: 97, count: 1234)])
        let expected = Array("*2\r\n$0\r\n\r\n$1234\r\n".utf8) + [UInt8](repeating: 97, count: 1234) + [13, 10]
        #expect(buffer == expected)
    }

    @Test func commandsOfEveryDigitCountMatchTheValueEncoder() {
        // Argument counts and lengths on both sides of each digit boundary, against the value encoder's own path.
        for length in [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 10_000, 100_000] {
            for count in [1, 9, 10, 11, 100] {
                let args = (0..<count).map { index in [UInt8](repeating: UInt8(97 + index % 26), count: index == 0 ? length : index) }
                var expected: [UInt8] = []
                RESPEncoder.encode(.array(args.map { .bulkString($0) }), into: &expected)
                let encoded = RESPEncoder.encoded(args)
                #expect(encoded == expected, "length \(length), count \(count)")
            }
        }
    }

    @Test func encodedValuesParseBack() throws {
        let value = RESPValue.array([
            .simpleString("OK"), .error("ERR no"), .integer(-3), .bulkString(nil), .bulkString([1, 2]),
            .array(nil), .array([.array([])]),
        ])
        var buffer: [UInt8] = []
        RESPEncoder.encode(value, into: &buffer)
        var parser = RESPParser()
        parser.feed(buffer)
        #expect(try parser.next() == value)
    }
}

@Suite(.offCooperativePool)
struct RESPParserRobustnessTests {
    @Test func everyTruncationOfValidInputIsIncompleteNotAnError() throws {
        var wire: [UInt8] = []
        RESPEncoder.encode(.array([.bulkString(Array("héllo".utf8)), .integer(-12), .array([.simpleString("OK"), .bulkString(nil)])]), into: &wire)
        for length in 0..<wire.count {
            var parser = RESPParser()
            parser.feed(wire[0..<length])
            #expect(try parser.next() == nil)
            #expect(parser.bufferedByteCount == length)
        }
    }

    @Test func randomGarbageNeverTraps() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("+-:$*\r\n0123456789-1xX".utf8)
        for _ in 0..<2_000 {
            var parser = RESPParser(maxBulkBytes: 1_000, maxArrayCount: 100, maxDepth: 8)
            let length = Int.random(in: 0..<48, using: &generator)
            parser.feed((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            for _ in 0..<64 {  // bounded: each successful call consumes at least one byte
                guard let value = try? parser.next() else { break }
                _ = value
            }
        }
    }

    /// Frames are found without building values, stay readable until released, and give the values `next()` gives;
    /// a reply read in place walks its elements in order.
    @Test func framesAndRepliesReadInPlace() throws {
        var parser = RESPParser()
        let stream = "*4\r\n$3\r\nfoo\r\n$-1\r\n:-7\r\n*1\r\n+ok\r\n-ERR no\r\n$2\r\nab"
        parser.feed(Array(stream.utf8))
        let first = try #require(try parser.nextFrame())
        let second = try #require(try parser.nextFrame())
        #expect(try parser.nextFrame() == nil, "the third reply is not complete yet")
        #expect(parser.value(in: first) == .array([.bulkString(Array("foo".utf8)), .bulkString(nil), .integer(-7), .array([.simpleString("ok")])]))
        #expect(parser.value(in: second) == .error("ERR no"))
        parser.withBytes(of: first) { bytes in
            let reply = RESPReply(bytes: bytes)
            #expect(reply.errorMessage == nil)
            var reader = reply.reader
            guard case .array(4?)? = reader.next(), case .bulkString(let foo?)? = reader.next(), case .bulkString(nil)? = reader.next(),
                  case .integer(-7)? = reader.next(), case .array(1?)? = reader.next(), case .simpleString(let ok)? = reader.next() else {
                Issue.record("unexpected elements")
                return
            }
            #expect(Array(foo) == Array("foo".utf8) && Array(ok) == Array("ok".utf8))
            #expect(reader.next() == nil)
        }
        parser.withBytes(of: second) { #expect(RESPReply(bytes: $0).errorMessage == "ERR no") }
        parser.releaseConsumed()
        #expect(parser.bufferedByteCount == 6, "the incomplete reply stays")
        parser.feed(Array("\r\n".utf8))
        #expect(try parser.next() == .bulkString(Array("ab".utf8)))
        #expect(parser.bufferedByteCount == 0)
        #expect(RESPReader.integer(in: UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
    }

    /// The reader's one-pass integer lines agree with the checked parse at the edges: 18 and 19 digits, both
    /// ends of `Int64`, and a line that overflows.
    @Test func readerIntegersAtTheEdgesOfInt64() throws {
        for (line, expected) in [(":0", Int64(0)), (":-0", 0), (":999999999999999999", 999_999_999_999_999_999),
                                 (":-999999999999999999", -999_999_999_999_999_999), (":9223372036854775807", .max),
                                 (":-9223372036854775808", .min), (":0009223372036854775807", .max)] {
            let bytes = Array((line + "\r\n").utf8)
            bytes.withUnsafeBytes { raw in
                var reader = RESPReply(bytes: raw).reader
                guard case .integer(let value)? = reader.next() else {
                    Issue.record("\(line) not read")
                    return
                }
                #expect(value == expected, "\(line)")
            }
        }
        for line in [":9223372036854775808", ":-9223372036854775809", ":-", ":", ":1x"] {
            let bytes = Array((line + "\r\n").utf8)
            bytes.withUnsafeBytes { raw in
                var reader = RESPReply(bytes: raw).reader
                #expect(reader.next() == nil, "\(line) is not an Int64 line")
            }
        }
    }

    /// The header of a length takes its decimal digits plus three bytes, at every digit-count boundary.
    @Test func headerSizesCountTheDigits() {
        for count in [0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100_000, 999_999, 1_000_000, 123_456_789, Int.max] {
            #expect(RESPEncoder.headerSize(count) == String(count).utf8.count + 3, "\(count)")
        }
    }

    /// A command written argument by argument, with suffixes and encoded runs, is the command the
    /// encoder writes from its arguments, and gives them back.
    @Test func commandsWrittenInPlaceEqualTheEncodedArguments() {
        let key = Array("p:agent:s".utf8), big = [UInt8](repeating: 7, count: 1000)
        let arguments: [[UInt8]] = [Array("EVALSHA".utf8), [], key, key + Array(":messages".utf8), Array("f1".utf8), Array("f2".utf8), big]
        let command = RESPCommand(argumentCount: arguments.count) { command in
            command.append(arguments[0])
            command.append([])
            command.append(key)
            command.append(key, suffix: Array(":messages".utf8))
            command.append(encoded: RESPCommand.encodedArguments([Array("f1".utf8), Array("f2".utf8)]))
            command.append(big)
        }
        #expect(command.bytes == RESPEncoder.encoded(arguments))
        #expect(command.arguments == arguments)
        #expect(RESPCommand(arguments).bytes == command.bytes)
    }

    /// Bulk strings inside arrays (checked on a fast path) meet the same limits and CRLF rules as anywhere else.
    @Test(arguments: [
        ("*1\r\n$4\r\nabcd\r\n", RESPParser(maxBulkBytes: 3), RESPProtocolError.Code.bulkTooLarge),
        ("*1\r\n$10\r\n0123456789\r\n", RESPParser(maxLineBytes: 1), .lineTooLong),
        ("*2\r\n$-1\r\n$2\r\nabX\r\n", RESPParser(), .missingCRLF),
        ("*1\r\n$-2\r\n", RESPParser(), .invalidLength),
    ])
    func bulkStringsInArraysKeepTheLimits(input: String, parser: RESPParser, code: RESPProtocolError.Code) {
        var parser = parser
        parser.feed(Array(input.utf8))
        #expect { _ = try parser.nextFrame() } throws: { ($0 as? RESPProtocolError)?.code == code }
    }
}
