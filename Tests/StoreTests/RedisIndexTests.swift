import Foundation
import RedisClient
@testable import Store
import Testing
import TestSupport

/// The agent index of the Redis backend (DESIGN §4): positive `updatedAt` scores, the expiry set
/// that bounds it, and its TTL, checked over a raw connection to the shared test server.
@Suite(.offCooperativePool) struct RedisIndexTests {
    @Test func zrangebyscoreFindsTheSessionsUpdatedSinceT() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let index = fixture.prefix + agent
        for id in ["old-1", "old-2"] {
            _ = try await fixture.store.save(Fixtures.key(agent, id), state: Fixtures.json("1"), options: .init())
        }
        try await Task.sleep(for: .milliseconds(20))
        // t: strictly after the old writes on the server's clock, before the new ones.
        let t = try await fixture.store.load(Fixtures.key(agent, "old-2")).metadata.updatedAt + 1
        try await Task.sleep(for: .milliseconds(20))
        _ = try await fixture.store.save(Fixtures.key(agent, "new-1"), state: Fixtures.json("1"), options: .init())
        _ = try await fixture.store.append(Fixtures.key(agent, "old-1"), messages: [Fixtures.json("1")], options: .init(), idempotency: nil)
        _ = try await fixture.store.append(Fixtures.key(agent, "new-2"), messages: [Fixtures.json("1")], options: .init(), idempotency: nil)

