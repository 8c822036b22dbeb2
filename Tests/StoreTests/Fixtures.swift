import Store
import Testing

/// Helpers shared by the contract suite: unique IDs, JSON bytes, the wall clock and polling.
enum Fixtures {
    /// How far a backend's clock may be from the test process's clock, in milliseconds.
    static let clockTolerance: Int64 = 1_000

    /// A fresh agent ID, so no two tests ever touch the same sessions, even on a shared backend.
    static func agentID() -> String {
        "t-" + String(UInt64.random(in: .min ... .max), radix: 36) + String(UInt32.random(in: .min ... .max), radix: 36)
    }

    /// A key for `session` of `agent`.
    static func key(_ agent: String, _ session: String = "s") -> SessionKey {
        SessionKey(agentID: agent, sessionID: session)
    }

    /// A key in a fresh agent.
    static func freshKey(_ session: String = "s") -> SessionKey {
        key(agentID(), session)
    }

    /// The UTF-8 bytes of a JSON text, exactly as written.
    static func json(_ text: String) -> [UInt8] {
        Array(text.utf8)
    }

    /// Wall-clock milliseconds since the epoch.
    static func now() -> Int64 {
        WallClock.milliseconds()
    }

    /// Expects `expiresAt` to be `ttlSeconds` after some instant in `[before, after]`, give or take
    /// `clockTolerance`.
    static func expectExpiry(
        _ expiresAt: Int64?, ttlSeconds: Int64, between before: Int64, and after: Int64,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let expiresAt else {
            Issue.record("expiresAt is nil, expected about now + \(ttlSeconds) s", sourceLocation: sourceLocation)
            return
        }
        let low = before + ttlSeconds * 1000 - clockTolerance
        let high = after + ttlSeconds * 1000 + clockTolerance
        #expect((low...high).contains(expiresAt), "expiresAt \(expiresAt) not in \(low)...\(high)", sourceLocation: sourceLocation)
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes.
    /// - Returns: whether the condition held in time.
    static func eventually(
        within timeout: Duration = .seconds(3), _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// Whether `key` is gone: `load` throws `sessionNotFound`.
    static func isGone(_ key: SessionKey, in store: any StateStore) async throws -> Bool {
        do {
            _ = try await store.load(key)
            return false
        } catch StoreError.sessionNotFound {
            return true
        }
    }

    /// Every session of `agentID`, newest first, read one full page.
    static func listAll(_ agentID: String, in store: any StateStore) async throws -> [SessionMetadata] {
        let page = try await store.list(agentID: agentID, limit: 1000, cursor: nil)
        #expect(page.nextCursor == nil)
        return page.sessions
    }

    /// Whether `a` may precede `b` in a list: newer `updatedAt` first, ties by `sessionID` descending.
    static func listsBefore(_ a: SessionMetadata, _ b: SessionMetadata) -> Bool {
        a.updatedAt != b.updatedAt ? a.updatedAt > b.updatedAt : a.sessionID > b.sessionID
    }

    /// Sleeps just long enough for the millisecond clock to move on.
    static func tick() async throws {
        try await Task.sleep(for: .milliseconds(3))
    }
}
