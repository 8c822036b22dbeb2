import Store
import Testing

/// Labels (DESIGN §11): replaced, kept or cleared by every write that can create a session, and
/// the label-filtered list, which never shows an expired, deleted or relabelled session.
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func labelsAreReplacedKeptOrClearedByEveryCreatingWrite(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let first: SessionLabels = ["user": "alice", "team": "ops:core", "note_1": "ünïcode ✓"]

        var meta = try await store.save(key, state: Fixtures.json("1"), options: .init(labels: first)).metadata
        #expect(meta.labels == first)
        meta = try await store.save(key, state: Fixtures.json("2"), options: .init()).metadata
        #expect(meta.labels == first, "a save without labels keeps them")
        #expect(try await store.load(key).metadata.labels == first)

        _ = try await store.append(key, messages: [Fixtures.json("1")], options: .init(labels: ["user": "bob"]), idempotency: nil)
        #expect(try await store.load(key).metadata.labels == ["user": "bob"], "an append's labels replace the whole set")
        _ = try await store.append(key, messages: [Fixtures.json("2")], options: .init(), idempotency: nil)
        #expect(try await store.load(key).metadata.labels == ["user": "bob"])

        _ = try await store.replaceMessages(key, messages: [], keys: nil, options: .init(labels: [:]))
        #expect(try await store.load(key).metadata.labels == [:], "{} clears them")
        #expect(try await store.list(agentID: key.agentID, limit: 10, cursor: nil, label: LabelFilter(key: "user", value: "bob")).sessions.isEmpty)

        // A session created by an append or a replace gets its labels too; one created without has none.
        let appended = Fixtures.key(key.agentID, "appended")
        _ = try await store.append(appended, messages: [Fixtures.json("1")], options: .init(labels: ["k": "v"]), idempotency: nil)
        #expect(try await store.load(appended).metadata.labels == ["k": "v"])
        let replaced = Fixtures.key(key.agentID, "replaced")
        _ = try await store.replaceMessages(replaced, messages: [], keys: nil, options: .init(labels: ["k": "w"]))
        #expect(try await store.load(replaced).metadata.labels == ["k": "w"])
        let bare = Fixtures.key(key.agentID, "bare")
        #expect(try await store.save(bare, state: Fixtures.json("1"), options: .init()).metadata.labels == [:])

        // Sixteen labels with 256-byte values round-trip.
        let many = SessionLabels(uniqueKeysWithValues: (0..<16).map { ("k\($0)", String(repeating: "v", count: 256)) })
        #expect(try await store.save(bare, state: Fixtures.json("1"), options: .init(labels: many)).metadata.labels == many)
        #expect(try await store.load(bare).metadata.labels == many)
    }

    @Test(arguments: StoreBackend.allCases)
    func labelListHasListOrderAndPagingAndOnlyTheLabelsSessions(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let agent = Fixtures.agentID()
        let alice = LabelFilter(key: "user", value: "alice")
        for index in 0..<7 {
            let labels: SessionLabels = index % 2 == 0 ? ["user": "alice"] : ["user": "alice2"]
            _ = try await store.save(Fixtures.key(agent, "s\(index)"), state: Fixtures.json("1"), options: .init(labels: labels))
            try await Fixtures.tick()
        }
        _ = try await store.save(Fixtures.key(Fixtures.agentID(), "s0"), state: Fixtures.json("1"), options: .init(labels: ["user": "alice"]))

        var seen: [String] = []
        var cursor: ListCursor?
        for _ in 0..<10 {
            let page = try await store.list(agentID: agent, limit: 3, cursor: cursor, label: alice)
            seen += page.sessions.map(\.sessionID)
            #expect(page.sessions.allSatisfy { $0.labels == ["user": "alice"] })
            cursor = page.nextCursor
            if cursor == nil { break }
        }
        #expect(seen == ["s6", "s4", "s2", "s0"])

        // Relabelled, deleted: gone from the filtered list at once; a write moves a session to the top.
        _ = try await store.save(Fixtures.key(agent, "s4"), state: Fixtures.json("2"), options: .init(labels: ["user": "carol"]))
        try await store.delete(Fixtures.key(agent, "s2"), precondition: .none)
        _ = try await store.append(Fixtures.key(agent, "s0"), messages: [Fixtures.json("1")], options: .init(), idempotency: nil)
        let page = try await store.list(agentID: agent, limit: 10, cursor: nil, label: alice)
        #expect(page.sessions.map(\.sessionID) == ["s0", "s6"])
        #expect(page.nextCursor == nil)
        #expect(try await store.list(agentID: agent, limit: 10, cursor: nil, label: LabelFilter(key: "user", value: "carol")).sessions.map(\.sessionID) == ["s4"])
        #expect(try await store.list(agentID: agent, limit: 10, cursor: nil, label: LabelFilter(key: "team", value: "alice")).sessions.isEmpty)

        // deleteAll takes the label indexes with it.
        #expect(try await store.deleteAll(agentID: agent) == 6)
        #expect(try await store.list(agentID: agent, limit: 10, cursor: nil, label: alice).sessions.isEmpty)
        _ = try await store.save(Fixtures.key(agent, "s6"), state: Fixtures.json("1"), options: .init())
        #expect(try await store.list(agentID: agent, limit: 10, cursor: nil, label: alice).sessions.isEmpty)
    }

    @Test(arguments: StoreBackend.allCases)
    func labelListNeverShowsAnExpiredSessionOrOneRecreatedWithoutTheLabel(_ backend: StoreBackend) async throws {
        let (store, time) = try await makeTimedStore(backend)
        let agent = Fixtures.agentID()
        let label = LabelFilter(key: "user", value: "dana")
        // 4 s: the first list must come before they expire, on a loaded machine too (1 s once did not).
        _ = try await store.save(Fixtures.key(agent, "short"), state: Fixtures.json("1"), options: .init(ttl: .seconds(4), labels: ["user": "dana"]))
        _ = try await store.save(Fixtures.key(agent, "again"), state: Fixtures.json("1"), options: .init(ttl: .seconds(4), labels: ["user": "dana"]))
        _ = try await store.save(Fixtures.key(agent, "long"), state: Fixtures.json("1"), options: .init(ttl: .seconds(600), labels: ["user": "dana"]))
        #expect(try await store.list(agentID: agent, limit: 10, cursor: nil, label: label).sessions.count == 3)

        try await time.pass(.milliseconds(5_500))
        // "again" comes back without labels; its old label entry must not make it listed.
        _ = try await store.save(Fixtures.key(agent, "again"), state: Fixtures.json("2"), options: .init())
        #expect(try await store.list(agentID: agent, limit: 10, cursor: nil, label: label).sessions.map(\.sessionID) == ["long"])
        #expect(try await store.list(agentID: agent, limit: 10, cursor: nil).sessions.map(\.sessionID) == ["again", "long"])
    }
}
