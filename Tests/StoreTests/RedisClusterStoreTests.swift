import Foundation
import RedisClient
@testable import Store
import Testing
import TestSupport

/// `RedisStateStore` in the cluster layout on a real 3-primary cluster: one slot per session,
/// one agent spread over every primary, lists merged across buckets.
@Suite(.offCooperativePool) struct RedisClusterStoreTests {
    @Test func oneAgentsSessionsSpreadOverEveryPrimaryWithEachSessionInOneSlot() async throws {
        let cluster = try await RedisClusterProcess.shared()
        let client = try await SharedRedisPool.clusterClient()
        let prefix = "test:\(UUID().uuidString):"
        let store = RedisStateStore(client: client, keyPrefix: prefix, layout: .cluster(buckets: 16))
        try await store.loadScripts()
        #expect(!store.completesWithoutTask, "the Cluster client's commands run in tasks, so the API keeps its own")
        let agent = Fixtures.agentID()
        var ids: [String] = []
        for index in 0..<200 {
            let key = Fixtures.key(agent, "s\(index)")
            ids.append(key.sessionID)
            if index % 3 == 0 {
                _ = try await store.append(key, messages: [Fixtures.json("1")], keys: ["k"], options: .init(labels: ["kind": "a"]),
                                           idempotency: IdempotencyToken(key: "i\(index)", bodyDigest: "d"))
            } else {
                _ = try await store.save(key, state: Fixtures.json("\(index)"), options: .init(ttl: .seconds(600)))
            }
        }

        // Every key of a session, its bucket's index keys included, is in one slot.
        for id in ids.prefix(30) {
            let keys = store.sessionKeys(Fixtures.key(agent, id)).map { String(decoding: $0, as: UTF8.self) }
            var slots = Set<String>()
            for key in keys { slots.insert(try await cluster.cli(cluster.nodes[0], ["CLUSTER", "KEYSLOT", key])) }
            #expect(slots.count == 1, "\(keys) span slots \(slots)")
            #expect(keys[0] == "\(prefix){\(agent)#\(store.layout.bucket(of: id))}:\(id)", "readable, hash-tagged record key")
        }
        // The agent's keys are on every primary.
        for node in cluster.nodes.prefix(cluster.primaryCount) {
            let found = try await cluster.cli(node, ["--scan", "--pattern", "\(prefix)*"])
            #expect(!found.isEmpty, "no key of the agent on node \(node.port)")
        }

        // Paging merges the buckets in list order, each session exactly once.
        var seen: [SessionMetadata] = []
        var cursor: ListCursor?
        for _ in 0..<100 {
            let page = try await store.list(agentID: agent, limit: 7, cursor: cursor)
            seen += page.sessions
            cursor = page.nextCursor
            if cursor == nil { break }
        }
        #expect(seen.map(\.sessionID).sorted() == ids.sorted())
        #expect(zip(seen, seen.dropFirst()).allSatisfy { RedisStateStore.listsBefore($0, $1) })
        #expect(try await store.list(agentID: agent, limit: 1000, cursor: nil, label: LabelFilter(key: "kind", value: "a")).sessions.count == 67)
        #expect(try await store.list(agentID: agent, prefix: "s1", limit: 1000, after: nil).sessions.map(\.sessionID)
            == ids.filter { $0.hasPrefix("s1") }.sorted())

        // Delete-all goes bucket by bucket.
        #expect(try await store.deleteAll(agentID: agent) == 200)
        #expect(try await store.list(agentID: agent, limit: 10, cursor: nil).sessions.isEmpty)
    }

    @Test func aDifferentBucketCountIsRefusedAtStartup() async throws {
        let client = try await SharedRedisPool.clusterClient()
        let prefix = "test:\(UUID().uuidString):"
        try await RedisStateStore(client: client, keyPrefix: prefix, layout: .cluster(buckets: 8)).loadScripts()
        try await RedisStateStore(client: client, keyPrefix: prefix, layout: .cluster(buckets: 8)).loadScripts()
        await #expect(throws: RedisKeyLayout.Mismatch.self) {
            try await RedisStateStore(client: client, keyPrefix: prefix, layout: .cluster(buckets: 16)).loadScripts()
        }
    }
}
