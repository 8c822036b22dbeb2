import Store
import Testing

/// API v1.1's message log (DESIGN §10): read before, version on reads, replace, trim, delete one,
/// message keys and the session byte cap, on every backend.
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func beforePagesBackThrough2500MessagesWithNoGapOrRepeat(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        for batch in 0..<3 {
            let range = (batch * 1000 + 1)...min(2500, batch * 1000 + 1000)
            _ = try await store.append(key, messages: range.map { Fixtures.json("{\"n\":\($0)}") }, options: .init(), idempotency: nil)
        }
        var seen: [Int64] = []
        var before: Int64 = 2501
        var pages = 0
        while pages < 100 {
            let page = try await store.readMessages(key, limit: 97, query: .before(before))
            pages += 1
            let seqs = page.messages.map(\.seq)
            #expect(seqs == seqs.sorted(), "a page is in ascending seq")
            #expect(page.nextAfter == nil)
            #expect(page.version == 3)
            for message in page.messages { #expect(message.data == Fixtures.json("{\"n\":\(message.seq)}")) }
            seen = seqs + seen
            guard let next = page.nextBefore else { break }
            #expect(next == seqs.first)
            before = next
        }
        #expect(seen == Array(1...2500), "every message once, in order")
        #expect(pages == 26)

        // Edges: before the first seq, past the end, and a gap left by a deleted message.
        #expect(try await store.readMessages(key, limit: 10, query: .before(1)) == MessagePage(messages: [], nextAfter: nil, version: 3))
        #expect(try await store.readMessages(key, limit: 10, query: .before(0)).messages.isEmpty)
        let small = try await store.readMessages(key, limit: 5, query: .before(3))
        #expect(small.messages.map(\.seq) == [1, 2])
        #expect(small.nextBefore == nil)
        let top = try await store.readMessages(key, limit: 2, query: .before(Int64.max))
        #expect(top.messages.map(\.seq) == [2499, 2500])
        #expect(top.nextBefore == 2499)
        _ = try await store.deleteMessage(key, seq: 10, precondition: .none)
        let gap = try await store.readMessages(key, limit: 2, query: .before(11))
        #expect(gap.messages.map(\.seq) == [8, 9])
        #expect(gap.nextBefore == 8)
    }

    @Test(arguments: StoreBackend.allCases)
    func replaceContinuesSeqsAndReportsCreation(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let m = { (n: Int) in Fixtures.json("\"m\(n)\"") }

        let created = try await store.replaceMessages(key, messages: [m(1), m(2)], keys: nil, options: .init())
        #expect(created == ReplaceResult(version: 1, firstSeq: 1, lastSeq: 2, messageCount: 2, created: true))
        _ = try await store.save(key, state: Fixtures.json("{\"s\":1}"), options: .init())
        let replaced = try await store.replaceMessages(key, messages: [m(3), m(4), m(5)], keys: nil, options: .init())
        #expect(replaced == ReplaceResult(version: 3, firstSeq: 3, lastSeq: 5, messageCount: 3, created: false))
        #expect(try await store.readMessages(key, limit: 100, after: nil).messages == [
            Message(seq: 3, data: m(3)), Message(seq: 4, data: m(4)), Message(seq: 5, data: m(5)),
        ])
        #expect(try await store.load(key).state == Fixtures.json("{\"s\":1}"), "replace keeps the state")

        let emptied = try await store.replaceMessages(key, messages: [], keys: nil, options: .init())
        #expect(emptied == ReplaceResult(version: 4, firstSeq: nil, lastSeq: nil, messageCount: 0, created: false))
        #expect(try await store.load(key).metadata.messageBytes == 0)
        #expect(try await store.append(key, messages: [m(6)], options: .init(), idempotency: nil).firstSeq == 6)

        // If-Match: a stale version writes nothing; the current one wins.
        await #expect(throws: StoreError.preconditionFailed(currentVersion: 5)) {
            try await store.replaceMessages(key, messages: [m(7)], keys: nil, options: .init(precondition: .ifMatch(.versions([4]))))
        }
        #expect(try await store.readMessages(key, limit: 100, after: nil).messages.map(\.seq) == [6])
        #expect(try await store.replaceMessages(key, messages: [m(7)], keys: nil, options: .init(precondition: .ifMatch(.versions([5])))).version == 6)
        await #expect(throws: StoreError.preconditionFailed(currentVersion: nil)) {
            try await store.replaceMessages(Fixtures.key(key.agentID, "missing"), messages: [], keys: nil, options: .init(precondition: .ifMatch(.any)))
        }
        #expect(try await Fixtures.isGone(Fixtures.key(key.agentID, "missing"), in: store))

        // An empty replace of a missing session creates it, with no messages.
        let bare = try await store.replaceMessages(Fixtures.key(key.agentID, "bare"), messages: [], keys: nil, options: .init(ttl: .seconds(60)))
        #expect(bare == ReplaceResult(version: 1, firstSeq: nil, lastSeq: nil, messageCount: 0, created: true))
        #expect(try await store.load(Fixtures.key(key.agentID, "bare")).metadata.ttlSeconds == 60)

        // Over the message cap: nothing is replaced.
        let capped = try await makeStore(backend, configuration: .init(maxMessages: 2))
        _ = try await capped.append(key, messages: [m(1)], options: .init(), idempotency: nil)
        await #expect(throws: StoreError.tooManyMessages(limit: 2)) {
            try await capped.replaceMessages(key, messages: [m(1), m(2), m(3)], keys: nil, options: .init())
        }
        #expect(try await capped.readMessages(key, limit: 10, after: nil).messages.map(\.seq) == [1])
    }

    @Test(arguments: StoreBackend.allCases)
    func concurrentReaderNeverSeesAnEmptyOrPartialLogDuringReplace(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let generation: @Sendable (Int) -> [[UInt8]] = { g in (0..<50).map { Fixtures.json("\"g\(g)-\($0)\"") } }
        _ = try await store.replaceMessages(key, messages: generation(0), keys: nil, options: .init())
        let rounds = 40
        let reads = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                for g in 1...rounds {
                    let keys = (0..<50).map { "g\(g)-\($0)" }
                    _ = try await store.replaceMessages(key, messages: generation(g), keys: keys, options: .init())
                }
                return 0
            }
            group.addTask {
                var count = 0
                // Bounded: at most 2,000 reads, and it stops once the last generation is seen.
                while count < 2_000 {
                    let page = try await store.readMessages(key, limit: 1000, after: nil)
                    count += 1
                    #expect(page.messages.count == 50, "read \(count) saw \(page.messages.count) messages")
                    guard let first = page.messages.first else { continue }
                    let g = Int(first.seq - 1) / 50
                    #expect(page.messages.map(\.seq) == Array((first.seq)..<(first.seq + 50)), "seqs are one generation")
                    #expect(page.messages.map(\.data) == generation(g), "data is one generation")
                    if g == rounds { break }
                }
                return count
            }
            return try await group.reduce(0, +)
        }
        #expect(reads > 0)
        #expect(try await store.readMessages(key, limit: 1000, after: nil).messages.first?.seq == Int64(rounds * 50 + 1))
        #expect(try await store.message(key, withKey: "g\(rounds)-7").messages.map(\.seq) == [Int64(rounds * 50 + 8)])
    }

    @Test(arguments: StoreBackend.allCases)
    func keyConflictsWriteNothingAndKeysAreFreedWithTheirMessages(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let m = { (n: Int) in Fixtures.json("{\"n\":\(n)}") }

        // A key repeated within the request of a new session: nothing is created.
        await #expect(throws: StoreError.keyConflict) {
            try await store.append(key, messages: [m(1), m(2)], keys: ["a", "a"], options: .init(), idempotency: nil)
        }
        #expect(try await Fixtures.isGone(key, in: store))

        _ = try await store.append(key, messages: [m(1), m(2), m(3)], keys: ["a", nil, "c"], options: .init(), idempotency: nil)
        let before = try await store.load(key).metadata
        // Present already, or repeated: 409 and nothing written.
        for keys: [String?] in [["a"], ["z", "z"], [nil, "c"]] {
            await #expect(throws: StoreError.keyConflict) {
                try await store.append(key, messages: keys.map { _ in m(9) }, keys: keys, options: .init(), idempotency: nil)
            }
        }
        await #expect(throws: StoreError.keyConflict) {
            try await store.replaceMessages(key, messages: [m(8), m(9)], keys: ["x", "x"], options: .init())
        }
        let after = try await store.load(key).metadata
        #expect(after == before)
        #expect(try await store.readMessages(key, limit: 100, after: nil).messages == [
            Message(seq: 1, data: m(1), key: "a"), Message(seq: 2, data: m(2)), Message(seq: 3, data: m(3), key: "c"),
        ])

        // Lookup by key.
        #expect(try await store.message(key, withKey: "c") == MessagePage(messages: [Message(seq: 3, data: m(3), key: "c")], nextAfter: nil, version: 1))
        await #expect(throws: StoreError.messageNotFound) { try await store.message(key, withKey: "b") }
        await #expect(throws: StoreError.sessionNotFound) { try await store.message(Fixtures.key(key.agentID, "nope"), withKey: "a") }

        // Freed by pop, delete-one, trim, clear and replace.
        #expect(try await store.popMessage(key, precondition: .none).message == Message(seq: 3, data: m(3), key: "c"))
        await #expect(throws: StoreError.messageNotFound) { try await store.message(key, withKey: "c") }
        _ = try await store.append(key, messages: [m(4), m(5)], keys: ["c", "d"], options: .init(), idempotency: nil)
        #expect(try await store.deleteMessage(key, seq: 5, precondition: .none).message.key == "d")
        _ = try await store.append(key, messages: [m(6)], keys: ["d"], options: .init(), idempotency: nil)
        #expect(try await store.trimMessages(key, before: 5, precondition: .none).deleted == 3)
        await #expect(throws: StoreError.messageNotFound) { try await store.message(key, withKey: "a") }
        _ = try await store.append(key, messages: [m(7)], keys: ["a"], options: .init(), idempotency: nil)
        _ = try await store.clearMessages(key, precondition: .none)
        await #expect(throws: StoreError.messageNotFound) { try await store.message(key, withKey: "d") }
        _ = try await store.append(key, messages: [m(8)], keys: ["d"], options: .init(), idempotency: nil)
        // The old log's keys go with it: a replace may reuse them.
        let replaced = try await store.replaceMessages(key, messages: [m(9)], keys: ["d"], options: .init())
        #expect(try await store.message(key, withKey: "d").messages == [Message(seq: replaced.firstSeq!, data: m(9), key: "d")])
        // Keys survive a save of the state.
        _ = try await store.save(key, state: Fixtures.json("1"), options: .init())
        #expect(try await store.message(key, withKey: "d").messages.count == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func trimAndDeleteOneHonourIfMatch(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        _ = try await store.append(key, messages: (1...10).map { Fixtures.json("\($0)") }, options: .init(), idempotency: nil)

        await #expect(throws: StoreError.preconditionFailed(currentVersion: 1)) {
            try await store.trimMessages(key, before: 4, precondition: .ifMatch(.versions([7])))
        }
        await #expect(throws: StoreError.preconditionFailed(currentVersion: 1)) {
            try await store.deleteMessage(key, seq: 5, precondition: .ifMatch(.versions([7])))
        }
        #expect(try await store.load(key).metadata.messageCount == 10)
        #expect(try await store.load(key).metadata.version == 1)

        #expect(try await store.trimMessages(key, before: 4, precondition: .ifMatch(.versions([1]))) == TrimResult(deleted: 3, version: 2))
        // Removing nothing changes nothing, not even the version.
        let untouched = try await store.load(key).metadata
        try await Fixtures.tick()
        #expect(try await store.trimMessages(key, before: 4, precondition: .none) == TrimResult(deleted: 0, version: 2))
        #expect(try await store.load(key).metadata == untouched)

        let removed = try await store.deleteMessage(key, seq: 5, precondition: .ifMatch(.versions([2])))
        #expect(removed == PopResult(message: Message(seq: 5, data: Fixtures.json("5")), version: 3))
        await #expect(throws: StoreError.messageNotFound) { try await store.deleteMessage(key, seq: 5, precondition: .none) }
        await #expect(throws: StoreError.messageNotFound) { try await store.deleteMessage(key, seq: 99, precondition: .none) }
        #expect(try await store.readMessages(key, limit: 100, after: nil).messages.map(\.seq) == [4, 6, 7, 8, 9, 10])
        let meta = try await store.load(key).metadata
        #expect(meta.version == 3)
        #expect(meta.messageCount == 6)
        #expect(meta.messageBytes == 1 + 1 + 1 + 1 + 1 + 2)

        // A precondition is checked before existence; then a missing session is 404.
        let missing = Fixtures.key(key.agentID, "missing")
        await #expect(throws: StoreError.preconditionFailed(currentVersion: nil)) {
            try await store.trimMessages(missing, before: 4, precondition: .ifMatch(.any))
        }
        await #expect(throws: StoreError.sessionNotFound) { try await store.trimMessages(missing, before: 4, precondition: .none) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.deleteMessage(missing, seq: 1, precondition: .none) }
        #expect(try await store.trimMessages(key, before: Int64.max, precondition: .none) == TrimResult(deleted: 6, version: 4))
        #expect(try await store.load(key).metadata.messageBytes == 0)
    }

    @Test(arguments: StoreBackend.allCases)
    func sizeCapRefusesWritesPastItAndWritesNothing(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend, configuration: .init(maxSessionBytes: 100))
        let key = Fixtures.freshKey()
        let bytes = { (count: Int) in Fixtures.json("\"" + String(repeating: "x", count: count - 2) + "\"") }

        // Over the cap on creation: nothing is created.
        await #expect(throws: StoreError.sessionTooLarge(limit: 100)) {
            try await store.append(key, messages: [bytes(60), bytes(41)], options: .init(), idempotency: nil)
        }
        await #expect(throws: StoreError.sessionTooLarge(limit: 100)) { try await store.save(key, state: bytes(101), options: .init()) }
        await #expect(throws: StoreError.sessionTooLarge(limit: 100)) {
            try await store.replaceMessages(key, messages: [bytes(101)], keys: nil, options: .init())
        }
        #expect(try await Fixtures.isGone(key, in: store))

        _ = try await store.save(key, state: bytes(40), options: .init())
        _ = try await store.append(key, messages: [bytes(30), bytes(30)], options: .init(), idempotency: nil)  // exactly 100
        let full = try await store.load(key).metadata
        #expect(full.stateBytes == 40)
        #expect(full.messageBytes == 60)
        await #expect(throws: StoreError.sessionTooLarge(limit: 100)) {
            try await store.append(key, messages: [bytes(3)], options: .init(), idempotency: IdempotencyToken(key: "k", bodyDigest: "d"))
        }
        await #expect(throws: StoreError.sessionTooLarge(limit: 100)) { try await store.save(key, state: bytes(41), options: .init()) }
        await #expect(throws: StoreError.sessionTooLarge(limit: 100)) {
            try await store.replaceMessages(key, messages: [bytes(61)], keys: nil, options: .init())
        }
        #expect(try await store.load(key).metadata == full, "nothing was written past the cap")
        #expect(try await store.readMessages(key, limit: 10, after: nil).messages.map(\.seq) == [1, 2])

        // A replace within the cap; room freed by pop is usable again; list shows the byte count.
        #expect(try await store.replaceMessages(key, messages: [bytes(50)], keys: nil, options: .init()).messageCount == 1)
        #expect(try await store.load(key).metadata.messageBytes == 50)
        _ = try await store.append(key, messages: [bytes(10)], options: .init(), idempotency: nil)
        _ = try await store.popMessage(key, precondition: .none)
        _ = try await store.append(key, messages: [bytes(10)], options: .init(), idempotency: nil)
        #expect(try await Fixtures.listAll(key.agentID, in: store).map(\.messageBytes) == [60])
        #expect(try await store.save(key, state: bytes(30), options: .init()).metadata.messageBytes == 60)
    }
}
