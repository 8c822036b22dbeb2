import Foundation
import Testing
import TestSupport

/// The real binary with `--redis-mode cluster` against the shared 3-primary cluster.
@Suite(.offCooperativePool)
struct RedisClusterEndToEndTests {
    @Test func sessionsMessagesLabelsAndLeasesWorkAcrossTheCluster() async throws {
        let cluster = try await RedisClusterProcess.shared()
        let prefix = "e2e-\(UUID().uuidString):"
        let service = try await AgentStateProcess([
            "--redis-mode", "cluster", "--redis-url", cluster.url, "--key-prefix", prefix, "--log-level", "warning",
        ])
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? await service.call("GET", "/readyz"))?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "not ready within 10 s: \(service.log().suffix(400))")
        let base = "/agents/\(uniqueAgent())/sessions"
        for index in 0..<40 {
            let created = try await service.call("PUT", "\(base)/s\(index)", body: #"{"state": \#(index), "labels": {"n": "\#(index % 2)"}}"#)
            #expect(created.status == 201)
        }
        #expect(try await service.call("POST", "\(base)/s1/messages", headers: [("Idempotency-Key", "k")], body: #"{"messages": [1, 2]}"#).status == 201)
        #expect(try await service.call("GET", "\(base)/s1/messages").json["messages"].map { ($0 as? [Any])?.count } == 2)
        #expect(try await service.call("GET", "\(base)/s7").json["state"] as? Int == 7)

        var seen: [String] = []
        var cursor: String?
        for _ in 0..<20 {
            let page = try await service.call("GET", "\(base)?limit=6" + (cursor.map { "&cursor=\($0)" } ?? ""))
            seen += (page.json["sessions"] as? [[String: Any]] ?? []).compactMap { $0["session_id"] as? String }
            cursor = page.json["next_cursor"] as? String
            if cursor == nil { break }
        }
        #expect(seen.count == 40 && Set(seen).count == 40)
        #expect((try await service.call("GET", "\(base)?label=n:1&limit=100").json["sessions"] as? [Any])?.count == 20)
        #expect(try await service.call("PUT", "\(base)/s3/lease", body: #"{"holder": "w", "ttl_ms": 5000}"#).status == 201)
        #expect(try await service.call("PUT", "\(base)/s3", headers: [("Fencing-Token", "0")], body: #"{"state": 0}"#).status == 409)
        #expect(try await service.call("DELETE", "\(base)?prefix=s1").json["deleted"] as? Int == 11)
        #expect(try await service.call("DELETE", base).json["deleted"] as? Int == 29)

        let metrics = try await service.call("GET", "/metrics").text
        #expect(metrics.contains("# TYPE agentstate_redis_redirects_total counter"))
        #expect(!metrics.contains(#"outcome="error""#), "no 5xx: \(metrics.split(separator: "\n").filter { $0.contains("error") }.prefix(5))")
    }
}
