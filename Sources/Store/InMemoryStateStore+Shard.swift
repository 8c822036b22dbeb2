import Synchronization

extension InMemoryStateStore {
    /// One lock stripe: every session of the agents that hash to it, behind one `Mutex`.
    ///
    /// All sessions of an agent live in the same shard, so `list` and `deleteAll` see and change
    /// a consistent set under one lock, while unrelated agents rarely contend.
    final class Shard: Sendable {
        /// The shard's sessions; never held across an `await`.
        let state = Mutex(ShardState())
    }

    /// The sessions of one shard, by agent ID and then session ID.
    struct ShardState {
        var agents: [String: [String: Record]] = [:]

        /// Runs `body` with the live record of `key` (nil when missing or expired) taken out of the
        /// maps, so that in-place changes never copy its state or log, and puts back whatever
        /// `body` leaves (nothing when it sets nil). An expired record is dropped for good.
        ///
        /// `body` must only change the record once it can no longer throw.
        mutating func withSession<R>(_ key: SessionKey, now: Int64, _ body: (inout Record?) throws -> R) rethrows -> R {
            var sessions = agents.removeValue(forKey: key.agentID) ?? [:]
            var record = sessions.removeValue(forKey: key.sessionID)
            if let existing = record, existing.isExpired(at: now) { record = nil }
            defer {
                if let record { sessions[key.sessionID] = record }
                if !sessions.isEmpty { agents[key.agentID] = sessions }
            }
            return try body(&record)
        }

        /// The live sessions of an agent, dropping the expired ones from the shard on the way.
        mutating func liveSessions(of agentID: String, now: Int64) -> [String: Record] {
            guard var sessions = agents[agentID] else { return [:] }
            if sessions.values.contains(where: { $0.isExpired(at: now) }) {
                sessions = sessions.filter { !$0.value.isExpired(at: now) }
                agents[agentID] = sessions.isEmpty ? nil : sessions
            }
            return sessions
        }

        /// Removes expired sessions and stale idempotency records.
        /// - Returns: the number of sessions removed.
        mutating func sweep(now: Int64) -> Int {
            var removed = 0
            for agentID in Array(agents.keys) {
                guard var sessions = agents.removeValue(forKey: agentID) else { continue }
                for sessionID in Array(sessions.keys) {
                    if sessions[sessionID]!.isExpired(at: now) {
                        sessions.removeValue(forKey: sessionID)
                        removed += 1
                    } else {
                        sessions[sessionID]!.pruneIdempotency(now: now)
                    }
                }
                if !sessions.isEmpty { agents[agentID] = sessions }
            }
            return removed
        }

        /// How many session records the shard holds, expired ones not yet swept included.
        var recordCount: Int {
            agents.values.reduce(0) { $0 + $1.count }
        }
    }
}
