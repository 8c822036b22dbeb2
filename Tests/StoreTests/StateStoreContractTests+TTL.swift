import Store
import Testing

/// TTL policy (keep / persist / seconds / default), restarts on writes, sliding reads, and expiry.
/// The last two tests let time pass through `TestTime`: a manual clock on the memory backend, real
/// sleeps with seconds of slack on Redis.
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func ttlKeepPersistAndSecondsOnEveryWrite(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()

        // New session without ttl and no default TTL: never expires, not sliding.
        var meta = try await store.save(key, state: Fixtures.json("1"), options: .init()).metadata
        #expect(meta.ttlSeconds == nil)
        #expect(meta.expiresAt == nil)
        #expect(!meta.slidingTTL)

        var before = Fixtures.now()
        meta = try await store.save(key, state: Fixtures.json("2"), options: .init(ttl: .seconds(600), slidingTTL: true)).metadata
        #expect(meta.ttlSeconds == 600)
        #expect(meta.slidingTTL)
        Fixtures.expectExpiry(meta.expiresAt, ttlSeconds: 600, between: before, and: Fixtures.now())

        // keep: the policy stays and the clock restarts, on every kind of write.
        let writes: [(String, () async throws -> SessionMetadata)] = [
            ("save", { try await store.save(key, state: Fixtures.json("3"), options: .init()).metadata }),
            ("append", { _ = try await store.append(key, messages: [Fixtures.json("1")], options: .init(), idempotency: nil); return try await store.load(key).metadata }),
            ("pop", { _ = try await store.popMessage(key, precondition: .none); return try await store.load(key).metadata }),
            ("clear", { try await store.clearMessages(key, precondition: .none) }),
        ]
        for (name, write) in writes {
            let previous = meta.expiresAt!
            try await Fixtures.tick()
            before = Fixtures.now()
            meta = try await write()
            #expect(meta.ttlSeconds == 600, "\(name) kept the TTL")
            #expect(meta.slidingTTL, "\(name) kept sliding")
            #expect(meta.expiresAt! > previous, "\(name) restarted the clock")
            Fixtures.expectExpiry(meta.expiresAt, ttlSeconds: 600, between: before, and: Fixtures.now())
        }

        // An explicit sliding false with keep TTL; then persist on append.
        meta = try await store.save(key, state: Fixtures.json("4"), options: .init(slidingTTL: false)).metadata
        #expect(meta.ttlSeconds == 600)
        #expect(!meta.slidingTTL)
        _ = try await store.append(key, messages: [Fixtures.json("1")], options: .init(ttl: .persist), idempotency: nil)
        meta = try await store.load(key).metadata
        #expect(meta.ttlSeconds == nil)
        #expect(meta.expiresAt == nil)
        meta = try await store.save(key, state: Fixtures.json("5"), options: .init()).metadata
        #expect(meta.ttlSeconds == nil, "keep after persist stays persistent")
        #expect(meta.expiresAt == nil)

        // seconds on append, then on a new session created by append.
        before = Fixtures.now()
        _ = try await store.append(key, messages: [Fixtures.json("1")], options: .init(ttl: .seconds(90)), idempotency: nil)
        meta = try await store.load(key).metadata
        #expect(meta.ttlSeconds == 90)
        Fixtures.expectExpiry(meta.expiresAt, ttlSeconds: 90, between: before, and: Fixtures.now())

        let appended = Fixtures.key(key.agentID, "appended")
        before = Fixtures.now()
        _ = try await store.append(appended, messages: [Fixtures.json("1")], options: .init(ttl: .seconds(120), slidingTTL: true), idempotency: nil)
        meta = try await store.load(appended).metadata
        #expect(meta.ttlSeconds == 120)
        #expect(meta.slidingTTL)
        Fixtures.expectExpiry(meta.expiresAt, ttlSeconds: 120, between: before, and: Fixtures.now())
    }

    @Test(arguments: StoreBackend.allCases)
    func defaultTTLAppliesToNewSessionsOnly(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend, configuration: .init(defaultTTLSeconds: 3_600))
        let agent = Fixtures.agentID()

        var before = Fixtures.now()
        let saved = try await store.save(Fixtures.key(agent, "saved"), state: Fixtures.json("{}"), options: .init()).metadata
        #expect(saved.ttlSeconds == 3_600)
        Fixtures.expectExpiry(saved.expiresAt, ttlSeconds: 3_600, between: before, and: Fixtures.now())

        before = Fixtures.now()
        _ = try await store.append(Fixtures.key(agent, "appended"), messages: [Fixtures.json("1")], options: .init(), idempotency: nil)
        let appended = try await store.load(Fixtures.key(agent, "appended")).metadata
        #expect(appended.ttlSeconds == 3_600)
        Fixtures.expectExpiry(appended.expiresAt, ttlSeconds: 3_600, between: before, and: Fixtures.now())

        // Explicit choices beat the default, and existing sessions keep theirs.
        let persistent = Fixtures.key(agent, "persistent")
        #expect(try await store.save(persistent, state: Fixtures.json("{}"), options: .init(ttl: .persist)).metadata.ttlSeconds == nil)
        let kept = try await store.save(persistent, state: Fixtures.json("[]"), options: .init()).metadata
        #expect(kept.ttlSeconds == nil)
        #expect(kept.expiresAt == nil)
        let short = Fixtures.key(agent, "short")
        #expect(try await store.save(short, state: Fixtures.json("{}"), options: .init(ttl: .seconds(60))).metadata.ttlSeconds == 60)
        #expect(try await store.save(short, state: Fixtures.json("{}"), options: .init()).metadata.ttlSeconds == 60)
    }

    @Test(arguments: StoreBackend.allCases)
    func expiredSessionIsGoneEverywhere(_ backend: StoreBackend) async throws {
        let (store, time) = try await makeTimedStore(backend)
        let agent = Fixtures.agentID()
        let mortal = Fixtures.key(agent, "mortal")
        let immortal = Fixtures.key(agent, "immortal")
        let token = IdempotencyToken(key: "k", bodyDigest: "d")
        // 4 s: the count below must come before it expires, on a loaded machine too.
        _ = try await store.save(mortal, state: Fixtures.json("{\"x\":1}"), options: .init(ttl: .seconds(4)))
        _ = try await store.append(mortal, messages: [Fixtures.json("1"), Fixtures.json("2")], options: .init(), idempotency: token)
        _ = try await store.save(immortal, state: Fixtures.json("{}"), options: .init())
        #expect(try await Fixtures.listAll(agent, in: store).count == 2)

        try await time.pass(.seconds(4))
        let expired = try await Fixtures.eventually(within: .seconds(10)) { try await Fixtures.isGone(mortal, in: store) }
        #expect(expired, "a 4 s session was still there 14 s later")

        #expect(try await Fixtures.listAll(agent, in: store).map(\.sessionID) == ["immortal"])
        await #expect(throws: StoreError.sessionNotFound) { try await store.readMessages(mortal, limit: 10, after: nil) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.popMessage(mortal, precondition: .none) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.clearMessages(mortal, precondition: .none) }
        await #expect(throws: StoreError.preconditionFailed(currentVersion: nil)) { try await store.delete(mortal, precondition: .ifMatch(.any)) }

        // Appending again starts a fresh session: version 1, seq 1, idempotency records gone.
        let fresh = try await store.append(mortal, messages: [Fixtures.json("3")], options: .init(), idempotency: token)
        #expect(fresh == AppendResult(version: 1, firstSeq: 1, lastSeq: 1, messageCount: 1))
        let reborn = try await store.load(mortal)
        #expect(reborn.state == nil)
        #expect(reborn.metadata.ttlSeconds == nil, "a new session gets the default policy, not the dead one's")
    }

    @Test(arguments: StoreBackend.allCases)
    func slidingTTLExtendsOnReadsButNotOnList(_ backend: StoreBackend) async throws {
        let (store, time) = try await makeTimedStore(backend)
        let agent = Fixtures.agentID()
        let sliding = Fixtures.key(agent, "sliding")
        let fixed = Fixtures.key(agent, "fixed")
        _ = try await store.append(sliding, messages: [Fixtures.json("1")], options: .init(ttl: .seconds(3), slidingTTL: true), idempotency: nil)
        _ = try await store.save(fixed, state: Fixtures.json("{}"), options: .init(ttl: .seconds(3)))
        let fixedExpiry = try await store.load(fixed).metadata.expiresAt

        // Read every 500 ms for 4.5 s: the sliding session outlives its 3 s TTL, the fixed one does not.
        // On Redis's real clock a read may come 2.5 s late before the sliding session could expire.
        for round in 0..<9 {
            try await time.pass(.milliseconds(500))
            let before = time.now()
            if round.isMultiple(of: 2) {
                let loaded = try await store.load(sliding)
                Fixtures.expectExpiry(loaded.metadata.expiresAt, ttlSeconds: 3, between: before, and: time.now())
                #expect(loaded.metadata.version == 1, "a read is not a mutation")
            } else {
                _ = try await store.readMessages(sliding, limit: 10, after: nil)
                let listed = try await Fixtures.listAll(agent, in: store).first { $0.sessionID == "sliding" }
                Fixtures.expectExpiry(listed?.expiresAt, ttlSeconds: 3, between: before, and: time.now())
            }
            if let stillThere = try? await store.load(fixed) {
                #expect(stillThere.metadata.expiresAt == fixedExpiry, "loading a non-sliding session never extends it")
            }
        }
        #expect(try await Fixtures.isGone(fixed, in: store))
        #expect(!(try await Fixtures.isGone(sliding, in: store)))

        // Listing alone does not keep it alive, and does not move expiresAt.
        let listedExpiry = try await Fixtures.listAll(agent, in: store).first?.expiresAt
        try await time.pass(.milliseconds(100))
        #expect(try await Fixtures.listAll(agent, in: store).first?.expiresAt == listedExpiry)
        try await time.pass(.seconds(3))
        let expired = try await Fixtures.eventually(within: .seconds(10)) {
            try await Fixtures.listAll(agent, in: store).isEmpty
        }
        #expect(expired, "listing kept a sliding session alive")
        #expect(try await Fixtures.isGone(sliding, in: store))
    }
}
