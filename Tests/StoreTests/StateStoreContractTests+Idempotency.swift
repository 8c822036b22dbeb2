import Store
import Testing

/// `Idempotency-Key` on append: replay, reuse, order of checks and scope.
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func idempotentRetryReplaysTheFirstResultAndAppendsNothing(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let token = IdempotencyToken(key: "req-1", bodyDigest: "aaaa")
        let first = try await store.append(key, messages: [Fixtures.json("1"), Fixtures.json("2")], options: .init(), idempotency: token)
        #expect(first == AppendResult(version: 1, firstSeq: 1, lastSeq: 2, messageCount: 2))
        _ = try await store.append(key, messages: [Fixtures.json("3")], options: .init(), idempotency: nil)

        let replay = try await store.append(key, messages: [Fixtures.json("1"), Fixtures.json("2")], options: .init(), idempotency: token)
        #expect(replay == first)
        let after = try await store.load(key).metadata
        #expect(after.messageCount == 3)
        #expect(after.version == 2)

        // A different body under the same key is refused, and nothing is appended.
        await #expect(throws: StoreError.idempotencyKeyReused) {
            try await store.append(key, messages: [Fixtures.json("9")], options: .init(), idempotency: IdempotencyToken(key: "req-1", bodyDigest: "bbbb"))
        }
        #expect(try await store.load(key).metadata == after)

        // Another key is another request.
        let second = try await store.append(key, messages: [Fixtures.json("4")], options: .init(), idempotency: IdempotencyToken(key: "req-2", bodyDigest: "aaaa"))
        #expect(second == AppendResult(version: 3, firstSeq: 4, lastSeq: 4, messageCount: 4))
    }

    @Test(arguments: StoreBackend.allCases)
    func idempotencyKeyIsCheckedBeforeIfMatch(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        _ = try await store.save(key, state: Fixtures.json("{}"), options: .init())
        let token = IdempotencyToken(key: "cond", bodyDigest: "d1")
        let conditional = WriteOptions(precondition: .ifMatch(.versions([1])))
        let first = try await store.append(key, messages: [Fixtures.json("1")], options: conditional, idempotency: token)
        #expect(first.version == 2)

        // The retry's If-Match is stale now, yet it replays rather than failing with 412.
        #expect(try await store.append(key, messages: [Fixtures.json("1")], options: conditional, idempotency: token) == first)
        // A reused key with another body is reported as such, even with a stale If-Match.
        await #expect(throws: StoreError.idempotencyKeyReused) {
            try await store.append(key, messages: [Fixtures.json("2")], options: conditional, idempotency: IdempotencyToken(key: "cond", bodyDigest: "d2"))
        }
        // A fresh key with the stale If-Match does get 412.
        await #expect(throws: StoreError.preconditionFailed(currentVersion: 2)) {
            try await store.append(key, messages: [Fixtures.json("1")], options: conditional, idempotency: IdempotencyToken(key: "other", bodyDigest: "d1"))
        }
        #expect(try await store.load(key).metadata.messageCount == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func onlySuccessfulAppendsAreRecorded(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let token = IdempotencyToken(key: "k", bodyDigest: "first-body")
        await #expect(throws: StoreError.preconditionFailed(currentVersion: nil)) {
            try await store.append(key, messages: [Fixtures.json("1")], options: .init(precondition: .ifMatch(.any)), idempotency: token)
        }
        // The failed attempt left no record: another body under the key is accepted.
        let other = IdempotencyToken(key: "k", bodyDigest: "second-body")
        let result = try await store.append(key, messages: [Fixtures.json("2")], options: .init(), idempotency: other)
        #expect(result == AppendResult(version: 1, firstSeq: 1, lastSeq: 1, messageCount: 1))
        #expect(try await store.append(key, messages: [Fixtures.json("2")], options: .init(), idempotency: other) == result)
    }

    @Test(arguments: StoreBackend.allCases)
    func idempotencyKeysArePerSession(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let agent = Fixtures.agentID()
        let token = IdempotencyToken(key: "shared", bodyDigest: "same")
        let a = try await store.append(Fixtures.key(agent, "a"), messages: [Fixtures.json("1")], options: .init(), idempotency: token)
        _ = try await store.append(Fixtures.key(agent, "b"), messages: [Fixtures.json("1"), Fixtures.json("1")], options: .init(), idempotency: nil)
        let b = try await store.append(Fixtures.key(agent, "b"), messages: [Fixtures.json("1")], options: .init(), idempotency: token)
        #expect(a == AppendResult(version: 1, firstSeq: 1, lastSeq: 1, messageCount: 1))
        #expect(b == AppendResult(version: 2, firstSeq: 3, lastSeq: 3, messageCount: 3))
        // The same key in another agent's session of the same ID is separate too.
        let elsewhere = try await store.append(Fixtures.key(Fixtures.agentID(), "a"), messages: [Fixtures.json("1")], options: .init(), idempotency: IdempotencyToken(key: "shared", bodyDigest: "different"))
        #expect(elsewhere.version == 1)
    }
}
