import Store
import Testing

/// `If-Match` / `If-None-Match`: checked atomically with the write, and before anything else.
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func ifMatchSucceedsOnMatchingVersionAnyAndList(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        _ = try await store.save(key, state: Fixtures.json("1"), options: .init())

        let exact = try await store.save(key, state: Fixtures.json("2"), options: .init(precondition: .ifMatch(.versions([1]))))
        #expect(exact.metadata.version == 2)
        let any = try await store.append(key, messages: [Fixtures.json("1")], options: .init(precondition: .ifMatch(.any)), idempotency: nil)
        #expect(any.version == 3)
        let list = try await store.popMessage(key, precondition: .ifMatch(.versions([7, 3, 9])))
        #expect(list.version == 4)
        let cleared = try await store.clearMessages(key, precondition: .ifMatch(.versions([4])))
        #expect(cleared.version == 5)
        try await store.delete(key, precondition: .ifMatch(.versions([5])))
        #expect(try await Fixtures.isGone(key, in: store))
    }

    @Test(arguments: StoreBackend.allCases)
    func ifMatchMismatchFailsEveryMutationAndChangesNothing(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        _ = try await store.save(key, state: Fixtures.json("\"kept\""), options: .init())
        _ = try await store.append(key, messages: [Fixtures.json("1")], options: .init(), idempotency: nil)
        let before = try await store.load(key)
        #expect(before.metadata.version == 2)

        for stale in [Precondition.ifMatch(.versions([1])), .ifMatch(.versions([])), .ifMatch(.versions([3, 4]))] {
            let failed = StoreError.preconditionFailed(currentVersion: 2)
            await #expect(throws: failed) { try await store.save(key, state: Fixtures.json("0"), options: .init(ttl: .seconds(5), precondition: stale)) }
            await #expect(throws: failed) { try await store.append(key, messages: [Fixtures.json("2")], options: .init(precondition: stale), idempotency: nil) }
            await #expect(throws: failed) { try await store.popMessage(key, precondition: stale) }
            await #expect(throws: failed) { try await store.clearMessages(key, precondition: stale) }
            await #expect(throws: failed) { try await store.delete(key, precondition: stale) }
        }
        let after = try await store.load(key)
        #expect(after == before)
    }

    @Test(arguments: StoreBackend.allCases)
    func ifMatchOnAMissingSessionReportsNilVersion(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let failed = StoreError.preconditionFailed(currentVersion: nil)
        for condition in [Precondition.ifMatch(.any), .ifMatch(.versions([1]))] {
            await #expect(throws: failed) { try await store.save(key, state: Fixtures.json("0"), options: .init(precondition: condition)) }
            await #expect(throws: failed) { try await store.append(key, messages: [Fixtures.json("0")], options: .init(precondition: condition), idempotency: nil) }
            await #expect(throws: failed) { try await store.popMessage(key, precondition: condition) }
            await #expect(throws: failed) { try await store.clearMessages(key, precondition: condition) }
            await #expect(throws: failed) { try await store.delete(key, precondition: condition) }
        }
        #expect(try await Fixtures.isGone(key, in: store))
    }

    @Test(arguments: StoreBackend.allCases)
    func ifNoneMatchStarIsCreateOnly(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let createOnly = WriteOptions(precondition: .ifNoneMatch(.any))
        let created = try await store.save(key, state: Fixtures.json("\"first\""), options: createOnly)
        #expect(created.created)
        #expect(created.metadata.version == 1)

        await #expect(throws: StoreError.preconditionFailed(currentVersion: 1)) {
            try await store.save(key, state: Fixtures.json("\"second\""), options: createOnly)
        }
        #expect(try await store.load(key).state == Fixtures.json("\"first\""))

        // A version list under If-None-Match fails only when it names the current version.
        await #expect(throws: StoreError.preconditionFailed(currentVersion: 1)) {
            try await store.save(key, state: Fixtures.json("0"), options: .init(precondition: .ifNoneMatch(.versions([1]))))
        }
        let other = try await store.save(key, state: Fixtures.json("0"), options: .init(precondition: .ifNoneMatch(.versions([5]))))
        #expect(other.metadata.version == 2)
    }

    @Test(arguments: StoreBackend.allCases)
    func failedPreconditionWinsOverOtherFailures(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend, configuration: .init(maxMessages: 2))
        let key = Fixtures.freshKey()
        _ = try await store.save(key, state: Fixtures.json("{}"), options: .init())

        // Pop on an empty log: 412 beats "no messages".
        await #expect(throws: StoreError.preconditionFailed(currentVersion: 1)) {
            try await store.popMessage(key, precondition: .ifMatch(.versions([9])))
        }
        await #expect(throws: StoreError.noMessages) { try await store.popMessage(key, precondition: .ifMatch(.versions([1]))) }

        // An append over the cap: 412 beats "too many messages".
        let tooMany = [Fixtures.json("1"), Fixtures.json("2"), Fixtures.json("3")]
        await #expect(throws: StoreError.preconditionFailed(currentVersion: 1)) {
            try await store.append(key, messages: tooMany, options: .init(precondition: .ifMatch(.versions([9]))), idempotency: nil)
        }
        await #expect(throws: StoreError.tooManyMessages(limit: 2)) {
            try await store.append(key, messages: tooMany, options: .init(precondition: .ifMatch(.versions([1]))), idempotency: nil)
        }
        #expect(try await store.load(key).metadata.version == 1)
    }
}
