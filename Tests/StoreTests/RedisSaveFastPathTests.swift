import Foundation
import RedisClient
@testable import Store
import Synchronization
import Testing
import TestSupport

/// The save script's fast path (`RedisScript.save`): it takes only records that say they are in the
/// ID set (`ix`) and count their messages (`mc`); older records go through the general save, which
/// sets the flag. Either way every key, the index, its expiry set, its ID set and their TTLs end up
/// as the layout prescribes, which `RedisLayoutChecker` confirms.
@Suite(.offCooperativePool) struct RedisSaveFastPathTests {
    @Test func aRecordWithoutTheFlagsIsSavedWholeAndGetsThem() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let key = Fixtures.key(agent, "old-1")
        let record = fixture.recordKey(key)
        let ids = fixture.prefix + agent + "::ids"
        _ = try await fixture.store.save(key, state: Fixtures.json("1"), options: .init())
        #expect(try await fixture.hash(record)["ix"] == "1")
        // A record as an older version left it: no 'ix', no 'mc', and (before v1.1) not in the ID set.
        try await fixture.send("HDEL", record, "ix", "mc")
        try await fixture.send("ZREM", ids, "old-1")

        let saved = try await fixture.store.save(key, state: Fixtures.json("2"), options: .init())
        #expect(saved.metadata.version == 2)
        #expect(!saved.created)
        let fields = try await fixture.hash(record)
        #expect(fields["ix"] == "1")
        #expect(fields["mc"] == "0")
        #expect(try await fixture.send("ZSCORE", ids, "old-1").string == "0")
        #expect(try await fixture.store.list(agentID: agent, prefix: "old", limit: 10, after: nil).sessions.map(\.sessionID) == ["old-1"])
        // The next save takes the fast path and keeps it so.
        let again = try await fixture.store.save(key, state: Fixtures.json("3"), options: .init())
        #expect(again.metadata.version == 3)
        #expect(try await fixture.store.load(key).state == Fixtures.json("3"))
        try await expectClean(fixture, agent)
    }

    @Test func everyKeyAndTheIndexKeepTheSessionsExpiry() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let key = Fixtures.key(agent, "mortal")
        let record = fixture.recordKey(key)
        let index = fixture.prefix + agent
        _ = try await fixture.store.append(
            key, messages: [Fixtures.json("1"), Fixtures.json("2")], keys: ["k1", nil],
            options: .init(ttl: .seconds(600)), idempotency: IdempotencyToken(key: "i1", bodyDigest: "d"))
        // The first save sets 'ix' (append does not); the second is a fast one, expiring to expiring.
        for (round, seconds) in [(1, 700), (2, 900)] {
            let saved = try await fixture.store.save(key, state: Fixtures.json("\(round)"), options: .init(ttl: .seconds(Int64(seconds))))
            let expiresAt = try #require(saved.metadata.expiresAt)
            for name in [record, record + ":messages", record + ":idem", record + ":keys", index, index + "::expiry", index + "::ids"] {
                #expect(try await fixture.send("PEXPIRETIME", name).int == expiresAt, "\(name) after save \(round)")
            }
            #expect(try await fixture.send("ZSCORE", index + "::expiry", "mortal").int == expiresAt)
            #expect(try await fixture.send("ZSCORE", index, "mortal").int == saved.metadata.updatedAt)
            #expect(saved.metadata.messageCount == 2)
        }
        // Kept TTL (no ttl given): still expiring, the clock restarts.
        let kept = try await fixture.store.save(key, state: Fixtures.json("3"), options: .init())
        #expect(kept.metadata.ttlSeconds == 900)
        #expect(try await fixture.send("PEXPIRETIME", index).int == kept.metadata.expiresAt)

        // With a persistent neighbour the index stays persistent through the expiring session's saves.
        _ = try await fixture.store.save(Fixtures.key(agent, "keeper"), state: Fixtures.json("1"), options: .init())
        _ = try await fixture.store.save(Fixtures.key(agent, "keeper"), state: Fixtures.json("2"), options: .init())
        _ = try await fixture.store.save(key, state: Fixtures.json("4"), options: .init(ttl: .seconds(300)))
        for name in [index, index + "::expiry", index + "::ids"] {
            #expect(try await fixture.pttl(name) == -1, "\(name)")
        }
        // The neighbour goes: the index follows the expiring session again.
        try await fixture.store.delete(Fixtures.key(agent, "keeper"), precondition: .none)
        let last = try await fixture.store.save(key, state: Fixtures.json("5"), options: .init(ttl: .seconds(400)))
        #expect(try await fixture.send("PEXPIRETIME", index).int == last.metadata.expiresAt)
        try await expectClean(fixture, agent)
    }

    @Test func theReplyIsTheStoredSessionLeaseIncluded() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let key = Fixtures.key(agent, "leased")
        _ = try await fixture.store.save(key, state: Fixtures.json("1"), options: .init(slidingTTL: true))
        _ = try await fixture.store.append(key, messages: [Fixtures.json("\"m\"")], options: .init(), idempotency: nil)
        _ = try await fixture.store.save(key, state: Fixtures.json("2"), options: .init())
        _ = try await fixture.store.acquireLease(key, holder: "worker", ttlMilliseconds: 60_000)
        let token = try #require(try await fixture.store.load(key).metadata.lease?.fencingToken)
        let saved = try await fixture.store.save(key, state: Fixtures.json("[1,2,3]"), options: .init(precondition: Precondition(fencingToken: token)))
        let loaded = try await fixture.store.load(key)
        #expect(saved.metadata == loaded.metadata)
        #expect(saved.metadata.lease?.holder == "worker")
        #expect(saved.metadata.messageCount == 1)
        #expect(saved.metadata.stateBytes == 7)
        #expect(saved.metadata.slidingTTL)
        // A stale token and a failed precondition still refuse, and write nothing.
        await #expect(throws: StoreError.staleFencingToken(current: token)) {
            try await fixture.store.save(key, state: Fixtures.json("0"), options: .init(precondition: Precondition(fencingToken: token - 1)))
        }
        await #expect(throws: StoreError.preconditionFailed(currentVersion: loaded.metadata.version)) {
            try await fixture.store.save(key, state: Fixtures.json("0"), options: .init(precondition: .ifMatch(.versions([1]))))
        }
        #expect(try await fixture.store.load(key).metadata.version == loaded.metadata.version)
        try await expectClean(fixture, agent)
    }

    @Test func aFlaggedRecordWhoseIndexWasEmptiedGoesBackIntoIt() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let key = Fixtures.key(agent, "s")
        let index = fixture.prefix + agent
        _ = try await fixture.store.save(key, state: Fixtures.json("1"), options: .init(ttl: .seconds(600)))
        try await fixture.send("DEL", index, index + "::expiry", index + "::ids")
        let saved = try await fixture.store.save(key, state: Fixtures.json("2"), options: .init(ttl: .seconds(600)))
        #expect(try await fixture.send("ZSCORE", index, "s").int == saved.metadata.updatedAt)
        #expect(try await fixture.send("ZSCORE", index + "::ids", "s").string == "0")
        #expect(try await fixture.send("PEXPIRETIME", index + "::ids").int == saved.metadata.expiresAt)
        try await expectClean(fixture, agent)
    }
}

/// `agentstate check` of one agent finds nothing wrong.
func expectClean(_ fixture: RedisFixture, _ agent: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let checker = RedisLayoutChecker(client: fixture.raw, keyPrefix: fixture.prefix, agentID: agent, checksDeclaredKeys: true)
    let seen = Mutex<[RedisLayoutChecker.Violation]>([])
    _ = try await checker.run { violation in seen.withLock { $0.append(violation) } }
    #expect(seen.withLock { $0 }.isEmpty, "\(seen.withLock { $0 })", sourceLocation: sourceLocation)
}
