import Foundation
import RedisClient
import Testing
import TestSupport

/// `kill -9` of a primary under writes, against the real binary in cluster mode on a private 3 + 3
/// cluster: only 201 and 503 answers, and writes to the victim's slots succeed again after promotion.
@Suite(.offCooperativePool, .serialized)
struct RedisClusterKillTests {
    @Test func aPrimaryKilledUnderWritesIsReplacedWithoutAnyAnswerOf500() async throws {
        let cluster = try await RedisClusterProcess(primaries: 3, replicasPerPrimary: 1)
        defer { Task { await cluster.stop() } }
        try await cluster.waitUntilReplicasAreInSync(timeout: .seconds(30))
        let service = try await AgentStateProcess(["--redis-mode", "cluster", "--redis-url", cluster.url, "--log-level", "warning"])
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? await service.call("GET", "/readyz"))?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "not ready within 10 s: \(service.log().suffix(400))")

        let load = ClusterWriteLoad(service: service, agent: uniqueAgent())
        // Gossip may not have told nodes[0] about every replica yet: wait until it knows one (at most 10 s).
        var topology = try await cluster.topology(from: cluster.nodes[0])
        for _ in 0..<100 where !topology.contains(where: { node in node.isPrimary && topology.contains { $0.primaryID == node.id } }) {
            try await Task.sleep(for: .milliseconds(100))
            topology = try await cluster.topology(from: cluster.nodes[0])
        }
        let primary = try #require(topology.first { node in node.isPrimary && !node.slots.isEmpty && topology.contains { $0.primaryID == node.id } })
        let replica = try #require(topology.first { $0.primaryID == primary.id }, "no replica of \(primary.id)")
        let victim = try #require(cluster.nodes.first { $0.port == primary.port })
        let replicaNode = try #require(cluster.nodes.first { $0.port == replica.port })
        let victimSlots = primary.slots
        let killedAt = Moment(), promotedAt = Moment()

        try await load.run { [cluster] in
            try await Task.sleep(for: .seconds(2))
            killedAt.record()
            await victim.crash()
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let role = try? await cluster.cli(replicaNode, ["ROLE"]), role.hasPrefix("master") {
                    promotedAt.record()
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            // Keep writing until a write to the victim's slots succeeds after the promotion (at most 30 s).
            while ContinuousClock.now < deadline + .seconds(30), let promoted = promotedAt.value {
                let resumed = load.answers.contains { answer in
                    answer.status == 201 && answer.started > promoted
                        && victimSlots.contains { $0.contains(load.slot(of: answer.session).value) }
                }
                if resumed { return }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        let statuses = load.statusCounts
        let killed = try #require(killedAt.value)
        let promoted = try #require(promotedAt.value, "the replica was not promoted within 30 s")
        let resumed = load.answers.filter { answer in
            answer.status == 201 && answer.started > promoted && victimSlots.contains { $0.contains(load.slot(of: answer.session).value) }
        }.map(\.finished).min()
        let missing = try await load.missingAcknowledgedWrites()
        print("cluster-kill-result kill_to_promotion_ms=\((promoted - killed).milliseconds)"
            + " promotion_to_first_write_ms=\(resumed.map { ($0 - promoted).milliseconds } ?? -1)"
            + " lost_acknowledged=\(missing.count) statuses=\(statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))")
        #expect(statuses[500] == nil, "answers of 500: \(statuses)\n\(service.log().suffix(1500))")
        #expect(Set(statuses.keys).isSubset(of: [201, 503]), "\(statuses)\n\(service.log().suffix(1500))")
        let first = try #require(resumed, "no write to the victim's slots succeeded after the promotion")
        #expect(first - promoted < .seconds(30))
        // Every bucket's slot is served again: one new session per bucket.
        for index in 0..<64 {
            let status = try await service.call("PUT", "/agents/\(load.agent)/sessions/after\(index)", body: #"{"state": 1}"#).status
            #expect(status == 201, "after\(index): \(status)")
        }
    }
}
