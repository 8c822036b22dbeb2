import Store
import Testing
import TestSupport

/// `InMemoryStateStore` specifics, on an injected clock: exact expiry instants and the sweep.
@Suite(.offCooperativePool)
struct InMemoryStateStoreTests {
    /// A store on `clock` with the background sweeper off, so tests decide when sweeps happen.
    private func makeStore(_ clock: ManualClock, configuration: StoreConfiguration = .init()) -> InMemoryStateStore {
        InMemoryStateStore(configuration: configuration, sweepInterval: nil, now: { clock.now() })
    }

    @Test func sessionExpiresExactlyAtItsDeadline() throws {
        let clock = ManualClock()
        let store = makeStore(clock)
        let key = SessionKey(agentID: "agent", sessionID: "s")
        let start = clock.now()
        let saved = try store.save(key, state: Array("{}".utf8), options: .init(ttl: .seconds(10)))
        #expect(saved.metadata.expiresAt == start + 10_000)
        _ = try store.append(key, messages: [Array("1".utf8)], options: .init(), idempotency: IdempotencyToken(key: "k", bodyDigest: "d"))

        clock.advance(milliseconds: 9_999)
        #expect(try store.load(key).metadata.version == 2)
        #expect(try store.list(agentID: "agent", limit: 10, cursor: nil).sessions.count == 1)

        clock.advance(milliseconds: 1)
        #expect(throws: StoreError.sessionNotFound) { try store.load(key) }
        #expect(try store.list(agentID: "agent", limit: 10, cursor: nil).sessions.isEmpty)
        #expect(try store.append(key, messages: [Array("2".utf8)], options: .init(), idempotency: IdempotencyToken(key: "k", bodyDigest: "d"))
            == AppendResult(version: 1, firstSeq: 1, lastSeq: 1, messageCount: 1))
        let reborn = try store.load(key)
        #expect(reborn.metadata.createdAt == clock.now())
        #expect(reborn.metadata.ttlSeconds == nil)
    }

    @Test func sweepFreesExpiredSessions() throws {
        let clock = ManualClock()
        let store = makeStore(clock)
        for index in 0..<100 {
            _ = try store.append(SessionKey(agentID: "a\(index % 7)", sessionID: "s\(index)"), messages: [Array("1".utf8)], options: .init(ttl: .seconds(5)), idempotency: nil)
        }
        _ = try store.save(SessionKey(agentID: "a0", sessionID: "keeper"), state: Array("1".utf8), options: .init())
        #expect(store.storedSessionCount == 101)
        #expect(store.sweepExpired() == 0)

        clock.advance(milliseconds: 5_000)
        #expect(store.storedSessionCount == 101, "expired sessions linger until swept or touched")
        #expect(store.sweepExpired() == 100)
        #expect(store.storedSessionCount == 1)
        #expect(try store.list(agentID: "a0", limit: 100, cursor: nil).sessions.map(\.sessionID) == ["keeper"])
    }

    @Test func backgroundSweeperRunsUntilClosed() async throws {
        let clock = ManualClock()
        let store = InMemoryStateStore(sweepInterval: .milliseconds(20), now: { clock.now() })
        defer { store.close() }
        _ = try store.save(SessionKey(agentID: "a", sessionID: "s"), state: Array("1".utf8), options: .init(ttl: .seconds(1)))
        clock.advance(milliseconds: 1_000)
        let swept = try await Fixtures.eventually(within: .seconds(2)) { store.storedSessionCount == 0 }
        #expect(swept)

        store.close()
        store.close()
        _ = try store.save(SessionKey(agentID: "a", sessionID: "t"), state: Array("1".utf8), options: .init(ttl: .seconds(1)))
        clock.advance(milliseconds: 1_000)
        try await Task.sleep(for: .milliseconds(100))
        #expect(store.storedSessionCount == 1, "a closed store does not sweep")
        #expect(throws: StoreError.sessionNotFound) { try store.load(SessionKey(agentID: "a", sessionID: "t")) }
    }

    @Test func listBreaksUpdatedAtTiesBySessionIDDescending() throws {
        let clock = ManualClock()
        let store = makeStore(clock)
        for id in ["c", "a", "d", "b"] {
            _ = try store.save(SessionKey(agentID: "agent", sessionID: id), state: Array("1".utf8), options: .init())
        }
        let ids = { try store.list(agentID: "agent", limit: 10, cursor: nil).sessions.map(\.sessionID) }
        #expect(try ids() == ["d", "c", "b", "a"])

        clock.advance(milliseconds: 1)
        _ = try store.append(SessionKey(agentID: "agent", sessionID: "b"), messages: [Array("1".utf8)], options: .init(), idempotency: nil)
        #expect(try ids() == ["b", "d", "c", "a"])
    }

    @Test func listCursorWithTiesStartsStrictlyAfterIt() throws {
        let clock = ManualClock()
        let store = makeStore(clock)
        for id in ["c", "a", "d", "b", "e"] {
            _ = try store.save(SessionKey(agentID: "agent", sessionID: id), state: Array("1".utf8), options: .init())
        }
        clock.advance(milliseconds: 1)
        _ = try store.append(SessionKey(agentID: "agent", sessionID: "d"), messages: [Array("1".utf8)], options: .init(), idempotency: nil)

        let first = try store.list(agentID: "agent", limit: 2, cursor: nil)
        #expect(first.sessions.map(\.sessionID) == ["d", "e"])
        #expect(first.nextCursor == ListCursor(updatedAt: clock.now() - 1, sessionID: "e"))
        let second = try store.list(agentID: "agent", limit: 2, cursor: first.nextCursor)
        #expect(second.sessions.map(\.sessionID) == ["c", "b"])
        let third = try store.list(agentID: "agent", limit: 2, cursor: second.nextCursor)
        #expect(third.sessions.map(\.sessionID) == ["a"])
        #expect(third.nextCursor == nil)
    }

    @Test func slidingTTLRestartsOnReadsOnly() throws {
        let clock = ManualClock()
        let store = makeStore(clock)
        let key = SessionKey(agentID: "agent", sessionID: "s")
        _ = try store.append(key, messages: [Array("1".utf8)], options: .init(ttl: .seconds(10), slidingTTL: true), idempotency: nil)

        clock.advance(milliseconds: 9_000)
        #expect(try store.load(key).metadata.expiresAt == clock.now() + 10_000)
        clock.advance(milliseconds: 9_000)
        _ = try store.readMessages(key, limit: 1, after: nil)
        let extended = clock.now() + 10_000
        clock.advance(milliseconds: 9_000)
        #expect(try store.list(agentID: "agent", limit: 1, cursor: nil).sessions.first?.expiresAt == extended)
        clock.advance(milliseconds: 1_000)
        #expect(try store.list(agentID: "agent", limit: 1, cursor: nil).sessions.isEmpty)
        #expect(throws: StoreError.sessionNotFound) { try store.readMessages(key, limit: 1, after: nil) }
    }

    @Test func idempotencyRecordsExpireAfterTheirLimit() throws {
        let clock = ManualClock()
        let store = makeStore(clock, configuration: .init(idempotencyTTLSeconds: 60))
        let key = SessionKey(agentID: "agent", sessionID: "s")
        let token = IdempotencyToken(key: "k", bodyDigest: "d")
        let first = try store.append(key, messages: [Array("1".utf8)], options: .init(), idempotency: token)
        clock.advance(milliseconds: 59_999)
        #expect(try store.append(key, messages: [Array("1".utf8)], options: .init(), idempotency: token) == first)
        clock.advance(milliseconds: 1)
        let later = try store.append(key, messages: [Array("1".utf8)], options: .init(), idempotency: token)
        #expect(later == AppendResult(version: 2, firstSeq: 2, lastSeq: 2, messageCount: 2))
    }

    @Test func deleteAllCountsOnlyLiveSessions() throws {
        let clock = ManualClock()
        let store = makeStore(clock)
        _ = try store.save(SessionKey(agentID: "agent", sessionID: "short"), state: Array("1".utf8), options: .init(ttl: .seconds(1)))
        _ = try store.save(SessionKey(agentID: "agent", sessionID: "long"), state: Array("1".utf8), options: .init(ttl: .seconds(100)))
        _ = try store.save(SessionKey(agentID: "agent", sessionID: "forever"), state: Array("1".utf8), options: .init())
        clock.advance(milliseconds: 1_000)
        #expect(try store.deleteAll(agentID: "agent") == 2)
        #expect(store.storedSessionCount == 0)
    }

    /// The list-ordered index stays in step with the records through random saves, appends, pops,
    /// deletes, expiries and sweeps: paging through it always equals a brute-force sort.
    @Test(arguments: [1, 2, 3])
    func listIndexMatchesABruteForceSort(seed: UInt64) throws {
        let clock = ManualClock()
        let store = makeStore(clock)
        var random = SplitMix64(seed: seed)
        let agent = "prop"
        for _ in 0..<600 {
            let key = SessionKey(agentID: agent, sessionID: "s\(random.next() % 40)")
            switch random.next() % 7 {
            case 0, 1: _ = try store.save(key, state: Array("1".utf8), options: WriteOptions(ttl: random.next() % 3 == 0 ? .seconds(2) : .keep))
            case 2: _ = try store.append(key, messages: [Array("1".utf8)], options: WriteOptions(), idempotency: nil)
            case 3: _ = try? store.popMessage(key, precondition: .none)
            case 4: _ = try? store.delete(key, precondition: .none)
            case 5: clock.advance(milliseconds: Int64(random.next() % 700))
            default: if random.next() % 4 == 0 { store.sweepExpired() }
            }
            if random.next() % 10 == 0 { try expectListMatchesSort(store, agent: agent, pageSize: Int(random.next() % 7) + 1) }
        }
        try expectListMatchesSort(store, agent: agent, pageSize: 5)
    }

    private func expectListMatchesSort(_ store: InMemoryStateStore, agent: String, pageSize: Int) throws {
        var listed: [String] = []
        var cursor: ListCursor?
        for _ in 0..<100 {
            let page = try store.list(agentID: agent, limit: pageSize, cursor: cursor)
            #expect(page.sessions.count <= pageSize)
            listed += page.sessions.map(\.sessionID)
            cursor = page.nextCursor
            if cursor == nil { break }
        }
        var expected: [(Int64, String)] = []
        for index in 0..<40 {
            if let session = try? store.load(SessionKey(agentID: agent, sessionID: "s\(index)")) {
                expected.append((session.metadata.updatedAt, session.metadata.sessionID))
            }
        }
        expected.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 > $1.1 }
        #expect(listed == expected.map(\.1))
    }
}

