import Foundation
import TestSupport
import Testing

/// Hostile clients against the real agentstate process over real sockets: request-smuggling attempts and
/// header floods. Each must be answered once with problem+json and the connection closed, and a request
/// hidden behind the attack must never run.
@Suite(.offCooperativePool)
struct HostileClientTests {
    /// An attack: the head and body bytes sent before the smuggled request, and the status it must get.
    struct Attack: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: String
        var status: Int
        var code: String
        var testDescription: String { name }
    }

    /// Attacks inside a chunked body target a real POST route, so that the head passes the route,
    /// method and Content-Type checks and the body is read.
    static let attacks: [Attack] = [
        Attack(name: "Content-Length and Transfer-Encoding",
               bytes: "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "Transfer-Encoding then Content-Length",
               bytes: "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "two Transfer-Encoding fields",
               bytes: "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "duplicate Content-Length fields that differ",
               bytes: "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 7\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "a Content-Length list that differs",
               bytes: "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 7\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "negative Content-Length",
               bytes: "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "obs-fold hiding Transfer-Encoding",
               bytes: "POST /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "bare LF line endings",
               bytes: "GET /healthz HTTP/1.1\nHost: x\n\n",
               status: 400, code: "invalid_request"),
        Attack(name: "bare LF inside the header section",
               bytes: "GET /healthz HTTP/1.1\r\nHost: x\nTransfer-Encoding: chunked\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "bare CR inside the header section",
               bytes: "GET /healthz HTTP/1.1\r\nHost: x\rContent-Length: 0\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "space before the colon",
               bytes: "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "NUL in a header value",
               bytes: "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Nul: a\u{0}b\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "NUL in a header name",
               bytes: "GET /healthz HTTP/1.1\r\nHost: x\r\nX-N\u{0}ul: a\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "unknown transfer coding",
               bytes: "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
               status: 400, code: "invalid_request"),
        Attack(name: "chunk extension with a bare LF",
               bytes: "POST /agents/hostile/sessions/s/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1;a\nb\r\nz\r\n0\r\n\r\n",
               status: 400, code: "invalid_request"),
        // A chunk size past Int.max is "too large", like any chunk over the body limit: 413, then close.
        Attack(name: "chunk-size overflow",
               bytes: "POST /agents/hostile/sessions/s/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000001\r\nz\r\n0\r\n\r\n",
               status: 413, code: "payload_too_large"),
        Attack(name: "101 header fields",
               bytes: "GET /healthz HTTP/1.1\r\nHost: x\r\n" + (1...100).map { "X-F\($0): v\r\n" }.joined() + "\r\n",
               status: 431, code: "header_too_large"),
    ]

    @Test(arguments: attacks)
    func isRefusedAndTheSmuggledRequestNeverRuns(attack: Attack) async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/smuggled"
        let smuggled = TestHTTP.request("PUT", path, body: #"{"state":"smuggled"}"#)
        let (response, rest) = try await onDedicatedThread { [port = server.port] in
            let client = try RawHTTPClient(host: "127.0.0.1", port: port)
            defer { client.close() }
            try client.send(attack.bytes + smuggled)
            let response = try client.readResponse()
            return (response, try client.readUntilClose())
        }
        #expect(response.status == attack.status)
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.json["code"] as? String == attack.code)
        #expect(response.header("Connection") == "close")
        #expect(rest.isEmpty, "a second response followed: \(String(decoding: rest, as: UTF8.self))")
        // The request behind the attack was not executed.
        #expect(try await server.call("GET", path).status == 404)
    }

    @Test func aHundredHeaderFieldsAreAccepted() async throws {
        let server = try await service()
        let fields = (1...99).map { ("X-F\($0)", "v") }  // plus Host: 100 fields
        let response = try await server.call("GET", "/healthz", headers: fields)
        #expect(response.status == 200)
    }

    @Test func aBareCRSplitAcrossReadsIsRefusedAtOnce() async throws {
        let server = try await service()
        let (response, closed) = try await onDedicatedThread { [port = server.port] in
            let client = try RawHTTPClient(host: "127.0.0.1", port: port)
            defer { client.close() }
            try client.send("GET /healthz HTTP/1.1\r\nHost: x\r")
            Thread.sleep(forTimeInterval: 0.05)
            // The head never ends; the server must answer on the byte after the CR, not at the header deadline.
            try client.send("X")
            let response = try client.readResponse()
            return (response, try client.readUntilClose().isEmpty)
        }
        #expect(response.status == 400)
        #expect(response.json["code"] as? String == "invalid_request")
        #expect(closed)
    }
}
