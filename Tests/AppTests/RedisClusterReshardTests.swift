import Foundation
import RedisClient
import Synchronization
import Testing
import TestSupport

/// Live resharding under writes, against the real binary in cluster mode on a private cluster: a 4th
/// empty primary joins, one slot of a session being written is migrated key by key (so `-ASK` is
/// certain), then `redis-cli --cluster reshard` moves 1,000 more slots, while `ClusterWriteLoad` writes.
@Suite(.offCooperativePool, .serialized)
struct RedisClusterReshardTests {
    @Test func reshardingToANewPrimaryDuringWritesLosesNothingAndFollowsMovedAndAsk() async throws {
        let cluster = try await RedisClusterProcess(primaries: 3)
        let added = try await cluster.addEmptyPrimary()
        defer { Task { await cluster.stop(); await added.stop() } }
        let service = try await AgentStateProcess(["--redis-mode", "cluster", "--redis-url", cluster.url, "--log-level", "warning"])
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? await service.call("GET", "/readyz"))?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "not ready within 10 s: \(service.log().suffix(400))")

        let load = ClusterWriteLoad(service: service, agent: uniqueAgent())
        let slot = load.slot(of: "log0").value
        let nodes = try await cluster.topology(from: cluster.nodes[0])
        let source = try #require(nodes.first { $0.slots.contains { $0.contains(slot) } })
        let sourceNode = try #require(cluster.nodes.first { $0.port == source.port })
        let targetID = try await cluster.cli(added, ["CLUSTER", "MYID"])
        let timings = Timings()

        try await load.run { [cluster] in
            try await Task.sleep(for: .seconds(2))
            let migrated = ContinuousClock.now
            try await Self.migrate(slot: slot, from: sourceNode, sourceID: source.id, to: added, targetID: targetID, in: cluster)
            timings.slotMigration = .now - migrated
            try await Task.sleep(for: .seconds(1))
            let resharded = ContinuousClock.now
            try await Self.reshard(cluster, slots: 1000, to: targetID)
            timings.reshard = .now - resharded
        }

        let statuses = load.statusCounts
        let moved = try await load.redirects("moved"), ask = try await load.redirects("ask")
        print("cluster-reshard-result slot_migration_ms=\(timings.slotMigration.milliseconds) reshard_1000_slots_ms=\(timings.reshard.milliseconds)"
            + " moved=\(moved) ask=\(ask) statuses=\(statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))")
        // A script cut short by the migrating slot ("Script attempted to access a non local key" for a
        // key it derives rather than declares) is answered 503, never 500 (RedisStateStore.storeError).
        #expect(statuses[500] == nil, "answers of 500: \(statuses) \(load.answers.filter { $0.status == 500 }.prefix(3).map { "\($0.session): \($0.detail)" })\n\(service.log().split(separator: "\n").filter { $0.contains("internal") || $0.contains("rror") || $0.contains("500") }.prefix(5))")
        #expect(Set(statuses.keys).isSubset(of: [201, 503]), "\(statuses)\n\(service.log().suffix(1500))")
        #expect((statuses[201] ?? 0) > 100, "too few acknowledged writes: \(statuses)")
        let missing = try await load.missingAcknowledgedWrites()
        #expect(missing.isEmpty, "acknowledged writes missing: \(missing.prefix(10))")
        #expect(moved > 0 && ask > 0, "moved=\(moved) ask=\(ask)")
        let owned = try await cluster.topology(from: added).first { $0.id == targetID }?.slots.reduce(0) { $0 + $1.count } ?? 0
        #expect(owned == 1001, "the new primary owns \(owned) slots")
    }

    /// Moves `slot` with `CLUSTER SETSLOT … IMPORTING/MIGRATING` and one `MIGRATE` per key, 10 ms
    /// apart, so that writes meet it half-migrated; then assigns it to the target on every node.
    private static func migrate(slot: Int, from source: RedisServerProcess, sourceID: String,
                                to target: RedisServerProcess, targetID: String, in cluster: RedisClusterProcess) async throws {
        let slotText = String(slot)
        _ = try await cluster.cli(target, ["CLUSTER", "SETSLOT", slotText, "IMPORTING", sourceID])
        _ = try await cluster.cli(source, ["CLUSTER", "SETSLOT", slotText, "MIGRATING", targetID])
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            // The bucket's index keys first: a new session's keys are then all missing on the source, which answers -ASK.
            let keys = try await cluster.cli(source, ["CLUSTER", "GETKEYSINSLOT", slotText, "10000"])
                .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
                .sorted { ($0.hasSuffix("}") || $0.contains("}::")) && !($1.hasSuffix("}") || $1.contains("}::")) }
            if keys.isEmpty { break }
            for key in keys {
                _ = try await cluster.cli(source, ["MIGRATE", "127.0.0.1", String(target.port), key, "0", "5000"])
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        for node in [target, source] + cluster.nodes.filter({ $0 !== source }) {
            _ = try await cluster.cli(node, ["CLUSTER", "SETSLOT", slotText, "NODE", targetID])
        }
    }

    /// `redis-cli --cluster reshard` of `slots` slots from every primary to `targetID`, retried (at most
    /// 5 times) while the nodes do not agree yet after the manual migration.
    private static func reshard(_ cluster: RedisClusterProcess, slots: Int, to targetID: String) async throws {
        var lastError: (any Error)?
        for _ in 0..<5 {
            do {
                _ = try await cluster.clusterCommand([
                    "reshard", "127.0.0.1:\(cluster.nodes[0].port)", "--cluster-from", "all", "--cluster-to", targetID,
                    "--cluster-slots", String(slots), "--cluster-yes",
                ])
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .seconds(1))
            }
        }
        throw lastError!
    }
}

/// The durations the disruption measures, read after the load.
private final class Timings: Sendable {
    private let values = Mutex<(slotMigration: Duration, reshard: Duration)>((.zero, .zero))
    var slotMigration: Duration {
        get { values.withLock { $0.slotMigration } }
        set { values.withLock { $0.slotMigration = newValue } }
    }
    var reshard: Duration {
        get { values.withLock { $0.reshard } }
        set { values.withLock { $0.reshard = newValue } }
    }
}

extension Duration {
    /// Whole milliseconds, for result lines.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
