import RedisClient
@testable import Store
import Testing
import TestSupport

/// `RedisStateStore` when Redis forgets its scripts, goes away, or answers with errors. Each test
/// that disturbs the server gets a private `RedisServerProcess`, so the shared one stays clean.
@Suite(.offCooperativePool) struct RedisStateStoreFailureTests {
    @Test func reloadsScriptsAfterScriptFlush() async throws {
        let server = try await RedisServerProcess()
        let pool = try Self.pool(server)
        let store = RedisStateStore(client: pool, keyPrefix: "test:noscript:")
        let key = Fixtures.freshKey()
        do {
            // Without loadScripts() the first call loads its script lazily.
            _ = try await store.save(key, state: Fixtures.json("1"), options: .init())
            try await store.loadScripts()
            _ = try await pool.send("SCRIPT", "FLUSH")
            #expect(try await store.load(key).state == Fixtures.json("1"))
            _ = try await pool.send("SCRIPT", "FLUSH")
            try await Self.exerciseEveryOperation(store, key: key)
        } catch {
            Issue.record("unexpected error \(error)")
        }
        await pool.close()
        await server.stop()
    }

    @Test func redisDownMeansUnavailableThenRecoversAfterRestart() async throws {
        let server = try await RedisServerProcess()
        let pool = try Self.pool(server)
        let store = RedisStateStore(client: pool, keyPrefix: "test:outage:")
        let key = Fixtures.freshKey()
        try await store.loadScripts()
        _ = try await store.save(key, state: Fixtures.json("1"), options: .init())

        await server.stop()
        let operations: [(String, () async throws -> Void)] = [
            ("ping", { try await store.ping() }),
            ("save", { _ = try await store.save(key, state: Fixtures.json("2"), options: .init()) }),
            ("load", { _ = try await store.load(key) }),
            ("list", { _ = try await store.list(agentID: key.agentID, limit: 10, cursor: nil) }),
            ("append", { _ = try await store.append(key, messages: [Fixtures.json("1")], options: .init(), idempotency: nil) }),
            ("readMessages", { _ = try await store.readMessages(key, limit: 10, after: nil) }),
            ("popMessage", { _ = try await store.popMessage(key, precondition: .none) }),
            ("clearMessages", { _ = try await store.clearMessages(key, precondition: .none) }),
            ("delete", { try await store.delete(key, precondition: .none) }),
            ("deleteAll", { _ = try await store.deleteAll(agentID: key.agentID) }),
            ("loadScripts", { try await store.loadScripts() }),
        ]
        for (name, operation) in operations {
            do {
                try await operation()
                Issue.record("\(name) succeeded with Redis stopped")
            } catch StoreError.unavailable {
                // Expected: 503, never 500.
            } catch {
                Issue.record("\(name) threw \(error), expected StoreError.unavailable")
            }
        }

        try await server.restart()
        // The restarted server has no data and no scripts: the store reconnects and reloads them.
        let recovered = try await Fixtures.eventually(within: .seconds(5)) {
            (try? await store.save(key, state: Fixtures.json("3"), options: .init())) != nil
        }
        #expect(recovered, "the store did not work again within 5 s of the restart")
        if recovered {
            try await Self.exerciseEveryOperation(store, key: key)
        }
        await pool.close()
        await server.stop()
    }

    @Test(arguments: ["LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN"])
    func transientServerErrorsMapToUnavailable(_ code: String) {
        let error = RedisStateStore.storeError(RedisError(message: "\(code) try later"), operation: "save")
        #expect(error == .unavailable(reason: "redis save: \(code) try later"))
    }

    @Test func aScriptCutShortByAMigratingSlotIsNeverAnInternalError() {
        let error = RedisError(message: "ERR Script attempted to access a non local key in a cluster node script: abc")
        #expect(RedisStateStore.storeError(error, operation: "append") == .outcomeUnknown(reason: "redis append: \(error.message)"))
        #expect(RedisStateStore.storeError(error, operation: "list") == .unavailable(reason: "redis list: \(error.message)"))
    }

