import RedisClient
@testable import Store
import Testing
import TestSupport

/// `RedisStateStore` against a Redis at its `maxmemory` with `noeviction`: every write that could
/// grow memory fails before it writes anything, creations included; reads and deletes still work.
@Suite(.offCooperativePool) struct RedisOutOfMemoryTests {
    /// One state, large enough that a few dozen fill the limit.
    static let state = Fixtures.json("\"" + String(repeating: "x", count: 32 * 1024) + "\"")
    static let maxMemory = 4 * 1024 * 1024

    @Test func writesFailWholeAtTheLimitWhileReadsAndDeletesWork() async throws {
        let server = try await RedisServerProcess(arguments: ["--maxmemory", String(Self.maxMemory), "--maxmemory-policy", "noeviction"])
        let pool = try RedisStateStoreFailureTests.pool(server)
        let store = RedisStateStore(client: pool, keyPrefix: "test:oom:")
        try await store.loadScripts()
        let raw = try await RedisConnection.connect(to: try RedisURL(parsing: server.url))
        defer { raw.close() }
        let agent = "agent"
        var peak = 0
        func usedMemory(countingPeak: Bool = true) async throws -> Int {
            let info = try await raw.send("INFO", "memory").string ?? ""
            let line = info.split(separator: "\r\n").first { $0.hasPrefix("used_memory:") } ?? ""
            let used = Int(line.dropFirst("used_memory:".count)) ?? 0
            if countingPeak { peak = max(peak, used) }
            return used
        }
        func keysOf(_ session: String) -> [String] {
            let record = "test:oom:\(agent):\(session)"
            return [record, record + ":messages", record + ":idem", record + ":keys"]
        }

        // Fill Redis with new sessions until it refuses one.
        var created: [String] = []
        var refused: String?
        for index in 0..<1_000 {
            let session = "s\(index)"
            do {
                _ = try await store.save(Fixtures.key(agent, session), state: Self.state, options: .init())
                created.append(session)
            } catch StoreError.outOfMemory {
                refused = session
                break
            }
            _ = try await usedMemory()
        }
        let first = try #require(refused, "Redis never refused a write at maxmemory \(Self.maxMemory)")
        #expect(created.count > 10)
        // Then lower the limit well below what is in use, so that no fluctuation of client buffers
        // (a few KiB either way) lets one of the writes below slip under it.
        let used = try await usedMemory(countingPeak: false)
        _ = try await raw.send("CONFIG", "SET", "maxmemory", String(used - 512 * 1024))

        // Every kind of growing write is refused now, and writes nothing: new sessions by save,
        // append and replace, and growing an existing one.
        // (Memory is not sampled here: refused requests leave client query buffers of their size
        // behind, which are not data; the key count and the EXISTS checks show nothing was written.)
        let keysBefore = try await raw.send("DBSIZE").int
        for attempt in 0..<20 {
            let session = "late\(attempt)"
            let key = Fixtures.key(agent, session)
            await #expect(throws: StoreError.outOfMemory) { try await store.save(key, state: Self.state, options: .init()) }
            await #expect(throws: StoreError.outOfMemory) {
                try await store.append(key, messages: [Self.state], options: .init(), idempotency: IdempotencyToken(key: "k\(attempt)", bodyDigest: "d"))
            }
            await #expect(throws: StoreError.outOfMemory) { try await store.replaceMessages(key, messages: [Self.state], keys: nil, options: .init()) }
            #expect(try await raw.send(["EXISTS"] + keysOf(session)).int == 0, "\(session) was half-written")
            #expect(try await raw.send("ZSCORE", "test:oom:\(agent)", session).isNull)
        }
        #expect(try await raw.send("DBSIZE").int == keysBefore)
        #expect(try await raw.send(["EXISTS"] + keysOf(first)).int == 0)
        let existing = Fixtures.key(agent, created[0])
        await #expect(throws: StoreError.outOfMemory) {
            try await store.append(existing, messages: [Self.state], options: .init(), idempotency: nil)
        }
        // Replacing an existing session's state (the save's fast path, whose first write is its
        // HSET) and giving it a TTL (the general path) are refused too, and write nothing.
        let grown = Self.state + Self.state
        await #expect(throws: StoreError.outOfMemory) { try await store.save(existing, state: grown, options: .init()) }
        await #expect(throws: StoreError.outOfMemory) { try await store.save(existing, state: grown, options: .init(ttl: .seconds(60))) }
        #expect(try await raw.send("HGET", "test:oom:\(agent):\(created[0])", "v").string == "1")
        #expect(try await raw.send("PTTL", "test:oom:\(agent):\(created[0])").int == -1)
        #expect(try await raw.send("DBSIZE").int == keysBefore)
        #expect(peak <= Self.maxMemory + 2 * Self.state.count, "used_memory \(peak) passed maxmemory by more than a request")

        // Reads keep working; deleting frees room, and writes succeed again.
        #expect(try await store.load(existing).state == Self.state)
        #expect(try await store.list(agentID: agent, limit: 10, cursor: nil).sessions.count == 10)
        for session in created.prefix(created.count / 2) {
            try await store.delete(Fixtures.key(agent, session), precondition: .none)
        }
        _ = try await store.save(Fixtures.key(agent, "after-delete"), state: Self.state, options: .init())
        #expect(try await store.load(Fixtures.key(agent, "after-delete")).metadata.version == 1)

        await pool.close()
        await server.stop()
    }
}
