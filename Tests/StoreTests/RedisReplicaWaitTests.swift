import RedisClient
@testable import Store
import Testing
import TestSupport

/// `--redis-wait-replicas`: every applied mutation is followed by `WAIT` on its connection, against a
/// real primary and a real replica started by the harness.
@Suite(.offCooperativePool) struct RedisReplicaWaitTests {
    @Test func mutationsSucceedWithTheReplicaAndAnswerReplicationIncompleteWithoutItWhileRefusalsNeverWait() async throws {
        let primary = try await RedisServerProcess()
        let replica = try await RedisServerProcess(arguments: ["--replicaof", "127.0.0.1", String(primary.port)])
        let raw = try await RedisConnection.connect(to: try RedisURL(parsing: primary.url))
        defer { raw.close() }
        // Wait (bounded) until the replica is attached and in sync.
        var attached = false
        for _ in 0..<300 where !attached {
            let info = try await raw.send("INFO", "replication").string ?? ""
            attached = info.contains("connected_slaves:1") && info.contains("state=online")
            if !attached { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(attached, "the replica never came online")

        var configuration = RedisConnectionPool.Configuration(url: try RedisURL(parsing: primary.url))
        configuration.connectionCount = 2
        configuration.commandTimeout = .seconds(5)
        let pool = RedisConnectionPool(configuration: configuration)
        let store = RedisStateStore(
            client: pool, keyPrefix: "test:wait:", replicaWait: ReplicaWait(replicas: 1, timeoutMilliseconds: 3_000))
        try await store.loadScripts()
        let key = Fixtures.key("agent", "s")

        // With the replica: writes are acknowledged, and the replica has them. (3 s for WAIT: 300 ms failed
        // once under scripts/test-under-load, where the replica may not be scheduled in time.)
        let first = try await store.save(key, state: Fixtures.json("1"), options: .init())
        _ = try await store.append(key, messages: [Fixtures.json("\"m\"")], keys: nil, options: .init(), idempotency: nil)
        let onReplica = try await RedisConnection.connect(to: try RedisURL(parsing: replica.url))
        #expect(try await onReplica.send("HGET", "test:wait:agent:s", "v").string == "2")
        onReplica.close()

        // Without it: the write is applied on the primary but answered replicationIncomplete.
        await replica.stop()
        do {
            _ = try await store.save(key, state: Fixtures.json("3"), options: .init(precondition: .ifMatch(.versions([first.metadata.version + 1]))))
            Issue.record("a write without its replica was acknowledged")
        } catch StoreError.replicationIncomplete(let acknowledged, let required) {
            #expect(acknowledged == 0 && required == 1)
        }
        #expect(try await raw.send("HGET", "test:wait:agent:s", "v").string == "3", "the write reached the primary")
        #expect(try await store.load(key).metadata.version == 3)

        // A refusal wrote nothing and answers as usual (no WAIT, no 503).
        do {
            _ = try await store.save(key, state: Fixtures.json("4"), options: .init(precondition: .ifMatch(.versions([1]))))
            Issue.record("a stale If-Match was accepted")
        } catch StoreError.preconditionFailed(let current) {
            #expect(current == 3)
        }
        await pool.close()
    }
}
