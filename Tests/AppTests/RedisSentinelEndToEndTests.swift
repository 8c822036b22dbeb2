import Foundation
import Testing
import TestSupport

/// The real binary in sentinel mode, against a real primary, replica and redis-sentinel:
/// readiness, the primary and failover metrics, and `--redis-wait-replicas 1` across a failover.
@Suite(.offCooperativePool)
struct RedisSentinelEndToEndTests {
    @Test func failoverMovesThePrimaryGaugeCountsTheSwitchAndWaitReplicasHoldsWritesUntilANewReplicaSyncs() async throws {
        let primary = try await RedisServerProcess(arguments: ["--repl-diskless-sync-delay", "0"])
        let replica = try await RedisServerProcess(arguments: ["--replicaof", "127.0.0.1", String(primary.port), "--repl-diskless-sync-delay", "0"])
        let sentinel = try await RedisSentinelProcess(monitoring: primary.port)
        let dead = try FreePort.allocate()
        let service = try await AgentStateProcess([
            "--store", "redis", "--redis-mode", "sentinel", "--redis-sentinel-master", RedisSentinelProcess.masterName,
            "--redis-url", "redis://127.0.0.1:\(dead),127.0.0.1:\(sentinel.port)",
            "--redis-wait-replicas", "1", "--redis-wait-timeout-ms", "300", "--event-loops", "2",
        ])
        let agent = uniqueAgent()
        let body = #"{"state": {"n": 1}}"#

        // Ready once the replica is in sync; every write is then acknowledged by it.
        var ready = false
        for _ in 0..<300 where !ready {
            // 201, or 200 once an earlier attempt was applied on the primary but answered 503 (WAIT timed out).
            let status = (try? await service.call("PUT", "/agents/\(agent)/sessions/before", body: body))?.status
            ready = status == 201 || status == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "no acknowledged write within 30 s; log: \(service.log().suffix(600))")
        #expect(try await service.call("GET", "/readyz").status == 200)
        var metrics = try await service.call("GET", "/metrics").text
        #expect(metrics.contains(#"agentstate_redis_primary_info{address="127.0.0.1:\#(primary.port)"} 1"#))
        #expect(metrics.contains("agentstate_redis_failovers_total 0"))
        // One write and one read connection per event loop, served by the loops (plain TCP).
        #expect(metrics.contains(#"agentstate_redis_connections{state="connected"} 4"#),
                "\(metrics.split(separator: "\n").filter { $0.hasPrefix("agentstate_redis_connections") })")

        // kill -9 of the primary. Until the promoted replica has a replica of its own, writes are 503
        // (never 500); then the old primary comes back, the sentinel makes it a replica, and writes succeed.
        await primary.crash()
        var statuses: [Int: Int] = [:]
        var promoted = false
        var restarted = false
        var succeeded = false
        let start = ContinuousClock.now
        var index = 0
        while !succeeded, ContinuousClock.now - start < .seconds(60) {
            index += 1
            let status = (try? await service.call("PUT", "/agents/\(agent)/sessions/w\(index)", body: body))?.status ?? -1
            statuses[status, default: 0] += 1
            if status == 201 { succeeded = true; break }
            if !promoted {
                metrics = (try? await service.call("GET", "/metrics").text) ?? ""
                promoted = metrics.contains(#"agentstate_redis_primary_info{address="127.0.0.1:\#(replica.port)"} 1"#)
            }
            if promoted && !restarted {
                // The sentinel reconfigures the returning old primary as a replica of the new one.
                try await primary.restart()
                restarted = true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(promoted, "the primary gauge never named the promoted replica; log: \(service.log().suffix(600))")
        #expect(succeeded, "writes never resumed within 60 s: \(statuses)")
        #expect(statuses[500] == nil, "answers of 500: \(statuses)")
        #expect(Set(statuses.keys).isSubset(of: [201, 503]), "\(statuses)")
        metrics = try await service.call("GET", "/metrics").text
        #expect(metrics.contains("agentstate_redis_failovers_total 1"))
        #expect(try await service.call("GET", "/agents/\(agent)/sessions/before").status == 200, "the acknowledged write survived")
        _ = replica
    }
}
