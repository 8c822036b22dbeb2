import Foundation
import TestSupport
import Testing

/// HTTP/1.1 behaviour through the whole stack: keep-alive, pipelining, chunked, 100-continue.
@Suite(.offCooperativePool)
struct ProtocolTests {
    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/p"
        let responses = try await onDedicatedThread { [port = server.port] in
            let client = try RawHTTPClient(host: "127.0.0.1", port: port)
            defer { client.close() }
            try client.send(TestHTTP.request("PUT", path, body: #"{"state":"one"}"#)
                + TestHTTP.request("GET", path) + TestHTTP.request("DELETE", path))
            return try (0..<3).map { _ in try client.readResponse() }
        }
        #expect(responses.map(\.status) == [201, 200, 204])
        #expect(responses[1].text.hasSuffix(#""state":"one"}"#))
    }

    @Test func chunkedBodyAndContinue() async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/c"
        let (interim, final, loaded) = try await onDedicatedThread { [port = server.port] in
            let client = try RawHTTPClient(host: "127.0.0.1", port: port)
            defer { client.close() }
            try client.send("PUT \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
            let interim = try client.readResponse()
            try client.send("6\r\n{\"stat\r\n9\r\ne\":[1,2]}\r\n0\r\n\r\n")
            let final = try client.readResponse()
            let loaded = try client.request(TestHTTP.request("GET", path))
            return (interim, final, loaded)
        }
        #expect(interim.status == 100)
        #expect(final.status == 201)
        #expect(loaded.text.hasSuffix(#""state":[1,2]}"#))
    }

    @Test func http10ClosesUnlessKeepAlive() async throws {
        let server = try await service()
        let (plain, closed, kept, open) = try await onDedicatedThread { [port = server.port] in
            let first = try RawHTTPClient(host: "127.0.0.1", port: port)
            defer { first.close() }
            let plain = try first.request("GET /healthz HTTP/1.0\r\n\r\n")
            let closed = first.isClosedByPeer()
            // The default 5 s timeout: a 500 ms one (which also bounded the request itself) once ran
            // out under load. The still-open check then waits those 5 s; the server's keep-alive
            // timeout is 75 s.
            let second = try RawHTTPClient(host: "127.0.0.1", port: port)
            defer { second.close() }
            let kept = try second.request("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            return (plain, closed, kept, !second.isClosedByPeer())
        }
        #expect(plain.status == 200 && closed)
        #expect(kept.status == 200 && open)
        #expect(kept.header("Connection")?.lowercased() == "keep-alive")
    }

    @Test func operationsRoutes() async throws {
        let server = try await service()
        let health = try await server.call("GET", "/healthz")
        #expect(health.text == #"{"status":"ok"}"#)
        let ready = try await server.call("GET", "/readyz")
        #expect(ready.status == 200 && ready.text == #"{"status":"ready"}"#)
        let metrics = try await server.call("GET", "/metrics")
        #expect(metrics.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(metrics.text.contains("# TYPE agentstate_http_requests_total counter"))
        let spec = try await server.call("GET", "/openapi.yaml")
        #expect(spec.text.hasPrefix("openapi: 3.1.0"))
    }
}
