import Foundation
import TestSupport
import Testing

/// Process lifecycle: configuration errors, slow clients, graceful shutdown.
@Suite(.offCooperativePool)
struct LifecycleTests {
    @Test(arguments: [["--port", "abc"], ["--store", "disk"], ["--nope"], ["--max-ttl", "0"]])
    func invalidConfigurationExitsTwoWithOneLine(_ arguments: [String]) async throws {
        let (status, text) = try await AgentStateProcess.run(arguments)
        #expect(status == 2)
        #expect(text.split(separator: "\n").count == 1)
        #expect(text.hasPrefix("agentstate: "))
    }

    @Test func stalledClientIsDroppedWhileOthersAreServed() async throws {
        let server = try await service()
        let (served, closed, waited) = try await onDedicatedThread { [port = server.port] in
            let stalled = try RawHTTPClient(host: "127.0.0.1", port: port, timeout: .seconds(15))
            defer { stalled.close() }
            try stalled.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")  // never finishes its headers
            let served = try TestHTTP.call(port: port, "GET", "/healthz").status
            let started = ContinuousClock.now
            let closed = stalled.isClosedByPeer() || (try? stalled.readUntilClose()) != nil
            return (served, closed, ContinuousClock.now - started)
        }
        #expect(served == 200, "other clients are served while one stalls")
        #expect(closed, "the header deadline (10 s) must close a stalled connection")
        #expect(waited < .seconds(15))
    }

    @Test func sigtermLetsTheInFlightRequestFinishAndExitsZero() async throws {
        let server = try await AgentStateProcess(["--shutdown-grace", "10"])
        let body = #"{"state":{"done":true}}"#
        let (refused, response) = try await onDedicatedThread { [port = server.port, child = server.child] in
            let client = try RawHTTPClient(host: "127.0.0.1", port: port, timeout: .seconds(10))
            defer { client.close() }
            try client.send("PUT /agents/a/sessions/inflight HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body.prefix(5))")
            usleep(200_000)
            child.send(SIGTERM)
            usleep(300_000)
            let refused = (try? TestHTTP.call(port: port, "GET", "/healthz")) == nil
            try client.send(String(body.dropFirst(5)))
            return (refused, try client.readResponse())
        }
        #expect(refused, "the listener is closed once shutdown starts")
        #expect(response.status == 201)
        #expect(response.header("Connection")?.lowercased() == "close")
        #expect(await server.child.waitForExit(timeout: .seconds(10)) == 0)
        #expect(server.log().contains(#""msg":"shutting down""#))
    }
}
