import Store
import Testing

/// Leases and fencing tokens (DESIGN §11).
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func leaseLifecycleAcquireRenewRefuseReleaseAndNewTokens(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        await #expect(throws: StoreError.sessionNotFound) { try await store.acquireLease(key, holder: "w1", ttlMilliseconds: 10_000) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.lease(key) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.releaseLease(key, holder: "w1") }
        let saved = try await store.save(key, state: Fixtures.json("1"), options: .init(ttl: .seconds(600))).metadata
        await #expect(throws: StoreError.leaseNotFound) { try await store.lease(key) }
        #expect(saved.lease == nil)

        let first = try await store.acquireLease(key, holder: "w1", ttlMilliseconds: 10_000)
        #expect(first.acquired)
        #expect(first.lease.holder == "w1")
        #expect(first.lease.fencingToken == 1)
        #expect(first.lease.expiresAt - first.lease.acquiredAt == 10_000)
        #expect(try await store.lease(key) == first.lease)

        // Lease operations change neither version, updated_at nor the session's expiry.
        let loaded = try await store.load(key).metadata
        #expect(loaded.version == saved.version)
        #expect(loaded.updatedAt == saved.updatedAt)
        #expect(loaded.expiresAt == saved.expiresAt)
        #expect(loaded.lease == first.lease)
        #expect(try await Fixtures.listAll(key.agentID, in: store).first?.lease == first.lease)

        try await Fixtures.tick()
        let renewed = try await store.acquireLease(key, holder: "w1", ttlMilliseconds: 20_000)
        #expect(!renewed.acquired)
        #expect(renewed.lease.fencingToken == 1)
        #expect(renewed.lease.acquiredAt == first.lease.acquiredAt)
        #expect(renewed.lease.expiresAt > first.lease.expiresAt)

        await #expect(throws: StoreError.leaseHeld(holder: "w1", expiresAt: renewed.lease.expiresAt)) {
            try await store.acquireLease(key, holder: "w2", ttlMilliseconds: 10_000)
        }
        await #expect(throws: StoreError.leaseHeld(holder: "w1", expiresAt: renewed.lease.expiresAt)) {
            try await store.releaseLease(key, holder: "w2")
        }
        try await store.releaseLease(key, holder: "w1")
        await #expect(throws: StoreError.leaseNotFound) { try await store.lease(key) }
        await #expect(throws: StoreError.leaseNotFound) { try await store.releaseLease(key, holder: "w1") }
        #expect(try await store.load(key).metadata.lease == nil)
        #expect(try await store.load(key).metadata.version == saved.version)

        // After a release even the same holder gets a new token; the token dies with the session.
        #expect(try await store.acquireLease(key, holder: "w1", ttlMilliseconds: 10_000).lease.fencingToken == 2)
        try await store.delete(key, precondition: .none)
        _ = try await store.save(key, state: Fixtures.json("1"), options: .init())
        #expect(try await store.acquireLease(key, holder: "w3", ttlMilliseconds: 10_000).lease.fencingToken == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func anExpiredLeaseIsGoneAndTheNextAcquisitionTakesANewToken(_ backend: StoreBackend) async throws {
        let (store, time) = try await makeTimedStore(backend)
        let key = Fixtures.freshKey()
        _ = try await store.save(key, state: Fixtures.json("1"), options: .init())
        #expect(try await store.acquireLease(key, holder: "w1", ttlMilliseconds: 1_000).lease.fencingToken == 1)
        try await time.pass(.milliseconds(2_500))
        await #expect(throws: StoreError.leaseNotFound) { try await store.lease(key) }
        await #expect(throws: StoreError.leaseNotFound) { try await store.releaseLease(key, holder: "w1") }
        #expect(try await store.load(key).metadata.lease == nil)
        let again = try await store.acquireLease(key, holder: "w1", ttlMilliseconds: 60_000)
        #expect(again.acquired)
        #expect(again.lease.fencingToken == 2)
    }

    @Test(arguments: StoreBackend.allCases)
    func aStaleFencingTokenIsRefusedByEveryMutationAndWritesNothing(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        // A session without a lease has token 0: any token passes.
        _ = try await store.save(key, state: Fixtures.json("1"), options: .init(precondition: Precondition.none.fenced(by: 0)))
        _ = try await store.append(key, messages: [Fixtures.json("1"), Fixtures.json("2")], options: .init(), idempotency: nil)
        _ = try await store.acquireLease(key, holder: "w1", ttlMilliseconds: 60_000)
        try await store.releaseLease(key, holder: "w1")
        _ = try await store.acquireLease(key, holder: "w2", ttlMilliseconds: 60_000)  // token 2
        let before = try await store.load(key)
        let stale = Precondition.none.fenced(by: 1)
        let refused = StoreError.staleFencingToken(current: 2)

        await #expect(throws: refused) { try await store.save(key, state: Fixtures.json("9"), options: .init(precondition: stale, labels: ["a": "b"])) }
        await #expect(throws: refused) {
            try await store.append(key, messages: [Fixtures.json("9")], options: .init(precondition: stale), idempotency: IdempotencyToken(key: "k", bodyDigest: "d"))
        }
        await #expect(throws: refused) { try await store.replaceMessages(key, messages: [], keys: nil, options: .init(precondition: stale)) }
        await #expect(throws: refused) { try await store.trimMessages(key, before: 3, precondition: stale) }
        await #expect(throws: refused) { try await store.deleteMessage(key, seq: 1, precondition: stale) }
        await #expect(throws: refused) { try await store.popMessage(key, precondition: stale) }
        await #expect(throws: refused) { try await store.clearMessages(key, precondition: stale) }
        await #expect(throws: refused) { try await store.delete(key, precondition: stale) }
        // The entity tags are checked first.
        await #expect(throws: StoreError.preconditionFailed(currentVersion: before.metadata.version)) {
            try await store.delete(key, precondition: Precondition.ifMatch(.versions([99])).fenced(by: 1))
        }

        let after = try await store.load(key)
        #expect(after == before, "nothing was written")
        #expect(try await store.readMessages(key, limit: 10, after: nil).messages.count == 2)

        // The current token, a higher one, or none at all: the write goes through.
        #expect(try await store.save(key, state: Fixtures.json("2"), options: .init(precondition: Precondition.none.fenced(by: 2))).metadata.version == before.metadata.version + 1)
        #expect(try await store.popMessage(key, precondition: Precondition.ifMatch(.any).fenced(by: 7)).message.seq == 2)
        #expect(try await store.clearMessages(key, precondition: .none).messageCount == 0)
    }

    @Test(arguments: StoreBackend.allCases)
    func fiftyConcurrentAcquirersHaveExactlyOneWinner(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        _ = try await store.save(key, state: Fixtures.json("1"), options: .init())
        let outcomes = await withTaskGroup(of: Result<LeaseResult, StoreError>.self) { group in
            for worker in 0..<50 {
                group.addTask {
                    do {
                        return .success(try await store.acquireLease(key, holder: "worker-\(worker)", ttlMilliseconds: 60_000))
                    } catch let error as StoreError {
                        return .failure(error)
                    } catch {
                        return .failure(.internalError(reason: "\(error)"))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        let winner = try #require(winners.first)
        #expect(winner.acquired)
        #expect(winner.lease.fencingToken == 1)
        for case .failure(let error) in outcomes {
            #expect(error == .leaseHeld(holder: winner.lease.holder, expiresAt: winner.lease.expiresAt))
        }
        #expect(try await store.lease(key) == winner.lease)
    }
}