        let since = try await fixture.send("ZRANGEBYSCORE", index, String(t), "+inf").array?.compactMap(\.string)
        #expect(Set(since ?? []) == ["new-1", "old-1", "new-2"])
        // Every score is the session's updatedAt in ms, and ZREVRANGE is the list order.
        let listed = try await Fixtures.listAll(agent, in: fixture.store)
        for session in listed {
            #expect(try await fixture.send("ZSCORE", index, session.sessionID).int == session.updatedAt)
        }
        let reversed = try await fixture.send("ZREVRANGE", index, "0", "-1").array?.compactMap(\.string)
        #expect(reversed == listed.map(\.sessionID))
        #expect(reversed?.last == "old-2")
    }

    @Test func expirySetHoldsExactlyTheExpiringSessions() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let expiry = fixture.prefix + agent + "::expiry"
        let mortal = try await fixture.store.save(Fixtures.key(agent, "mortal"), state: Fixtures.json("1"), options: .init(ttl: .seconds(600)))
        _ = try await fixture.store.save(Fixtures.key(agent, "keeper"), state: Fixtures.json("1"), options: .init())
        #expect(try await fixture.send("ZRANGE", expiry, "0", "-1").array?.compactMap(\.string) == ["mortal"])
        #expect(try await fixture.send("ZSCORE", expiry, "mortal").int == mortal.metadata.expiresAt)
        #expect(try await fixture.send("TYPE", expiry).string == "zset")
        // Persisting takes it out; a TTL puts the keeper in; a delete removes it.
        _ = try await fixture.store.save(Fixtures.key(agent, "mortal"), state: Fixtures.json("2"), options: .init(ttl: .persist))
        #expect(try await fixture.send("EXISTS", expiry).int == 0)
        let keeper = try await fixture.store.append(Fixtures.key(agent, "keeper"), messages: [Fixtures.json("1")], options: .init(ttl: .seconds(300)), idempotency: nil)
        #expect(keeper.version == 2)
        let expiresAt = try #require(try await fixture.store.load(Fixtures.key(agent, "keeper")).metadata.expiresAt)
        #expect(try await fixture.send("ZSCORE", expiry, "keeper").int == expiresAt)
        try await fixture.store.delete(Fixtures.key(agent, "keeper"), precondition: .none)
        #expect(try await fixture.send("EXISTS", expiry).int == 0)
        // deleteAll takes both sets.
        _ = try await fixture.store.save(Fixtures.key(agent, "m2"), state: Fixtures.json("1"), options: .init(ttl: .seconds(600)))
        _ = try await fixture.store.deleteAll(agentID: agent)
        #expect(try await fixture.send("EXISTS", expiry, fixture.prefix + agent).int == 0)
    }

    /// 10,000 sessions with a 1 s TTL beside one persistent session; nobody lists; writes to the
    /// persistent one alone shrink the index back to one entry, 16 entries per write.
    @Test func writesAloneBoundTheIndex() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let index = fixture.prefix + agent
        let keeper = Fixtures.key(agent, "keeper")
        _ = try await fixture.store.save(keeper, state: Fixtures.json("0"), options: .init())
        let count = 10_000
        let store = fixture.store
        // Pipelined: 50 tasks, each creating its share back to back over the shared pool.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<50 {
                group.addTask {
                    for index in stride(from: worker, to: count, by: 50) {
                        _ = try await store.save(Fixtures.key(agent, "m\(index)"), state: Fixtures.json("1"), options: .init(ttl: .seconds(1)))
                    }
                }
            }
            try await group.waitForAll()
        }
        // Creating may already have pruned early ones; at least the last ones are still there.
        #expect(try #require(try await fixture.send("ZCARD", index).int) > 16)
        // Let every 1 s session expire (generously: the server clock decides).
        try await Task.sleep(for: .milliseconds(2_500))

        let bound = count / RedisScripts.prunePerWrite + 10
        var writes = 0
        while writes < bound, try #require(try await fixture.send("ZCARD", index).int) > 1 {
            _ = try await fixture.store.save(keeper, state: Fixtures.json("\(writes)"), options: .init())
            writes += 1
        }
        #expect(try await fixture.send("ZCARD", index).int == 1, "the index still had stale entries after \(writes) writes")
        #expect(writes <= bound)
        #expect(try await fixture.send("ZRANGE", index, "0", "-1").array?.compactMap(\.string) == ["keeper"])
        #expect(try await fixture.send("EXISTS", index + "::expiry").int == 0)
        #expect(fixture.pruned.writes == count, "every stale entry was reported once, as pruned by a write")
        #expect(fixture.pruned.value == 0, "nothing listed")
        // Their keys are gone too (Redis expired them, or the prune deleted them).
        let left = try await fixture.send("EXISTS", fixture.recordKey(Fixtures.key(agent, "m0")), fixture.recordKey(Fixtures.key(agent, "m9999")))
        #expect(left.int == 0)
    }

    @Test func indexTTLRecoversWhenTheLastPersistentSessionGoes() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let index = fixture.prefix + agent
        let expiry = index + "::expiry"
        let persistent = Fixtures.key(agent, "p")
        _ = try await fixture.store.save(persistent, state: Fixtures.json("1"), options: .init())
        _ = try await fixture.store.save(Fixtures.key(agent, "short"), state: Fixtures.json("1"), options: .init(ttl: .seconds(100)))
        let long = try await fixture.store.save(Fixtures.key(agent, "long"), state: Fixtures.json("1"), options: .init(ttl: .seconds(200)))
        let longExpiry = try #require(long.metadata.expiresAt)
        #expect(try await fixture.pttl(index) == -1)

        // Deleted: the index's TTL becomes the longest remaining session's expiry, on both sets.
        try await fixture.store.delete(persistent, precondition: .none)
        for key in [index, expiry] {
            let left = try await fixture.pttl(key)
            #expect((150_000...200_000).contains(left), "\(key) PTTL \(left)")
        }
        #expect(try await fixture.send("ZSCORE", expiry, "long").int == longExpiry)

        // Persistent again, then given a TTL shorter than "long": the index follows "long".
        _ = try await fixture.store.save(persistent, state: Fixtures.json("1"), options: .init())
        #expect(try await fixture.pttl(index) == -1)
        #expect(try await fixture.pttl(expiry) == -1)
        _ = try await fixture.store.save(persistent, state: Fixtures.json("2"), options: .init(ttl: .seconds(50)))
        let afterTTL = try await fixture.pttl(index)
        #expect((150_000...200_000).contains(afterTTL), "index PTTL \(afterTTL)")

        // The longest-lived one goes: the index shortens to the next longest, never below it.
        try await fixture.store.delete(Fixtures.key(agent, "long"), precondition: .none)
        let afterDelete = try await fixture.pttl(index)
        #expect((50_000...100_000).contains(afterDelete), "index PTTL \(afterDelete)")
        let expiryLeft = try await fixture.pttl(expiry)
        #expect(abs(expiryLeft - afterDelete) < 1_000, "expiry set PTTL \(expiryLeft), index \(afterDelete)")

        // A sliding read extends a session beyond the index: the index follows in the same step.
        let sliding = Fixtures.key(agent, "slide")
        _ = try await fixture.store.save(sliding, state: Fixtures.json("1"), options: .init(ttl: .seconds(60), slidingTTL: true))
        _ = try await fixture.store.save(Fixtures.key(agent, "short"), state: Fixtures.json("1"), options: .init(ttl: .seconds(5)))
        _ = try await fixture.store.delete(persistent, precondition: .none)
        let beforeSlide = try await fixture.pttl(index)
        #expect((40_000...60_000).contains(beforeSlide), "index PTTL \(beforeSlide)")
        try await Task.sleep(for: .milliseconds(50))
        let read = try await fixture.store.load(sliding)
        #expect(try await fixture.send("ZSCORE", expiry, "slide").int == read.metadata.expiresAt)
        // PEXPIRETIME is absolute, so no round-trip delay can make this flaky.
        #expect(try await fixture.send("PEXPIRETIME", index).int == read.metadata.expiresAt)
    }

    @Test func listPruningAlsoRecoversTheIndexTTL() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let index = fixture.prefix + agent
        _ = try await fixture.store.save(Fixtures.key(agent, "p"), state: Fixtures.json("1"), options: .init())
        _ = try await fixture.store.save(Fixtures.key(agent, "t"), state: Fixtures.json("1"), options: .init(ttl: .seconds(100)))
        #expect(try await fixture.pttl(index) == -1)
        // The persistent record vanishes behind the store's back; the list that finds it fixes the TTL.
        try await fixture.send("DEL", fixture.recordKey(Fixtures.key(agent, "p")))
        #expect(try await Fixtures.listAll(agent, in: fixture.store).map(\.sessionID) == ["t"])
        #expect(fixture.pruned.value == 1)
        #expect((50_000...100_000).contains(try await fixture.pttl(index)))
    }
}
