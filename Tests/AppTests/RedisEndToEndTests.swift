import Foundation
import RedisClient
import TestSupport
import Testing

/// The real binary with `--store redis` against a real `redis-server` started by the harness.
@Suite(.offCooperativePool)
struct RedisEndToEndTests {
    /// agentstate on a shared Redis, with a key prefix of its own.
    private func redisService(_ extra: [String] = []) async throws -> AgentStateProcess {
        let redis = try await RedisServerProcess.shared()
        return try await AgentStateProcess(["--redis-url", redis.url, "--key-prefix", "e2e-\(UUID().uuidString):", "--log-level", "warning"] + extra)
    }

    /// Standalone `redis://` connections move onto the event loops: one write and one read connection per
    /// loop, and no Redis I/O thread left once they have moved; requests keep being answered.
    @Test func redisConnectionsMoveOntoTheEventLoops() async throws {
        let server = try await redisService(["--event-loops", "2"])
        let path = "/agents/\(uniqueAgent())/sessions/loops"
        var threads: [String] = []
        var connected: String?
        for _ in 0..<250 {
            #expect(try await server.call("PUT", path, body: #"{"state":1}"#).status < 300)
            #expect(try await server.call("GET", path).status == 200)
            let metrics = try await server.call("GET", "/metrics").text
            connected = metrics.split(separator: "\n").first { $0.hasPrefix(#"agentstate_redis_connections{state="connected"}"#) }.map(String.init)
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.child.pid)/task")) ?? []
            threads = tasks.compactMap { try? String(contentsOfFile: "/proc/\(server.child.pid)/task/\($0)/comm", encoding: .utf8) }
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            if connected?.hasSuffix(" 4") == true, !threads.contains(where: { $0.hasPrefix("redis-io") }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(connected?.hasSuffix(" 4") == true, "\(connected ?? "no gauge")")
        #expect(threads.filter { $0.hasPrefix("http-loop-") }.count == 2, "\(threads)")
        #expect(!threads.contains { $0.hasPrefix("redis-io") }, "no connection is left on an I/O thread: \(threads)")
    }

    @Test func fiftyConditionalWritersExactlyOneWins() async throws {
        let server = try await redisService()
        let path = "/agents/\(uniqueAgent())/sessions/race"
        #expect(try await server.call("PUT", path, body: #"{"state":0}"#).status == 201)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<50 {
                group.addTask { try await server.call("PUT", path, headers: [("If-Match", #""1""#)], body: #"{"state":\#(writer)}"#).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 1)
        #expect(statuses.filter { $0 == 412 }.count == 49)
    }

    @Test func concurrentAppendsGetFiveHundredDenseSeqs() async throws {
        let server = try await redisService()
        let path = "/agents/\(uniqueAgent())/sessions/log/messages"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<10 {
                group.addTask {
                    for message in 0..<50 {
                        let response = try await server.call("POST", path, body: #"{"messages":["\#(writer)-\#(message)"]}"#)
                        #expect(response.status == 201)
                    }
                }
            }
            try await group.waitForAll()
        }
        let page = try await server.call("GET", path + "?after=0&limit=1000")
        let messages = try #require(page.json["messages"] as? [[String: Any]])
        #expect(messages.compactMap { $0["seq"] as? Int } == Array(1...500))
    }

    @Test func oneMebibyteStateRoundTripsByteForByte() async throws {
        let server = try await redisService(["--max-body-bytes", "2097152"])
        var state = "["
        var index = 0
        while state.utf8.count < 1_048_576 - 40 {
            state += "9007199254740993,0.1,\"\\u00e9\(index)\","
            index += 1
        }
        state += "12345678901234567890]"
        let path = "/agents/\(uniqueAgent())/sessions/big"
        let saved = try await server.call("PUT", path, body: #"{"state":\#(state)}"#)
        #expect(saved.status == 201)
        #expect(saved.json["state_bytes"] as? Int == state.utf8.count)
        let loaded = try await server.call("GET", path)
        #expect(loaded.text.hasSuffix(#","state":\#(state)}"#))
    }

    @Test func redisGoingAwayGives503AndRecoversWithoutRestart() async throws {
        let redis = try await RedisServerProcess()
        let server = try await AgentStateProcess(["--redis-url", redis.url, "--log-level", "warning"])
        let path = "/agents/\(uniqueAgent())/sessions/s"
        #expect(try await server.call("PUT", path, body: #"{"state":1}"#).status == 201)
        #expect(try await server.call("GET", "/readyz").status == 200)

        await redis.stop()
        let down = try await server.call("PUT", path, body: #"{"state":2}"#)
        #expect(down.status == 503)
        #expect(down.json["code"] as? String == "backend_unavailable")
        #expect(down.header("Retry-After") != nil)
        #expect(down.header("Content-Type") == "application/problem+json")
        // Usually "nothing was written"; "may or may not have been applied" if the PUT reached the
        // old connection's socket before its close was noticed. Never anything else.
        let detail = down.json["detail"] as? String ?? ""
        #expect(detail.contains("nothing was written") || detail.contains("may or may not have been applied"), "\(detail)")
        #expect(try await server.call("GET", path).status == 503)
        let notReady = try await server.call("GET", "/readyz")
        #expect(notReady.status == 503)
        #expect(notReady.json["status"] as? String == "unavailable")
        #expect(try await server.call("GET", "/healthz").status == 200, "liveness does not depend on Redis")

        try await redis.restart()
        let started = ContinuousClock.now
        var recovered = false
        while ContinuousClock.now - started < .seconds(5) {
            let attempt = try await server.call("PUT", path, body: #"{"state":3}"#)
            if attempt.status == 200 || attempt.status == 201 {
                recovered = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(recovered, "requests succeed within 5 s of Redis coming back, without restarting agentstate")
        #expect(try await server.call("GET", "/readyz").status == 200)
        #expect(server.child.pollExit() == nil)
    }

    @Test func redisTimingOutMidRequestGives503AndNothingHalfWritten() async throws {
        let redis = try await RedisServerProcess()
        let server = try await AgentStateProcess(["--redis-url", redis.url, "--log-level", "error"])
        let path = "/agents/\(uniqueAgent())/sessions/s"
        #expect(try await server.call("PUT", path, body: #"{"state":"old"}"#).status == 201)
        let admin = try await RedisConnection.connect(to: try RedisURL(parsing: redis.url))
        defer { admin.close() }
        // Paused three times longer than the 2 s command timeout, so the PUT below times out even if
        // it is sent late on a busy machine.
        _ = try await admin.send("CLIENT", "PAUSE", "6000")
        let timedOut = try await server.call("PUT", path, body: #"{"state":"new","ttl_seconds":60}"#)
        #expect(timedOut.status == 503)
        #expect(timedOut.header("Retry-After") != nil)
        // The script reached Redis's socket before the pause ended: its outcome is unknown.
        #expect((timedOut.json["detail"] as? String)?.contains("may or may not have been applied") == true, "\(timedOut.text)")
        var loaded = try await server.call("GET", path)
        let deadline = ContinuousClock.now + .seconds(20)
        while loaded.status != 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            loaded = try await server.call("GET", path)
        }
        #expect(loaded.status == 200)
        let version = loaded.json["version"] as? Int
        let state = loaded.json["state"] as? String
        // Atomic: either the write never happened or it happened whole.
        #expect((version == 1 && state == "old" && loaded.json["ttl_seconds"] is NSNull)
            || (version == 2 && state == "new" && loaded.json["ttl_seconds"] as? Int == 60))
    }

    /// `--redis-command-timeout-ms` replaces the 2 s default: a PUT held by a 6 s pause (three times the default)
    /// waits it out and is applied once, instead of answering 503.
    @Test func aLongerCommandTimeoutOutlastsAPause() async throws {
        let redis = try await RedisServerProcess()
        let server = try await AgentStateProcess(["--redis-url", redis.url, "--log-level", "error", "--redis-command-timeout-ms", "30000"])
        let path = "/agents/\(uniqueAgent())/sessions/s"
        #expect(try await server.call("PUT", path, body: #"{"state":"old"}"#).status == 201)
        let admin = try await RedisConnection.connect(to: try RedisURL(parsing: redis.url))
        defer { admin.close() }
        _ = try await admin.send("CLIENT", "PAUSE", "6000", "WRITE")
        // A client that waits longer than the pause (TestHTTP's calls give up after 5 s).
        let held = try await onDedicatedThread { [port = server.port] in
            let client = try RawHTTPClient(host: "127.0.0.1", port: port, timeout: .seconds(30))
            defer { client.close() }
            return try client.request(TestHTTP.request("PUT", path, body: #"{"state":"new"}"#), bodyless: false)
        }
        #expect(held.status == 200, "\(held.text)")
        let loaded = try await server.call("GET", path)
        #expect(loaded.json["version"] as? Int == 2 && loaded.json["state"] as? String == "new")
    }

    @Test func redisAtMaxmemoryGives503WithAClearDetailAndReadsStillWork() async throws {
        let redis = try await RedisServerProcess(arguments: ["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"])
        let server = try await AgentStateProcess(["--redis-url", redis.url, "--log-level", "error"])
        let agent = uniqueAgent()
        let body = #"{"state":""# + String(repeating: "x", count: 32 * 1024) + #""}"#
        var refused: RawHTTPClient.Response?
        for index in 0..<1_000 {
            let response = try await server.call("PUT", "/agents/\(agent)/sessions/s\(index)", body: body)
            if response.status != 201 {
                refused = response
                break
            }
        }
        let response = try #require(refused, "no write was refused at maxmemory")
        #expect(response.status == 503)
        #expect(response.json["code"] as? String == "backend_unavailable")
        #expect((response.json["detail"] as? String)?.contains("out of memory") == true)
        #expect(response.header("Retry-After") != nil)
        #expect(try await server.call("GET", "/agents/\(agent)/sessions/s0").status == 200, "reads still work")
        #expect(try await server.call("DELETE", "/agents/\(agent)/sessions/s0").status == 204, "deletes still work")
    }

    @Test func loadsKeepBeingAnsweredWhileRedisPausesWritesAndReadYourWritesHolds() async throws {
        let redis = try await RedisServerProcess()
        let server = try await AgentStateProcess(["--redis-url", redis.url, "--log-level", "error"])
        let path = "/agents/\(uniqueAgent())/sessions/s"
        #expect(try await server.call("PUT", path, body: #"{"state":"old"}"#).status == 201)
        let admin = try await RedisConnection.connect(to: try RedisURL(parsing: redis.url))
        defer { admin.close() }
        _ = try await admin.send("CLIENT", "PAUSE", "5000", "WRITE")
        // A write held by the pause, and loads beside it.
        async let paused = server.call("PUT", path, body: #"{"state":"held"}"#)
        try await Task.sleep(for: .milliseconds(300))
        for _ in 0..<3 {
            let loaded = try await server.call("GET", path)
            #expect(loaded.status == 200, "a load must not queue behind the paused write")
            #expect(loaded.json["state"] as? String == "old")
        }
        #expect(try await server.call("GET", "/healthz").status == 200)
        #expect(try await paused.status == 503, "the held write times out after 2 s")
        _ = try await admin.send("CLIENT", "UNPAUSE")

        // Read-your-writes on one connection: a pipelined GET after a PUT sees the PUT.
        let (put, get) = try await onDedicatedThread { [port = server.port] in
            let client = try RawHTTPClient(host: "127.0.0.1", port: port, timeout: .seconds(10))
            defer { client.close() }
            let body = #"{"state":"new"}"#
            try client.send(TestHTTP.request("PUT", path, body: body) + TestHTTP.request("GET", path))
            return (try client.readResponse(), try client.readResponse())
        }
        #expect(put.status == 200)
        #expect(get.status == 200)
        #expect(get.json["version"] as? Int == put.json["version"] as? Int)
        #expect(get.json["state"] as? String == "new")
    }
}
