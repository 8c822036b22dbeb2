import Foundation
import RedisClient
@testable import Store
import Testing
import TestSupport

/// The Redis store's loads and saves without a task (``CallbackStateStore``) give what the async
/// operations give, including the cases they hand to the async path: a sliding session's load (the
/// script), and a save whose script the server has forgotten (`NOSCRIPT`).
@Suite(.offCooperativePool) struct RedisCallbackStoreTests {
    static func load(_ store: RedisStateStore, _ key: SessionKey) async throws -> Session {
        try await withCheckedThrowingContinuation { continuation in store.load(key) { continuation.resume(with: $0) } }
    }

    static func save(_ store: RedisStateStore, _ key: SessionKey, _ state: [UInt8], _ options: WriteOptions = .init()) async throws -> SaveResult {
        try await withCheckedThrowingContinuation { continuation in
            store.save(key, state: state, options: options) { continuation.resume(with: $0) }
        }
    }

    @Test func loadsAndSavesMatchTheAsyncOperations() async throws {
        let fixture = try await RedisFixture.make()
        let store = fixture.store
        #expect(store.completesWithoutTask, "a pool sends at once")
        let key = Fixtures.key(Fixtures.agentID(), "cb")
        await #expect(throws: StoreError.sessionNotFound) { _ = try await Self.load(store, key) }

        let created = try await Self.save(store, key, Fixtures.json("1"), .init(ttl: .seconds(600), labels: ["team": "a"]))
        #expect(created.created && created.metadata.version == 1)
        let loaded = try await Self.load(store, key)
        #expect(loaded == (try await store.load(key)))
        #expect(loaded.state == Fixtures.json("1") && loaded.metadata.labels == ["team": "a"] && loaded.metadata.expiresAt != nil)

        let replaced = try await Self.save(store, key, Fixtures.json("2"), .init(precondition: .ifMatch(.versions([1]))))
        #expect(!replaced.created && replaced.metadata.version == 2)
        await #expect(throws: StoreError.preconditionFailed(currentVersion: 2)) {
            _ = try await Self.save(store, key, Fixtures.json("3"), .init(precondition: .ifMatch(.versions([1]))))
        }
        #expect(try await store.load(key).state == Fixtures.json("2"), "the refused save wrote nothing")
        try await expectClean(fixture, key.agentID)
    }

    @Test func slidingLoadsAndForgottenScriptsTakeTheAsyncPath() async throws {
        let fixture = try await RedisFixture.make()
        let store = fixture.store
        let key = Fixtures.key(Fixtures.agentID(), "sliding")
        let saved = try await Self.save(store, key, Fixtures.json("1"), .init(ttl: .seconds(600), slidingTTL: true))
        try await Task.sleep(for: .milliseconds(20))
        let loaded = try await Self.load(store, key)
        #expect(loaded.metadata.slidingTTL)
        #expect(try #require(loaded.metadata.expiresAt) > (try #require(saved.metadata.expiresAt)), "the load restarted the clock")

        try await fixture.send("SCRIPT", "FLUSH")
        let again = try await Self.save(store, key, Fixtures.json("2"))
        #expect(again.metadata.version == 2)
        #expect(try await Self.load(store, key).state == Fixtures.json("2"))
        try await expectClean(fixture, key.agentID)
    }

    /// A save's reply read in place carries everything the stored session has: labels, messages, the lease,
    /// sliding TTL; a stale fencing token is still refused, and writes nothing.
    @Test func savedRepliesReadInPlaceMatchTheStoredSession() async throws {
        let fixture = try await RedisFixture.make()
        let store = fixture.store
        let key = Fixtures.key(Fixtures.agentID(), "leased")
        _ = try await Self.save(store, key, Fixtures.json("1"), .init(ttl: .seconds(900), slidingTTL: true, labels: ["team": "a", "env": "dev"]))
        _ = try await store.append(key, messages: [Fixtures.json("\"m\"")], options: .init(), idempotency: nil)
        _ = try await store.acquireLease(key, holder: "worker", ttlMilliseconds: 60_000)
        let token = try #require(try await store.load(key).metadata.lease?.fencingToken)
        let saved = try await Self.save(store, key, Fixtures.json("[1,2,3]"), .init(precondition: Precondition(fencingToken: token)))
        let loaded = try await store.load(key)
        // The load restarted the sliding clock; everything else is the same.
        var reloaded = loaded.metadata
        #expect(try #require(reloaded.expiresAt) >= (try #require(saved.metadata.expiresAt)))
        reloaded.expiresAt = saved.metadata.expiresAt
        #expect(saved.metadata == reloaded)
        #expect(saved.metadata.lease?.holder == "worker" && saved.metadata.messageCount == 1 && saved.metadata.stateBytes == 7)
        #expect(saved.metadata.labels == ["team": "a", "env": "dev"] && saved.metadata.slidingTTL)
        await #expect(throws: StoreError.staleFencingToken(current: token)) {
            _ = try await Self.save(store, key, Fixtures.json("0"), .init(precondition: Precondition(fencingToken: token - 1)))
        }
        #expect(try await store.load(key).metadata.version == loaded.metadata.version)
        try await expectClean(fixture, key.agentID)
    }
}
