import Store
import Testing
import TestSupport

/// The behaviour every `StateStore` backend must share (DESIGN §3, §4, §7), run once per
/// `StoreBackend`. Tests use the real clock and a fresh agent ID each, so they hold on a shared
/// backend too. Topics live in `StateStoreContractTests+*.swift`.
@Suite(.offCooperativePool) struct StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func versionStartsAtOneAndGrowsByOne(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let before = Fixtures.now()
        let first = try await store.save(key, state: Fixtures.json("{}"), options: .init())
        #expect(first.metadata.version == 1)
        #expect(first.created)
        #expect(abs(first.metadata.createdAt - before) <= Fixtures.clockTolerance)
        #expect(first.metadata.updatedAt == first.metadata.createdAt)

        #expect(try await store.save(key, state: Fixtures.json("[]"), options: .init()).metadata.version == 2)
        #expect(try await store.append(key, messages: [Fixtures.json("1"), Fixtures.json("2")], options: .init(), idempotency: nil).version == 3)
        #expect(try await store.popMessage(key, precondition: .none).version == 4)
        try await Fixtures.tick()
        let cleared = try await store.clearMessages(key, precondition: .none)
        #expect(cleared.version == 5)
        #expect(cleared.createdAt == first.metadata.createdAt)
        #expect(cleared.updatedAt > first.metadata.updatedAt)

        // Reads and failed writes are not mutations.
        _ = try await store.load(key)
        _ = try await store.readMessages(key, limit: 10, after: nil)
        _ = try await store.list(agentID: key.agentID, limit: 10, cursor: nil)
        await #expect(throws: StoreError.noMessages) { try await store.popMessage(key, precondition: .none) }
        #expect(try await store.load(key).metadata.version == 5)
    }

    @Test(arguments: StoreBackend.allCases)
    func saveCreatesThenReplacesOnlyTheState(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        _ = try await store.append(key, messages: [Fixtures.json("\"a\""), Fixtures.json("\"b\"")], options: .init(), idempotency: nil)

        let saved = try await store.save(key, state: Fixtures.json("{\"x\":1}"), options: .init())
        #expect(!saved.created)
        #expect(saved.metadata.version == 2)
        #expect(saved.metadata.messageCount == 2)
        let page = try await store.readMessages(key, limit: 10, after: nil)
        #expect(page.messages.map(\.data) == [Fixtures.json("\"a\""), Fixtures.json("\"b\"")])

        let replaced = try await store.save(key, state: Fixtures.json("[1,2]"), options: .init())
        #expect(!replaced.created)
        let loaded = try await store.load(key)
        #expect(loaded.state == Fixtures.json("[1,2]"))
        #expect(loaded.metadata == replaced.metadata)
        #expect(loaded.metadata.agentID == key.agentID)
        #expect(loaded.metadata.sessionID == key.sessionID)
    }

    @Test(arguments: StoreBackend.allCases)
    func stateAndMessagesRoundTripByteForByte(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let agent = Fixtures.agentID()
        let samples: [String] = [
            "9007199254740993",
            "12345678901234567890",
            "0.1",
            "{\"big\":9007199254740993,\"huge\":12345678901234567890,\"tenth\":0.1,\"exp\":1E+400,\"neg\":-0.0}",
            "{ \"spaced\" :\t[ 1 , 2.50 ,\n true ] , \"dup\":1, \"dup\":2 }",
            "\"h\u{e9}llo \u{1F680} \u{6F22}\u{5B57} \\u00e9 \\ud83d\\ude80 \\\" \\\\\"",
            "null",
            "\"\"",
            "\"" + String(repeating: "abcdefgh", count: (1 << 20) / 8 - 1) + "ABCDEF\"",
        ]
        for (index, sample) in samples.enumerated() {
            let key = Fixtures.key(agent, "s\(index)")
            let bytes = Fixtures.json(sample)
            let saved = try await store.save(key, state: bytes, options: .init())
            #expect(saved.metadata.stateBytes == bytes.count)
            let loaded = try await store.load(key)
            #expect(loaded.state == bytes, "state sample \(index) changed")
            #expect(loaded.metadata.stateBytes == bytes.count)

            _ = try await store.append(key, messages: [bytes, Fixtures.json("0")], options: .init(), idempotency: nil)
            let messages = try await store.readMessages(key, limit: 2, after: nil).messages
            #expect(messages.first?.data == bytes, "message sample \(index) changed")
        }
        #expect(Fixtures.json(samples.last!).count == 1 << 20)
    }

    @Test(arguments: StoreBackend.allCases)
    func appendCreatesASessionWithNullState(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let result = try await store.append(key, messages: [Fixtures.json("{}"), Fixtures.json("[]")], options: .init(), idempotency: nil)
        #expect(result == AppendResult(version: 1, firstSeq: 1, lastSeq: 2, messageCount: 2))
        let loaded = try await store.load(key)
        #expect(loaded.state == nil)
        #expect(loaded.metadata.stateBytes == 0)
        #expect(loaded.metadata.version == 1)
        #expect(loaded.metadata.messageCount == 2)

        // Setting the state later makes it count; a tiny state is still counted exactly.
        #expect(try await store.save(key, state: Fixtures.json("0"), options: .init()).metadata.stateBytes == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func missingSessionsAreNotFound(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        await #expect(throws: StoreError.sessionNotFound) { try await store.load(key) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.readMessages(key, limit: 10, after: nil) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.readMessages(key, limit: 10, after: 0) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.popMessage(key, precondition: .none) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.clearMessages(key, precondition: .none) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.delete(key, precondition: .none) }
        // If-None-Match * holds on a missing session, so the operation's own failure shows.
        await #expect(throws: StoreError.sessionNotFound) { try await store.delete(key, precondition: .ifNoneMatch(.any)) }

        let page = try await store.list(agentID: key.agentID, limit: 50, cursor: nil)
        #expect(page == SessionPage(sessions: [], nextCursor: nil))
        #expect(try await store.deleteAll(agentID: key.agentID) == 0)
        // None of the failures created anything.
        #expect(try await Fixtures.isGone(key, in: store))
    }

    @Test(arguments: StoreBackend.allCases)
    func pingSucceeds(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        try await store.ping()
    }
}
