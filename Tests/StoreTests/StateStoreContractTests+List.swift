import Store
import Testing

/// `list`: newest first, ties by ID, stable cursors, never a dead session.
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func listOrdersByUpdatedAtDescendingThenSessionID(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let agent = Fixtures.agentID()
        // Created back to back, many share a millisecond: ties must go by ID descending.
        let ids = (0..<30).map { "s\(($0 * 7) % 30)" }
        for id in ids {
            _ = try await store.save(Fixtures.key(agent, id), state: Fixtures.json("{}"), options: .init())
        }
        let listed = try await Fixtures.listAll(agent, in: store)
        #expect(Set(listed.map(\.sessionID)) == Set(ids))
        #expect(listed.count == ids.count)
        for (a, b) in zip(listed, listed.dropFirst()) {
            #expect(Fixtures.listsBefore(a, b), "\(a.sessionID)@\(a.updatedAt) listed before \(b.sessionID)@\(b.updatedAt)")
        }
        // List entries carry the same metadata as a load.
        for entry in listed.prefix(3) {
            #expect(try await store.load(Fixtures.key(agent, entry.sessionID)).metadata == entry)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func everyMutationMovesTheSessionToTheTop(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let agent = Fixtures.agentID()
        for id in ["a", "b", "c"] {
            _ = try await store.append(Fixtures.key(agent, id), messages: [Fixtures.json("1"), Fixtures.json("2")], options: .init(), idempotency: nil)
            try await Fixtures.tick()
        }
        #expect(try await Fixtures.listAll(agent, in: store).map(\.sessionID) == ["c", "b", "a"])

        try await Fixtures.tick()
        _ = try await store.popMessage(Fixtures.key(agent, "a"), precondition: .none)
        #expect(try await Fixtures.listAll(agent, in: store).map(\.sessionID) == ["a", "c", "b"])

        try await Fixtures.tick()
        _ = try await store.clearMessages(Fixtures.key(agent, "b"), precondition: .none)
        #expect(try await Fixtures.listAll(agent, in: store).map(\.sessionID) == ["b", "a", "c"])

        try await Fixtures.tick()
        _ = try await store.append(Fixtures.key(agent, "c"), messages: [Fixtures.json("3")], options: .init(), idempotency: nil)
        #expect(try await Fixtures.listAll(agent, in: store).map(\.sessionID) == ["c", "b", "a"])

        try await Fixtures.tick()
        _ = try await store.save(Fixtures.key(agent, "a"), state: Fixtures.json("1"), options: .init())
        #expect(try await Fixtures.listAll(agent, in: store).map(\.sessionID) == ["a", "c", "b"])

        // Reads do not reorder.
        try await Fixtures.tick()
        _ = try await store.load(Fixtures.key(agent, "b"))
        _ = try await store.readMessages(Fixtures.key(agent, "b"), limit: 5, after: nil)
        #expect(try await Fixtures.listAll(agent, in: store).map(\.sessionID) == ["a", "c", "b"])
    }

    @Test(arguments: StoreBackend.allCases)
    func listPagesThroughEverySessionExactlyOnce(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let agent = Fixtures.agentID()
        for index in 0..<23 {
            _ = try await store.save(Fixtures.key(agent, "s\(index)"), state: Fixtures.json("\(index)"), options: .init())
            if index % 4 == 0 { try await Fixtures.tick() }
        }
        let everything = try await Fixtures.listAll(agent, in: store)
        #expect(everything.count == 23)

        for limit in [1, 5, 23, 50] {
            var seen: [SessionMetadata] = []
            var cursor: ListCursor?
            var pages = 0
            repeat {
                let page = try await store.list(agentID: agent, limit: limit, cursor: cursor)
                #expect(page.sessions.count <= limit)
                #expect(Set(page.sessions.map(\.sessionID)).count == page.sessions.count)
                if let next = page.nextCursor {
                    #expect(page.sessions.count == limit)
                    #expect(next == ListCursor(updatedAt: page.sessions.last!.updatedAt, sessionID: page.sessions.last!.sessionID))
                    // The cursor survives its opaque form.
                    #expect(ListCursor(encoded: next.encoded) == next)
                }
                seen += page.sessions
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages <= 30
            #expect(seen == everything, "paging by \(limit)")
            #expect(pages == (23 + limit - 1) / limit, "a full last page must not leave a cursor to an empty page")
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func listCursorSurvivesDeletedSessions(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let agent = Fixtures.agentID()
        for index in 0..<9 {
            _ = try await store.save(Fixtures.key(agent, "s\(index)"), state: Fixtures.json("{}"), options: .init())
            try await Fixtures.tick()
        }
        let everything = try await Fixtures.listAll(agent, in: store).map(\.sessionID)
        let first = try await store.list(agentID: agent, limit: 3, cursor: nil)
        #expect(first.sessions.map(\.sessionID) == Array(everything[0..<3]))

        // Delete the cursor's own session and one that the next page would have shown.
        try await store.delete(Fixtures.key(agent, everything[2]), precondition: .none)
        try await store.delete(Fixtures.key(agent, everything[4]), precondition: .none)

        let second = try await store.list(agentID: agent, limit: 3, cursor: first.nextCursor)
        #expect(second.sessions.map(\.sessionID) == [everything[3], everything[5], everything[6]])
        let third = try await store.list(agentID: agent, limit: 3, cursor: second.nextCursor)
        #expect(third.sessions.map(\.sessionID) == [everything[7], everything[8]])
        #expect(third.nextCursor == nil)

        let remaining = try await Fixtures.listAll(agent, in: store).map(\.sessionID)
        #expect(!remaining.contains(everything[2]))
        #expect(!remaining.contains(everything[4]))
        #expect(remaining.count == 7)
    }
}
