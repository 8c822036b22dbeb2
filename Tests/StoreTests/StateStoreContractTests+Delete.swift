import Store
import Testing

/// `delete` and `deleteAll`: everything of a session goes, idempotency records included.
extension StateStoreContractTests {
    @Test(arguments: StoreBackend.allCases)
    func deleteRemovesStateMessagesAndIdempotencyRecords(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let key = Fixtures.freshKey()
        let token = IdempotencyToken(key: "retry-1", bodyDigest: "digest-a")
        _ = try await store.save(key, state: Fixtures.json("{\"a\":1}"), options: .init())
        let first = try await store.append(key, messages: [Fixtures.json("1"), Fixtures.json("2")], options: .init(), idempotency: token)
        #expect(first == AppendResult(version: 2, firstSeq: 1, lastSeq: 2, messageCount: 2))

        try await store.delete(key, precondition: .none)
        #expect(try await Fixtures.isGone(key, in: store))
        await #expect(throws: StoreError.sessionNotFound) { try await store.readMessages(key, limit: 10, after: nil) }
        await #expect(throws: StoreError.sessionNotFound) { try await store.delete(key, precondition: .none) }
        #expect(try await Fixtures.listAll(key.agentID, in: store).isEmpty)

        // The same key and body now append again, into a brand-new session.
        let again = try await store.append(key, messages: [Fixtures.json("3")], options: .init(), idempotency: token)
        #expect(again == AppendResult(version: 1, firstSeq: 1, lastSeq: 1, messageCount: 1))
        let recreated = try await store.load(key)
        #expect(recreated.state == nil)
        #expect(try await store.readMessages(key, limit: 10, after: nil).messages == [Message(seq: 1, data: Fixtures.json("3"))])
    }

    @Test(arguments: StoreBackend.allCases)
    func deleteAllRemovesEveryoneOfTheAgentAndCountsThem(_ backend: StoreBackend) async throws {
        let store = try await makeStore(backend)
        let agent = Fixtures.agentID()
        let other = Fixtures.agentID()
        for session in ["a", "b", "c"] {
            _ = try await store.save(Fixtures.key(agent, session), state: Fixtures.json("1"), options: .init())
        }
        _ = try await store.append(Fixtures.key(agent, "d"), messages: [Fixtures.json("1")], options: .init(), idempotency: nil)
        _ = try await store.save(Fixtures.key(other, "a"), state: Fixtures.json("2"), options: .init())

        #expect(try await store.deleteAll(agentID: agent) == 4)
        #expect(try await Fixtures.listAll(agent, in: store).isEmpty)
        for session in ["a", "b", "c", "d"] {
            #expect(try await Fixtures.isGone(Fixtures.key(agent, session), in: store))
        }
        #expect(try await store.deleteAll(agentID: agent) == 0)

        // Another agent's session with the same ID is untouched.
        #expect(try await store.load(Fixtures.key(other, "a")).state == Fixtures.json("2"))
        #expect(try await Fixtures.listAll(other, in: store).map(\.sessionID) == ["a"])

        // The agent can start over from version 1.
        let fresh = try await store.save(Fixtures.key(agent, "a"), state: Fixtures.json("3"), options: .init())
        #expect(fresh.created)
        #expect(fresh.metadata.version == 1)
    }
}