    @Test func aLostReplyToAWriteIsAnUnknownOutcomeButToAReadIsNot() {
        let lost = RedisClientError(.timeout, "no reply").sent(true)
        guard case .outcomeUnknown = RedisStateStore.storeError(lost, operation: "save") else {
            Issue.record("a sent save that timed out must be an unknown outcome")
            return
        }
        guard case .unavailable = RedisStateStore.storeError(lost, operation: "load") else {
            Issue.record("a read has no outcome to doubt")
            return
        }
        guard case .unavailable = RedisStateStore.storeError(RedisClientError(.timeout, "no reply").sent(false), operation: "append") else {
            Issue.record("an append never written whole was certainly not applied")
            return
        }
    }

    @Test func outOfMemoryHasItsOwnError() {
        let error = RedisStateStore.storeError(RedisError(message: "OOM command not allowed when used memory > 'maxmemory'."), operation: "save")
        #expect(error == .outOfMemory)
    }

    @Test func otherErrorsMapToInternalAndClientFailuresToUnavailable() {
        let script = RedisStateStore.storeError(RedisError(message: "ERR Error running script"), operation: "append")
        #expect(script == .internalError(reason: "redis append: ERR Error running script"))
        let wrongType = RedisStateStore.storeError(RedisError(message: "WRONGTYPE Operation against a key"), operation: "load")
        #expect(wrongType == .internalError(reason: "redis load: WRONGTYPE Operation against a key"))
        for code in [RedisClientError.Code.connectionFailed, .timeout, .connectionClosed, .poolClosed] {
            let mapped = RedisStateStore.storeError(RedisClientError(code, "gone"), operation: "list")
            guard case .unavailable = mapped else {
                Issue.record("\(code) mapped to \(mapped)")
                continue
            }
        }
        #expect(RedisStateStore.storeError(StoreError.noMessages, operation: "pop") == .noMessages)
    }

    /// A pool to `server` with short timeouts and fast reconnects, so failures show quickly.
    static func pool(_ server: RedisServerProcess) throws -> RedisConnectionPool {
        var configuration = RedisConnectionPool.Configuration(url: try RedisURL(parsing: server.url))
        configuration.connectionCount = 2
        configuration.connectTimeout = .milliseconds(500)
        configuration.commandTimeout = .seconds(1)
        configuration.reconnectBaseDelay = .milliseconds(20)
        configuration.reconnectMaxDelay = .milliseconds(200)
        return RedisConnectionPool(configuration: configuration)
    }

    /// Runs every operation once on `key` (which may or may not exist) and checks the basics.
    static func exerciseEveryOperation(_ store: RedisStateStore, key: SessionKey) async throws {
        try await store.ping()
        let saved = try await store.save(key, state: Fixtures.json("{\"k\":1}"), options: .init())
        #expect(try await store.load(key).metadata == saved.metadata)
        let appended = try await store.append(key, messages: [Fixtures.json("1"), Fixtures.json("2")], options: .init(), idempotency: IdempotencyToken(key: "i", bodyDigest: "d"))
        #expect(appended.version == saved.metadata.version + 1)
        #expect(try await store.readMessages(key, limit: 10, after: nil).messages.count == appended.messageCount)
        #expect(try await store.popMessage(key, precondition: .none).version == appended.version + 1)
        #expect(try await store.clearMessages(key, precondition: .none).messageCount == 0)
        #expect(try await store.list(agentID: key.agentID, limit: 10, cursor: nil).sessions.map(\.sessionID) == [key.sessionID])
        try await store.delete(key, precondition: .none)
        _ = try await store.save(key, state: Fixtures.json("1"), options: .init())
        #expect(try await store.deleteAll(agentID: key.agentID) == 1)
    }
}
