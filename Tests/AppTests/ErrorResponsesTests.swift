import Foundation
import TestSupport
import Testing

/// Every error code of the contract, answered as problem+json with the request ID.
@Suite(.offCooperativePool)
struct ErrorResponsesTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var method: String
        var path: String
        var headers: [(String, String)] = []
        var body: String?
        var status: Int
        var code: String
        var testDescription: String { "\(method) \(path) → \(status) \(code)" }
    }

    static let cases: [Case] = [
        Case(method: "GET", path: "/agents/bad%2Fid/sessions/s", status: 400, code: "invalid_id"),
        Case(method: "GET", path: "/agents/-x/sessions/s", status: 400, code: "invalid_id"),
        Case(method: "GET", path: "/agents//sessions/s", status: 400, code: "invalid_id"),
        Case(method: "GET", path: "/agents/a/sessions/%2E%2E", status: 400, code: "invalid_id"),
        Case(method: "GET", path: "/agents/a/sessions/caf%C3%A9", status: 400, code: "invalid_id"),
        Case(method: "PUT", path: "/agents/a/sessions/s", body: #"{"state":"#, status: 400, code: "invalid_json"),
        Case(method: "PUT", path: "/agents/a/sessions/s", body: #"{"nostate":1}"#, status: 400, code: "invalid_request"),
        Case(method: "PUT", path: "/agents/a/sessions/s", body: "[1]", status: 400, code: "invalid_request"),
        Case(method: "PUT", path: "/agents/a/sessions/s", body: #"{"state":1,"ttl_seconds":1.5}"#, status: 400, code: "invalid_request"),
        Case(method: "POST", path: "/agents/a/sessions/s/messages", body: #"{"messages":[]}"#, status: 400, code: "invalid_request"),
        Case(method: "GET", path: "/agents/a/sessions/s/messages?limit=1001", status: 400, code: "invalid_request"),
        Case(method: "GET", path: "/agents/a/sessions/s/messages?after=-1", status: 400, code: "invalid_request"),
        Case(method: "GET", path: "/agents/a/sessions/", status: 404, code: "route_not_found"),
        Case(method: "GET", path: "/nope", status: 404, code: "route_not_found"),
        Case(method: "PATCH", path: "/agents/a/sessions/s", status: 405, code: "method_not_allowed"),
        Case(method: "POST", path: "/healthz", status: 405, code: "method_not_allowed"),
        Case(method: "PUT", path: "/agents/a/sessions/s", headers: [("Content-Type", "text/plain")], body: #"{"state":1}"#, status: 415, code: "unsupported_media_type"),
        Case(method: "PUT", path: "/agents/a%2F/sessions/s", headers: [("Content-Type", "text/plain")], body: "x", status: 400, code: "invalid_id"),
    ]

    @Test(arguments: cases)
    func problemResponses(_ testCase: Case) async throws {
        let server = try await service()
        let response = try await server.call(testCase.method, testCase.path, headers: testCase.headers, body: testCase.body)
        #expect(response.status == testCase.status)
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.json["code"] as? String == testCase.code)
        #expect(response.json["status"] as? Int == testCase.status)
        #expect(response.json["title"] is String && response.json["detail"] is String && response.json["type"] is String)
        #expect(response.json["request_id"] as? String == response.header("X-Request-Id"))
    }

    @Test func methodNotAllowedListsAllow() async throws {
        let response = try await service().call("POST", "/agents/a/sessions/s")
        #expect(response.header("Allow") == "GET, HEAD, PUT, DELETE")
    }

    @Test func oversizedBodyIsRefusedBeforeItIsSent() async throws {
        let server = try await service()
        let response = try await onDedicatedThread { [port = server.port] in
            let client = try RawHTTPClient(host: "127.0.0.1", port: port)
            defer { client.close() }
            return try client.request("PUT /agents/a/sessions/s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048577\r\n\r\n")
        }
        #expect(response.status == 413)
        #expect(response.json["code"] as? String == "payload_too_large")
    }

    @Test func bodyExactlyAtTheLimitIsAccepted() async throws {
        let server = try await service()
        let prefix = #"{"state":""#, suffix = #""}"#
        let filler = String(repeating: "x", count: 1_048_576 - prefix.utf8.count - suffix.utf8.count)
        let response = try await server.call("PUT", "/agents/\(uniqueAgent())/sessions/big", body: prefix + filler + suffix)
        #expect(response.status == 201)
        #expect(response.json["state_bytes"] as? Int == filler.utf8.count + 2)
    }

    @Test func longTargetAndHugeHeaders() async throws {
        let server = try await service()
        let long = try await server.call("GET", "/agents/a/sessions/s?x=" + String(repeating: "a", count: 9000))
        #expect(long.status == 414)
        #expect(long.json["code"] as? String == "uri_too_long")
        let huge = try await server.call("GET", "/healthz", headers: [("X-Filler", String(repeating: "b", count: 17_000))])
        #expect(huge.status == 431)
        #expect(huge.json["code"] as? String == "header_too_large")
    }

    @Test func malformedRequestGets400ThenClose() async throws {
        let server = try await service()
        let (response, closed) = try await onDedicatedThread { [port = server.port] in
            let client = try RawHTTPClient(host: "127.0.0.1", port: port)
            defer { client.close() }
            let response = try client.request("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
            return (response, client.isClosedByPeer())
        }
        #expect(response.status == 400)
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(closed)
    }

    @Test func requestIDsAreEchoedOrGenerated() async throws {
        let server = try await service()
        let echoed = try await server.call("GET", "/nope", headers: [("X-Request-Id", "trace:abc@1.2-3_x")])
        #expect(echoed.header("X-Request-Id") == "trace:abc@1.2-3_x")
        #expect(echoed.json["request_id"] as? String == "trace:abc@1.2-3_x")
        let replaced = try await server.call("GET", "/healthz", headers: [("X-Request-Id", "has space")])
        let generated = try #require(replaced.header("X-Request-Id"))
        #expect(generated != "has space" && !generated.isEmpty)
    }

    /// Findings of the contract audit, kept as regressions.
    @Test func auditedEdgesOfTheRequestLine() async throws {
        let server = try await service()
        let (rawNonASCII, absolute, encodedLiteral, noHost) = try await onDedicatedThread { [port = server.port] in
            func raw(_ bytes: [UInt8]) throws -> RawHTTPClient.Response {
                let client = try RawHTTPClient(host: "127.0.0.1", port: port)
                defer { client.close() }
                try client.send(bytes)
                return try client.readResponse()
            }
            return (
                try raw(Array("GET /agents/a/sessions/caf".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
                try raw(Array("GET http://127.0.0.1:\(port)/healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
                try raw(Array("GET /agents/a/%73essions HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
                try raw(Array("GET /healthz HTTP/1.1\r\n\r\n".utf8))
            )
        }
        #expect(rawNonASCII.status == 400 && rawNonASCII.json["code"] as? String == "invalid_id")
        #expect(absolute.status == 200, "absolute-form targets are accepted (RFC 9112 §3.2.2)")
        #expect(encodedLiteral.status == 200, "every segment is percent-decoded before matching")
        #expect(noHost.status == 400, "HTTP/1.1 without Host is malformed (RFC 9112 §3.2)")
    }

    @Test func rejectedBodiesStillCountAsStoreOperations() async throws {
        let server = try await AgentStateProcess(["--max-body-bytes", "100", "--log-level", "error"])
        let series = #"agentstate_store_operations_total{operation="save",outcome="invalid"}"#
        func count() async throws -> Double {
            let text = try await server.call("GET", "/metrics").text
            return text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) } ?? 0
        }
        let before = try await count()
        let tooLarge = try await server.call("PUT", "/agents/a/sessions/s", body: #"{"state":"\#(String(repeating: "x", count: 200))"}"#)
        #expect(tooLarge.status == 413)
        #expect(try await count() == before + 1)
    }
}
