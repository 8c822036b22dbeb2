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
        #expect(HTTPResponse(status: 200, headers: HTTPHeaders([("connection", "Keep-Alive, CLOSE")])).asksToClose)
        #expect(!HTTPResponse(status: 200, headers: HTTPHeaders([("X-Other", "close")])).asksToClose)
    }
}
