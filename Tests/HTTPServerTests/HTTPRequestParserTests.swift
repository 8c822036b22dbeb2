import Testing
import TestSupport
@testable import HTTPServer

/// Feeds `input` to a fresh parser in pieces and collects every complete request.
private func parseAll(
    _ input: [UInt8], pieces: [Int]? = nil, limits: HTTPRequestParser.Limits = .init()
) throws(HTTPProtocolError) -> [HTTPRequest] {
    var parser = HTTPRequestParser(limits: limits)
    var requests: [HTTPRequest] = []
    var offset = 0
    let sizes = pieces ?? [input.count]
    for size in sizes where offset < input.count {
        let end = min(input.count, offset + size)
        parser.append(contentsOf: input[offset..<end])
        offset = end
        while let request = try parser.parseRequest() { requests.append(request) }
    }
    if offset < input.count {
        parser.append(contentsOf: input[offset...])
        while let request = try parser.parseRequest() { requests.append(request) }
    }
    return requests
}

/// The error thrown by parsing `input` whole, or nil.
private func parseError(_ input: String, limits: HTTPRequestParser.Limits = .init()) -> HTTPProtocolError? {
    do {
        _ = try parseAll(Array(input.utf8), limits: limits)
        return nil
    } catch {
        return error
    }
}


@Suite(.offCooperativePool)
struct HTTPRequestParserTests {
    /// Valid requests with the method, target and body each should produce.
    static let valid: [(String, String, String, String)] = [
        ("GET /agents/a/sessions?limit=5 HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/agents/a/sessions?limit=5", ""),
        ("PUT /s HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\nContent-Type: application/json\r\n\r\nhello world", "PUT", "/s", "hello world"),
        (
            "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6 ; ext\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n",
            "POST", "/c", "hello world"
        ),
        ("\r\nGET / HTTP/1.0\r\n\r\n", "GET", "/", ""),
        ("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", "OPTIONS", "*", ""),
    ]

    @Test(arguments: valid.indices)
    func parsesWholeByteByByteAndInRandomSplits(index: Int) throws {
        let (text, method, target, body) = Self.valid[index]
        let input = Array(text.utf8)
        var generator = SplitMix64(seed: UInt64(index) + 42)
        var splits: [[Int]?] = [nil, Array(repeating: 1, count: input.count)]
        for _ in 0..<20 {
            splits.append((0..<input.count).map { _ in Int.random(in: 1...7, using: &generator) })
        }
        for pieces in splits {
            let requests = try parseAll(input, pieces: pieces)
            try #require(requests.count == 1)
            #expect(requests[0].head.method.rawValue == method)
            #expect(requests[0].head.target == target)
            #expect(requests[0].body == Array(body.utf8))
            #expect(requests[0].bytesIn == input.count)
        }
    }

    @Test func splitsPathAndQuery() throws {
        let request = try #require(try parseAll(Array("GET /a%2Fb?x=1&y=?2 HTTP/1.1\r\nHost: t\r\n\r\n".utf8)).first)
        #expect(request.head.path == "/a%2Fb")
        #expect(request.head.query == "x=1&y=?2")
        let plain = try #require(try parseAll(Array("GET /a HTTP/1.1\r\nHost: t\r\n\r\n".utf8)).first)
        #expect(plain.head.query == nil)
    }

    @Test func absoluteFormTargetsBecomeOriginForm() throws {
        for (target, path, query) in [("http://example.com/a/b?x=1", "/a/b", "x=1"), ("HTTPS://h:8080/", "/", nil), ("http://h", "/", nil), ("http://h?q", "/", "q")] {
            let head = try #require(try parseAll(Array("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n".utf8)).first).head
            #expect(head.path == path)
            #expect(head.query == query)
        }
    }

    @Test func httpOneZeroNeedsNoHost() throws {
        #expect(try parseAll(Array("GET / HTTP/1.0\r\n\r\n".utf8)).count == 1)
    }

    @Test func keepsHeaderOrderAndTrimsValues() throws {
        let text = "GET / HTTP/1.1\r\nX-A: 1\r\nx-a:   two, three \t\r\nHost:h\r\nEmpty:\r\n\r\n"
        let head = try #require(try parseAll(Array(text.utf8)).first).head
        #expect(head.headers.values("X-A") == ["1", "two, three"])
        #expect(head.headers["host"] == "h")
        #expect(head.headers["Empty"] == "")
        #expect(head.version == .http1_1)
    }

    @Test func parsesPipelinedRequestsInOrder() throws {
        let text = "GET /1 HTTP/1.1\r\nHost: t\r\n\r\nPOST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: t\r\n\r\n"
        for pieces in [nil, Array(repeating: 1, count: text.utf8.count)] {
            let requests = try parseAll(Array(text.utf8), pieces: pieces)
            #expect(requests.map(\.head.target) == ["/1", "/2", "/3"])
            #expect(requests[1].body == Array("abc".utf8))
        }
    }

