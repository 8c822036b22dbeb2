import Testing
import TestSupport
@testable import HTTPServer

@Suite(.offCooperativePool)
struct HTTPResponseSerializationTests {
    private func wire(_ response: HTTPResponse, method: HTTPMethod? = .GET, version: HTTPVersion? = .http1_1, keepAlive: Bool = true) -> String {
        var out: [UInt8] = []
        response.serialize(into: &out, requestMethod: method, requestVersion: version, keepAlive: keepAlive, date: "Wed, 02 Dec 2026 18:00:00 GMT")
        return String(decoding: out, as: UTF8.self)
    }

    @Test func statusLineLengthDateAndBody() {
        let text = wire(HTTPResponse(status: 201, headers: HTTPHeaders([("Content-Type", "application/json")]), body: Array("{}".utf8)))
        #expect(text == "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\nDate: Wed, 02 Dec 2026 18:00:00 GMT\r\n\r\n{}")
    }

    @Test func unknownAndOutOfRangeStatusesKeepTheirCode() {
        #expect(wire(HTTPResponse(status: 299)).hasPrefix("HTTP/1.1 299 \r\n"))
        #expect(wire(HTTPResponse(status: 999)).hasPrefix("HTTP/1.1 999 \r\n"))
    }

    /// The head is written into memory sized for its longest form: the longest status codes, reason phrases,
    /// many and long fields, a HEAD over HTTP/1.0 (keep-alive) and closing, all come out whole.
    @Test func longestHeadsComeOutWhole() {
        #expect(wire(HTTPResponse(status: Int.min)).hasPrefix("HTTP/1.1 \(Int.min) \r\nContent-Length: 0\r\nDate: "))
        #expect(wire(HTTPResponse(status: 431), version: .http1_0).hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        let fields = (0..<200).map { ("X-Field-\($0)", String(repeating: "v", count: $0 * 7)) }
        let body = [UInt8](repeating: 65, count: 100_000)
        for (version, keepAlive, connection) in [(HTTPVersion.http1_0, true, "Connection: keep-alive\r\n"), (.http1_1, false, "Connection: close\r\n")] {
            let text = wire(HTTPResponse(status: 200, headers: HTTPHeaders(fields), body: body), version: version, keepAlive: keepAlive)
            var expected = "HTTP/1.1 200 OK\r\n"
            for (name, value) in fields { expected += "\(name): \(value)\r\n" }
            expected += "Content-Length: 100000\r\nDate: Wed, 02 Dec 2026 18:00:00 GMT\r\n" + connection + "\r\n"
            #expect(text == expected + String(repeating: "A", count: 100_000))
        }
    }

    /// A handler cannot split the response: CR and LF are dropped from values, whatever else they hold.
    @Test func crAndLFAreDroppedFromValues() {
        let text = wire(HTTPResponse(status: 200, headers: HTTPHeaders([("X-A", "one\r\nX-Injected: yes"), ("X-B", "é\nü")])))
        #expect(text.contains("X-A: oneX-Injected: yes\r\n"))
        #expect(text.contains("X-B: éü\r\n"))
        #expect(!text.contains("\r\nX-Injected"))
    }

    @Test func serverOwnsConnectionAndFraming() {
        let response = HTTPResponse(status: 204, headers: HTTPHeaders([("Connection", "keep-alive"), ("Transfer-Encoding", "chunked"), ("Content-Length", "5")]))
        #expect(wire(response, keepAlive: false) == "HTTP/1.1 204 No Content\r\nDate: Wed, 02 Dec 2026 18:00:00 GMT\r\nConnection: close\r\n\r\n")
        #expect(wire(HTTPResponse(status: 200, body: [1]), method: .HEAD, version: .http1_0)
            == "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nDate: Wed, 02 Dec 2026 18:00:00 GMT\r\nConnection: keep-alive\r\n\r\n")
        // A handler's `Connection: close` (any case, in a list) closes the connection; `close` elsewhere does not.
        var out: [UInt8] = []
        let closing = HTTPResponse(status: 200, headers: HTTPHeaders([("connection", "Keep-Alive, CLOSE")]))
        #expect(!closing.serialize(into: &out, requestMethod: .GET, requestVersion: .http1_1, keepAlive: true, date: "d"))
        #expect(String(decoding: out, as: UTF8.self).hasSuffix("Connection: close\r\n\r\n"))
        out = []
        let other = HTTPResponse(status: 200, headers: HTTPHeaders([("X-Other", "close")]))
        #expect(other.serialize(into: &out, requestMethod: .GET, requestVersion: .http1_1, keepAlive: true, date: "d"))
        #expect(!String(decoding: out, as: UTF8.self).contains("Connection:"))
    }
}
