import Foundation
import Testing
import TestSupport

/// API v1.1 sessions over real sockets against the real binary, on both backends: labels, the
/// label and prefix lists, prefix delete, leases and `Fencing-Token`, with their status codes and
/// bad input (DESIGN §11).
@Suite(.offCooperativePool)
struct SessionsV11RoutesTests {
    /// The shared in-memory service, or a fresh one on the shared redis-server.
    /// - Parameter extra: More flags for the Redis-backed process.
    private func server(_ backend: String, _ extra: [String] = []) async throws -> AgentStateProcess {
        guard backend == "redis" else { return try await service() }
        let redis = try await RedisServerProcess.shared()
        return try await AgentStateProcess(["--redis-url", redis.url, "--key-prefix", "v11-\(UUID().uuidString):", "--log-level", "warning"] + extra)
    }

    private func ids(_ response: RawHTTPClient.Response) -> [String] {
        (response.json["sessions"] as? [[String: Any]] ?? []).compactMap { $0["session_id"] as? String }
    }

    @Test(arguments: ["memory", "redis"])
    func labelsAreAlwaysInTheResourceAndFilterTheList(_ backend: String) async throws {
        let server = try await server(backend)
        let base = "/agents/\(uniqueAgent())/sessions"
        let created = try await server.call("PUT", "\(base)/a", body: #"{"state": 1, "labels": {"user": "u:1", "team": "ops"}}"#)
        #expect(created.status == 201)
        #expect(created.json["labels"] as? [String: String] == ["user": "u:1", "team": "ops"])
        #expect(created.json["lease"] is NSNull)
        #expect(try await server.call("PUT", "\(base)/b", body: #"{"state": 1}"#).json["labels"] as? [String: String] == [:])
        #expect(try await server.call("POST", "\(base)/c/messages", body: #"{"messages": [1], "labels": {"user": "u:1"}}"#).status == 201)
        #expect(try await server.call("PUT", "\(base)/d/messages", body: #"{"messages": [], "labels": {"user": "u:1"}}"#).status == 201)
        #expect(try await server.call("GET", "\(base)/a").json["labels"] as? [String: String] == ["user": "u:1", "team": "ops"])

        // The parameter splits at its first ':', so the value keeps its own.
        let first = try await server.call("GET", "\(base)?label=user:u%3A1&limit=2")
        #expect(first.status == 200)
        #expect(ids(first) == ["d", "c"])
        let cursor = try #require(first.json["next_cursor"] as? String)
        #expect(ids(try await server.call("GET", "\(base)?label=user:u:1&limit=2&cursor=\(cursor)")) == ["a"])

        // Relabel, clear, keep.
        #expect(try await server.call("PUT", "\(base)/d", body: #"{"state": 2, "labels": {"user": "other"}}"#).status == 200)
        #expect(try await server.call("POST", "\(base)/c/messages", body: #"{"messages": [2], "labels": {}}"#).status == 201)
        #expect(try await server.call("PUT", "\(base)/a", body: #"{"state": 3}"#).json["labels"] as? [String: String] == ["user": "u:1", "team": "ops"])
        #expect(ids(try await server.call("GET", "\(base)?label=user:u:1")) == ["a"])
        #expect(ids(try await server.call("GET", "\(base)?label=user:other")) == ["d"])
    }

    @Test(arguments: ["memory", "redis"])
    func prefixListsInIDOrderAndPrefixDeleteCounts(_ backend: String) async throws {
        let server = try await server(backend)
        let base = "/agents/\(uniqueAgent())/sessions"
        for id in ["job-2", "job-10", "job-1", "jobs", "other"] {
            #expect(try await server.call("PUT", "\(base)/\(id)", body: #"{"state": 1}"#).status == 201)
        }
        let page = try await server.call("GET", "\(base)?prefix=job-&limit=2")
        #expect(page.status == 200)
        #expect(ids(page) == ["job-1", "job-10"])
        let cursor = try #require(page.json["next_cursor"] as? String)
        let rest = try await server.call("GET", "\(base)?prefix=job-&limit=2&cursor=\(cursor)")
        #expect(ids(rest) == ["job-2"])
        #expect(rest.json["next_cursor"] is NSNull)

        let deleted = try await server.call("DELETE", "\(base)?prefix=job-")
        #expect(deleted.status == 200)
        #expect(deleted.json["deleted"] as? Int == 3)
        #expect(ids(try await server.call("GET", base)).sorted() == ["jobs", "other"])
        #expect(try await server.call("DELETE", "\(base)?prefix=job-").json["deleted"] as? Int == 0)
    }

    @Test(arguments: ["memory", "redis"])
    func leaseLifecycleAndFencing(_ backend: String) async throws {
        let server = try await server(backend)
        let path = "/agents/\(uniqueAgent())/sessions/s"
        let lease = "\(path)/lease"
        #expect(try await server.call("PUT", lease, body: #"{"holder": "w1", "ttl_ms": 10000}"#).json["code"] as? String == "not_found")
        #expect(try await server.call("PUT", path, body: #"{"state": 1}"#).status == 201)
        #expect(try await server.call("GET", lease).status == 404)

        let acquired = try await server.call("PUT", lease, body: #"{"holder": "w1", "ttl_ms": 10000}"#)
        #expect(acquired.status == 201)
        #expect(acquired.json["holder"] as? String == "w1")
        #expect(acquired.json["fencing_token"] as? Int == 1)
        #expect((acquired.json["acquired_at"] as? String)?.hasSuffix("Z") == true)
        #expect((acquired.json["expires_at"] as? String)?.hasSuffix("Z") == true)
        let renewed = try await server.call("PUT", lease, body: #"{"holder": "w1", "ttl_ms": 20000}"#)
        #expect(renewed.status == 200)
        #expect(renewed.json["fencing_token"] as? Int == 1)

        let held = try await server.call("PUT", lease, body: #"{"holder": "w2", "ttl_ms": 10000}"#)
        #expect(held.status == 409)
        #expect(held.header("Content-Type") == "application/problem+json")
        #expect(held.json["code"] as? String == "lease_held")
        #expect(held.json["holder"] as? String == "w1")
        #expect(held.json["expires_at"] as? String == renewed.json["expires_at"] as? String)

        let session = try await server.call("GET", path)
        #expect(session.header("ETag") == #""1""#, "lease operations leave the version alone")
        let inResource = try #require(session.json["lease"] as? [String: Any])
        #expect(inResource["holder"] as? String == "w1")
        #expect(inResource["fencing_token"] as? Int == 1)
        #expect(inResource["expires_at"] as? String == renewed.json["expires_at"] as? String)
        #expect(try await server.call("GET", lease).json["holder"] as? String == "w1")

        #expect(try await server.call("DELETE", lease, headers: [("Lease-Holder", "w2")]).json["code"] as? String == "lease_held")
        #expect(try await server.call("DELETE", lease, headers: [("Lease-Holder", "w1")]).status == 204)
        #expect(try await server.call("DELETE", lease, headers: [("Lease-Holder", "w1")]).status == 404)
        #expect(try await server.call("PUT", lease, body: #"{"holder": "w1", "ttl_ms": 10000}"#).json["fencing_token"] as? Int == 2)

        // A stale Fencing-Token is refused and writes nothing; the current one and none pass.
        let stale = try await server.call("POST", "\(path)/messages", headers: [("Fencing-Token", "1")], body: #"{"messages": [1]}"#)
        #expect(stale.status == 409)
        #expect(stale.json["code"] as? String == "stale_fencing_token")
        #expect(try await server.call("DELETE", path, headers: [("Fencing-Token", "1")]).status == 409)
        #expect(try await server.call("GET", path).json["message_count"] as? Int == 0)
        #expect(try await server.call("PUT", path, headers: [("Fencing-Token", "2")], body: #"{"state": 2}"#).status == 200)
        #expect(try await server.call("POST", "\(path)/messages", body: #"{"messages": [1]}"#).status == 201)
        #expect(try await server.call("DELETE", "\(path)/messages/last", headers: [("Fencing-Token", "99999999999999999999999")]).status == 200)
    }

    @Test(arguments: ["memory", "redis"])
    func fiftyConcurrentAcquirersGetExactlyOne201(_ backend: String) async throws {
        // The race is the point here, not Redis timeouts: the shared redis-server can stall for a
        // moment while the whole suite starts up, so the command timeout is 4 s instead of 2 s (still
        // under the test client's 5 s).
        let server = try await server(backend, ["--redis-command-timeout-ms", "4000"])
        let path = "/agents/\(uniqueAgent())/sessions/race"
        #expect(try await server.call("PUT", path, body: #"{"state": 0}"#).status == 201)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<50 {
                group.addTask { try await server.call("PUT", "\(path)/lease", body: #"{"holder": "w\#(worker)", "ttl_ms": 60000}"#).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        // The statuses, counted, go into the messages: once in CI none of the 50 was 201 or 409.
        let counts = Dictionary(statuses.map { ($0, 1) }, uniquingKeysWith: +).sorted { $0.key < $1.key }
        let won = statuses.filter { $0 == 201 }.count, lost = statuses.filter { $0 == 409 }.count
        let log = won == 1 && lost == 49 ? "" : String(server.log().suffix(2_000))
        #expect(won == 1, "statuses: \(counts); log: \(log)")
        #expect(lost == 49, "statuses: \(counts); log: \(log)")
    }

    @Test func badInputIsA400ProblemAndChangesNothing() async throws {
        let server = try await service()
        let base = "/agents/\(uniqueAgent())/sessions"
        #expect(try await server.call("PUT", "\(base)/s", body: #"{"state": 1, "labels": {"k": "v"}}"#).status == 201)
        let tooMany = (0..<17).map { #""k\#($0)": "v""# }.joined(separator: ",")
        let badBodies = [
            #"{"state": 2, "labels": null}"#, #"{"state": 2, "labels": []}"#, #"{"state": 2, "labels": {"K": "v"}}"#,
            #"{"state": 2, "labels": {"1k": "v"}}"#, #"{"state": 2, "labels": {"k": ""}}"#, #"{"state": 2, "labels": {"k": 1}}"#,
            #"{"state": 2, "labels": {"k": "\#(String(repeating: "x", count: 257))"}}"#,
            #"{"state": 2, "labels": {"\#(String(repeating: "k", count: 64))": "v"}}"#,
            #"{"state": 2, "labels": {\#(tooMany)}}"#,
        ]
        for body in badBodies {
            let response = try await server.call("PUT", "\(base)/s", body: body)
            #expect(response.status == 400, "\(body.prefix(60))")
            #expect(response.json["code"] as? String == "invalid_request")
        }
        #expect(try await server.call("POST", "\(base)/s/messages", body: #"{"messages": [1], "labels": {"k": 2}}"#).status == 400)
        let after = try await server.call("GET", "\(base)/s")
        #expect(after.header("ETag") == #""1""#)
        #expect(after.json["labels"] as? [String: String] == ["k": "v"])

        let badQueries = [
            "?label=k", "?label=K:v", "?label=k:", "?label=k:v&label=k:w", "?label=k:v&prefix=s", "?prefix=", "?prefix=-x",
            "?prefix=a/b", "?prefix=\(String(repeating: "a", count: 129))", "?prefix=a&prefix=b",
        ]
        for query in badQueries {
            let response = try await server.call("GET", base + query)
            #expect(response.status == 400, "\(query)")
            #expect(response.json["code"] as? String == "invalid_request")
        }
        #expect(try await server.call("DELETE", "\(base)?label=k:v").status == 400)
        #expect(try await server.call("DELETE", "\(base)?prefix=").status == 400)
        #expect(try await server.call("GET", "\(base)/s").status == 200, "a refused DELETE deleted nothing")

        let lease = "\(base)/s/lease"
        for body in [#"{"ttl_ms": 1000}"#, #"{"holder": "", "ttl_ms": 1000}"#, #"{"holder": "a b", "ttl_ms": 1000}"#,
                     #"{"holder": "w", "ttl_ms": 99}"#, #"{"holder": "w", "ttl_ms": 600001}"#, #"{"holder": "w", "ttl_ms": 1.5}"#,
                     #"{"holder": "w"}"#, #"{"holder": 1, "ttl_ms": 1000}"#, "[]"] {
            let response = try await server.call("PUT", lease, body: body)
            #expect(response.status == 400, "\(body)")
            #expect(response.json["code"] as? String == "invalid_request")
        }
        #expect(try await server.call("PUT", lease, body: "{").json["code"] as? String == "invalid_json")
        #expect(try await server.call("PUT", lease, headers: [("Content-Type", "text/plain")], body: "{}").status == 415)
        #expect(try await server.call("DELETE", lease).status == 400)
        #expect(try await server.call("DELETE", lease, headers: [("Lease-Holder", "a b")]).status == 400)
        #expect(try await server.call("POST", lease).status == 405)
        #expect(try await server.call("GET", "/agents/\(uniqueAgent())/sessions/-bad/lease").json["code"] as? String == "invalid_id")

        for token in ["-1", "1.0", "abc", " ", "0x1"] {
            let response = try await server.call("PUT", "\(base)/s", headers: [("Fencing-Token", token)], body: #"{"state": 3}"#)
            #expect(response.status == 400, "Fencing-Token \(token)")
        }
        #expect(try await server.call("GET", "\(base)/s").header("ETag") == #""1""#)
    }
}
