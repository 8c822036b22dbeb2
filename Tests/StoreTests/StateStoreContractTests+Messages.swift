import Store
import Testing

/// The message log: dense, never-reused `seq`, the cap, pop, clear and both read forms.
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func seqIsDenseAndNeverReusedAfterPopOrClear(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let m = { (n: Int) in Fixtures.json("{\"n\":\(n)}") }
        #expect(try await store.append(key, messages: [m(1), m(2), m(3)], options: .init(), idempotency: nil)
            == AppendResult(version: 1, firstSeq: 1, lastSeq: 3, messageCount: 3))
        #expect(try await store.append(key, messages: [m(4), m(5)], options: .init(), idempotency: nil)
            == AppendResult(version: 2, firstSeq: 4, lastSeq: 5, messageCount: 5))

        let popped = try await store.popMessage(key, precondition: .none)
        #expect(popped == PopResult(message: Message(seq: 5, data: m(5)), version: 3))
        #expect(try await store.append(key, messages: [m(6)], options: .init(), idempotency: nil)
            == AppendResult(version: 4, firstSeq: 6, lastSeq: 6, messageCount: 5))
        #expect(try await store.readMessages(key, limit: 100, after: nil).messages.map(\.seq) == [1, 2, 3, 4, 6])

        let cleared = try await store.clearMessages(key, precondition: .none)
        #expect(cleared.messageCount == 0)
        #expect(cleared.version == 5)
        #expect(try await store.readMessages(key, limit: 100, after: nil) == MessagePage(messages: [], nextAfter: nil, version: 5))
        #expect(try await store.append(key, messages: [m(7), m(8)], options: .init(), idempotency: nil)
            == AppendResult(version: 6, firstSeq: 7, lastSeq: 8, messageCount: 2))
        #expect(try await store.readMessages(key, limit: 100, after: nil).messages == [Message(seq: 7, data: m(7)), Message(seq: 8, data: m(8))])
    }

    @Test(arguments: StoreBackend.allCases)
    func popReturnsNewestFirstUntilTheLogIsEmpty(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        _ = try await store.save(key, state: Fixtures.json("\"state\""), options: .init())
        _ = try await store.append(key, messages: [Fixtures.json("\"a\""), Fixtures.json("\"b\"")], options: .init(), idempotency: nil)
        #expect(try await store.popMessage(key, precondition: .none).message == Message(seq: 2, data: Fixtures.json("\"b\"")))
        #expect(try await store.popMessage(key, precondition: .none).message == Message(seq: 1, data: Fixtures.json("\"a\"")))
        await #expect(throws: StoreError.noMessages) { try await store.popMessage(key, precondition: .none) }
        let loaded = try await store.load(key)
        #expect(loaded.state == Fixtures.json("\"state\""))
        #expect(loaded.metadata.messageCount == 0)
        #expect(loaded.metadata.version == 4)

        // Clearing an empty log still succeeds, is a mutation, and keeps the state.
        let cleared = try await store.clearMessages(key, precondition: .none)
        #expect(cleared.version == 5)
        #expect(try await store.load(key).state == Fixtures.json("\"state\""))
    }

    @Test(arguments: StoreBackend.allCases)
    func messageCapRejectsWholeAppendsThatWouldPassIt(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend, configuration: .init(maxMessages: 5))
        let key = Fixtures.freshKey()
        let batch = { (count: Int) in (0..<count).map { Fixtures.json("\($0)") } }

        // Over the cap on creation: nothing is created.
        await #expect(throws: StoreError.tooManyMessages(limit: 5)) {
            try await store.append(key, messages: batch(6), options: .init(), idempotency: nil)
        }
        #expect(try await Fixtures.isGone(key, in: store))

        _ = try await store.append(key, messages: batch(3), options: .init(), idempotency: nil)
        await #expect(throws: StoreError.tooManyMessages(limit: 5)) {
            try await store.append(key, messages: batch(3), options: .init(), idempotency: nil)
        }
        // Exactly at the cap is fine.
        #expect(try await store.append(key, messages: batch(2), options: .init(), idempotency: nil)
            == AppendResult(version: 2, firstSeq: 4, lastSeq: 5, messageCount: 5))
        await #expect(throws: StoreError.tooManyMessages(limit: 5)) {
            try await store.append(key, messages: batch(1), options: .init(), idempotency: IdempotencyToken(key: "k", bodyDigest: "d"))
        }
        let full = try await store.load(key).metadata
        #expect(full.messageCount == 5)
        #expect(full.version == 2)
        #expect(try await store.readMessages(key, limit: 100, after: nil).messages.map(\.seq) == [1, 2, 3, 4, 5])

        // Room made by a pop can be used again; the rejected idempotent append was not recorded.
        _ = try await store.popMessage(key, precondition: .none)
        #expect(try await store.append(key, messages: batch(1), options: .init(), idempotency: IdempotencyToken(key: "k", bodyDigest: "d"))
            == AppendResult(version: 4, firstSeq: 6, lastSeq: 6, messageCount: 5))
    }

    @Test(arguments: StoreBackend.allCases)
    func readMessagesRecentAndAfterForms(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        _ = try await store.append(key, messages: (1...10).map { Fixtures.json("\($0)") }, options: .init(), idempotency: nil)
        let seqs = { (page: MessagePage) in page.messages.map(\.seq) }

        // Most recent N: ascending, never a nextAfter.
        let recent = try await store.readMessages(key, limit: 3, after: nil)
        #expect(seqs(recent) == [8, 9, 10])
        #expect(recent.nextAfter == nil)
        #expect(recent.messages.map(\.data) == [Fixtures.json("8"), Fixtures.json("9"), Fixtures.json("10")])
        let all = try await store.readMessages(key, limit: 1000, after: nil)
        #expect(seqs(all) == Array(1...10))
        #expect(all.nextAfter == nil)

        // After S: the first N above S; nextAfter only while more follow.
        let cases: [(after: Int64, limit: Int, seqs: [Int64], next: Int64?)] = [
            (0, 4, [1, 2, 3, 4], 4),
            (4, 4, [5, 6, 7, 8], 8),
            (8, 4, [9, 10], nil),
            (6, 4, [7, 8, 9, 10], nil),
            (9, 1, [10], nil),
            (10, 4, [], nil),
            (500, 4, [], nil),
        ]
        for test in cases {
            let page = try await store.readMessages(key, limit: test.limit, after: test.after)
            #expect(seqs(page) == test.seqs, "after \(test.after) limit \(test.limit)")
            #expect(page.nextAfter == test.next, "after \(test.after) limit \(test.limit)")
        }

        // Gaps left by a pop: "after" is by seq, not by position.
        _ = try await store.popMessage(key, precondition: .none)
        _ = try await store.append(key, messages: [Fixtures.json("11")], options: .init(), idempotency: nil)
        let gap = try await store.readMessages(key, limit: 1, after: 9)
        #expect(seqs(gap) == [11])
        #expect(gap.nextAfter == nil)
        let beforeGap = try await store.readMessages(key, limit: 1, after: 8)
        #expect(seqs(beforeGap) == [9])
        #expect(beforeGap.nextAfter == 9)

        // A session with state but no messages reads as an empty page.
        let stateOnly = Fixtures.key(key.agentID, "state-only")
        _ = try await store.save(stateOnly, state: Fixtures.json("{}"), options: .init())
        #expect(try await store.readMessages(stateOnly, limit: 10, after: nil) == MessagePage(messages: [], nextAfter: nil, version: 1))
        #expect(try await store.readMessages(stateOnly, limit: 10, after: 0) == MessagePage(messages: [], nextAfter: nil, version: 1))
    }
}