    @Test func needsMoreWithoutConsuming() throws {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: "GET / HTTP/1.1\r\nHost: x\r\n".utf8)
        #expect(try parser.parseRequest() == nil)
        parser.append(contentsOf: "\r\n".utf8)
        #expect(try parser.parseRequest()?.head.headers["Host"] == "x")
    }

    /// Malformed inputs: each must throw `.malformed`.
    static let malformed: [String] = [
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1 2\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 4\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\u{01}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\n: empty\r\n\r\n",
        "GET / HTTP/1.1\nHost: x\n\n",
        "GET / HTTP/1.1\r\nHost: x\rY\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",  // HTTP/1.1 without Host (RFC 9112 §3.2)
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  // two Hosts
        "GET / HTTP/1.1\r\nHOST: a\r\nhost: b\r\n\r\n",  // two Hosts, in any case
        "GET / HTTP/1.1\r\nHosts: a\r\n\r\n",  // no Host, only a longer name
        "GET * HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.2\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
        "GET /\r\n\r\n",
        "\u{00}\u{01}\u{02}\r\n\r\n",
    ]

    @Test(arguments: malformed)
    func rejectsMalformed(input: String) {
        guard case .malformed = parseError(input) else {
            Issue.record("expected malformed for \(input.debugDescription), got \(String(describing: parseError(input)))")
            return
        }
    }

    @Test func rejectsOversizedRequestLineEvenBeforeItEnds() {
        let limits = HTTPRequestParser.Limits(maxRequestLineBytes: 64)
        let exact = "GET /" + String(repeating: "a", count: 64 - 14) + " HTTP/1.1"
        #expect(exact.utf8.count == 64)
        #expect(parseError(exact + "\r\nHost: t\r\n\r\n", limits: limits) == nil)
        #expect(parseError("GET /" + String(repeating: "a", count: 51) + " HTTP/1.1\r\nHost: t\r\n\r\n", limits: limits) == .uriTooLong)
        #expect(parseError("GET /" + String(repeating: "a", count: 200), limits: limits) == .uriTooLong)
    }

    @Test func rejectsOversizedHeaderSection() {
        let limits = HTTPRequestParser.Limits(maxHeaderBytes: 100)
        // The header section counts the Host line too: 9 bytes of "Host: t\r\n" plus this field make 100.
        let field = "X: " + String(repeating: "v", count: 100 - 9 - 5) + "\r\n"
        #expect(field.utf8.count == 100 - 9)
        #expect(parseError("GET / HTTP/1.1\r\nHost: t\r\n" + field + "\r\n", limits: limits) == nil)
        #expect(parseError("GET / HTTP/1.1\r\nHost: t\r\nA: b\r\n" + field + "\r\n", limits: limits) == .headerTooLarge)
        #expect(parseError("GET / HTTP/1.1\r\nHost: t\r\n" + String(repeating: "v", count: 300), limits: limits) == .headerTooLarge)
        // A long request line does not count against the header limit.
        let longLine = "GET /" + String(repeating: "p", count: 500) + " HTTP/1.1\r\nHost: t\r\n"
        #expect(parseError(longLine + field + "\r\n", limits: limits) == nil)
    }

    @Test(arguments: [false, true])
    func acceptsBodyAtLimitAndRejectsOneMore(chunked: Bool) {
        let limits = HTTPRequestParser.Limits(maxBodyBytes: 10)
        func request(_ size: Int) -> String {
            let body = String(repeating: "b", count: size)
            if chunked {
                return "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbbb\r\n\(String(size - 3, radix: 16))\r\n\(body.dropFirst(3))\r\n0\r\n\r\n"
            }
            return "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: \(size)\r\n\r\n\(body)"
        }
        #expect(parseError(request(10), limits: limits) == nil)
        #expect(parseError(request(11), limits: limits) == .payloadTooLarge)
    }

    @Test func rejectsHugeContentLengthAndChunkSize() {
        #expect(parseError("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n") == .payloadTooLarge)
        #expect(parseError("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n") == .payloadTooLarge)
    }

    @Test func rejectsOversizedTrailers() {
        let limits = HTTPRequestParser.Limits(maxHeaderBytes: 50)
        let trailer = "X-T: " + String(repeating: "t", count: 80) + "\r\n"
        #expect(parseError("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailer + "\r\n", limits: limits) == .headerTooLarge)
    }

    @Test func reportsFramingBeforeBody() throws {
        var parser = HTTPRequestParser(limits: .init(maxBodyBytes: 4))
        parser.append(contentsOf: "PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\nExpect: 100-Continue\r\n\r\n".utf8)
        let parsed = try #require(try parser.parseHead())
        #expect(parsed.framing == .contentLength(100))
        #expect(parsed.head.expectsContinue)
        #expect(throws: HTTPProtocolError.payloadTooLarge) { _ = try parser.parseBody() }
    }

    @Test func discardsContentLengthBodyIncrementally() throws {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: "PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nabc".utf8)
        _ = try #require(try parser.parseHead())
        #expect(try parser.discardBody() == false)
        parser.append(contentsOf: "defGET /next HTTP/1.1\r\nHost: t\r\n\r\n".utf8)
        #expect(try parser.discardBody() == true)
        parser.startNextRequest()
        #expect(try parser.parseRequest()?.head.target == "/next")
    }

    @Test func headCopiesAreIndependent() {
        let original = HTTPRequestHead(method: .GET, target: "/a?x=1", headers: HTTPHeaders([("Host", "h")]), receivedAtNanos: 7)
        var copy = original
        copy.headers.add("X-Extra", "1")
        copy.target = "/b"
        copy.method = .PUT
        copy.receivedAtNanos = 9
        #expect(original.headers.count == 1 && original.target == "/a?x=1" && original.path == "/a" && original.query == "x=1")
        #expect(original.method == .GET && original.receivedAtNanos == 7)
        #expect(copy.headers.count == 2 && copy.target == "/b" && copy.path == "/b" && copy.query == nil && copy.method == .PUT)
        // A head nobody else shares changes in place, and keeps what it had.
        copy.version = .http1_0
        #expect(copy.version == .http1_0 && copy.headers["X-Extra"] == "1" && original.version == .http1_1)
    }

    @Test func keepAliveAndContinueRules() throws {
        func head(_ text: String) throws -> HTTPRequestHead {
            try #require(try parseAll(Array(text.utf8)).first).head
        }
        #expect(try head("GET / HTTP/1.1\r\nHost: t\r\n\r\n").wantsKeepAlive)
        #expect(try !head("GET / HTTP/1.1\r\nHost: t\r\nConnection: Close\r\n\r\n").wantsKeepAlive)
        #expect(try !head("GET / HTTP/1.0\r\n\r\n").wantsKeepAlive)
        #expect(try head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").wantsKeepAlive)
        #expect(try !head("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expectsContinue)
    }

    /// Regression for a Fuzz/FuzzHTTPParser finding: a CR that ended one read was never checked against
    /// the byte after it, so a bare CR split across reads went unnoticed until the line ended.
    @Test func refusesBareCRSplitAcrossReads() throws {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: "OPTIONS * HTTP/1.1\r\nHost: h\r".utf8)
        #expect(try parser.parseRequest() == nil)
        parser.append(contentsOf: [0x0E])
        #expect(throws: HTTPProtocolError.malformed("bare CR")) { _ = try parser.parseRequest() }
        // The fuzzer's input, split at every byte, fails the same way as whole.
        let input = Array("GET http://h:1/p?q=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nOPTIONS * HTTP/0.1\r\nHost: h\r\u{0E}\r\n".utf8)
        #expect(throws: HTTPProtocolError.self) { _ = try parseAll(input, pieces: Array(repeating: 1, count: input.count)) }
        #expect(throws: HTTPProtocolError.self) { _ = try parseAll(input) }
    }

    @Test func limitsTheNumberOfHeaderFields() {
        let limits = HTTPRequestParser.Limits(maxHeaderFields: 5)
        func request(fields: Int) -> String {
            "GET / HTTP/1.1\r\nHost: t\r\n" + (1..<fields).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        }
        #expect(parseError(request(fields: 5), limits: limits) == nil)
        #expect(parseError(request(fields: 6), limits: limits) == .headerTooLarge)
        // Refused as soon as the extra field line ends, before the head does.
        var parser = HTTPRequestParser(limits: limits)
        parser.append(contentsOf: request(fields: 6).utf8.dropLast(2))
        #expect(throws: HTTPProtocolError.headerTooLarge) { _ = try parser.parseRequest() }
        #expect(HTTPRequestParser.Limits().maxHeaderFields == 100)
    }

    @Test func neverTrapsOnRandomInput() {
        var generator = SplitMix64(seed: 7)
        let alphabet = Array("GET / HTTP/1.1\r\nHost: t\r\n:; Content-Length: 0Transfer-Encoding: chunked\r\n0\r\n\u{00}\u{7F}\u{FF}".utf8)
        for _ in 0..<500 {
            let length = Int.random(in: 0...200, using: &generator)
            let input = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            let pieces = (0..<length).map { _ in Int.random(in: 1...9, using: &generator) }
            _ = try? parseAll(input, pieces: pieces, limits: .init(maxRequestLineBytes: 40, maxHeaderBytes: 60, maxBodyBytes: 20))
        }
    }
}
