import Store
import Testing

/// Prefix lists and prefix deletes (DESIGN §11): session IDs in byte order, paged, live only.
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func prefixListIsInIDOrderWithPagingAndOnlyLiveMatches(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let agent = Fixtures.agentID()
        for id in ["a2", "b1", "a10", "a", "a1", "A1", "ab", "gone"] {
            _ = try await store.save(Fixtures.key(agent, id), state: Fixtures.json("1"), options: .init())
        }
        _ = try await store.save(Fixtures.key(Fixtures.agentID(), "a0"), state: Fixtures.json("1"), options: .init())
        try await store.delete(Fixtures.key(agent, "gone"), precondition: .none)

        var seen: [String] = []
        var after: String?
        for _ in 0..<10 {
            let page = try await store.list(agentID: agent, prefix: "a", limit: 2, after: after)
            seen += page.sessions.map(\.sessionID)
            guard let next = page.nextCursor else { break }
            #expect(next.sessionID == page.sessions.last?.sessionID)
            after = next.sessionID
        }
        #expect(seen == ["a", "a1", "a10", "a2", "ab"])
        #expect(try await store.list(agentID: agent, prefix: "a1", limit: 10, after: nil).sessions.map(\.sessionID) == ["a1", "a10"])
        #expect(try await store.list(agentID: agent, prefix: "g", limit: 10, after: nil).sessions.isEmpty)
        #expect(try await store.list(agentID: agent, prefix: "A", limit: 10, after: nil).sessions.map(\.sessionID) == ["A1"])
        // A cursor before the prefix starts at the prefix; one past its range ends the list.
        #expect(try await store.list(agentID: agent, prefix: "a1", limit: 10, after: "0").sessions.map(\.sessionID) == ["a1", "a10"])
        #expect(try await store.list(agentID: agent, prefix: "a", limit: 10, after: "b").sessions.isEmpty)
    }

    @Test(arguments: StoreBackend.allCases)
    func prefixListSkipsExpiredSessions(_ backend: StoreBackend) async throws {
        let (store, time) = try await makeTimedStore(backend)
        let agent = Fixtures.agentID()
        _ = try await store.save(Fixtures.key(agent, "p-short"), state: Fixtures.json("1"), options: .init(ttl: .seconds(1)))
        _ = try await store.save(Fixtures.key(agent, "p-long"), state: Fixtures.json("1"), options: .init(ttl: .seconds(600)))
        try await time.pass(.milliseconds(2_500))
        #expect(try await store.list(agentID: agent, prefix: "p-", limit: 10, after: nil).sessions.map(\.sessionID) == ["p-long"])
        #expect(try await store.deleteAll(agentID: agent, prefix: "p-") == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func prefixDeleteRemovesOnlyTheMatchesAndCountsThem(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let agent = Fixtures.agentID()
        for id in ["run-1", "run-2", "run-10", "runner", "other"] {
            _ = try await store.append(Fixtures.key(agent, id), messages: [Fixtures.json("1")], options: .init(labels: ["kind": "x"]), idempotency: nil)
        }
        #expect(try await store.deleteAll(agentID: agent, prefix: "run-") == 3)
        #expect(try await Fixtures.listAll(agent, in: store).map(\.sessionID).sorted() == ["other", "runner"])
        #expect(try await store.list(agentID: agent, limit: 10, cursor: nil, label: LabelFilter(key: "kind", value: "x")).sessions.map(\.sessionID).sorted() == ["other", "runner"])
        #expect(try await Fixtures.isGone(Fixtures.key(agent, "run-10"), in: store))
        #expect(try await store.deleteAll(agentID: agent, prefix: "run-") == 0)
        // A recreated session starts over.
        let fresh = try await store.append(Fixtures.key(agent, "run-1"), messages: [Fixtures.json("1")], options: .init(), idempotency: nil)
        #expect(fresh.version == 1)
        #expect(try await store.list(agentID: agent, prefix: "run", limit: 10, after: nil).sessions.map(\.sessionID) == ["run-1", "runner"])
    }
}
