import Synchronization

extension InMemoryStateStore.Record {
    /// This record's entries in its agent's indexes.
    func indexEntry(_ sessionID: String) -> InMemoryStateStore.IndexEntry {
        InMemoryStateStore.IndexEntry(listKey: InMemoryStateStore.ListKey(updatedAt: updatedAt, sessionID: sessionID), labels: labels)
    }
}

extension InMemoryStateStore {
    /// One lock stripe: every session of the agents that hash to it, behind one `Mutex`.
    ///
    /// All sessions of an agent live in the same shard, so `list` and `deleteAll` see and change
    /// a consistent set under one lock, while unrelated agents rarely contend.
    final class Shard: Sendable {
        /// The shard's sessions; never held across an `await`.
        let state = Mutex(ShardState())
    }

    /// A session's place in its agent's list: newest `updatedAt` first, ties by session ID
    /// descending (Redis's `ZREVRANGE` order; IDs are ASCII, so this is byte order).
    struct ListKey: Comparable {
        var updatedAt: Int64
        var sessionID: String

        static func < (lhs: ListKey, rhs: ListKey) -> Bool {
            lhs.updatedAt != rhs.updatedAt ? lhs.updatedAt > rhs.updatedAt : lhs.sessionID > rhs.sessionID
        }
    }

    /// Where a session sits in its agent's indexes: its list position and its labels.
    struct IndexEntry: Equatable {
        var listKey: ListKey
        var labels: SessionLabels
    }

    /// The sessions of one agent, with indexes so that every list page costs O(log n + page):
    /// the list order, one list-ordered index per label, and the IDs in byte order (prefix lists).
    struct AgentSessions {
        var records: [String: Record] = [:]
        /// Every record's `ListKey`, sorted. Expired records stay until a list, a touch or the sweep drops them.
        var order: [ListKey] = []
        /// The `ListKey`s of the sessions carrying each label, sorted like `order`.
        var labelOrders: [LabelFilter: [ListKey]] = [:]
        /// Every record's ID, ascending.
        var ids: [String] = []

        var isEmpty: Bool { records.isEmpty }

        /// The index of the first key not ordered before `key` in a list-ordered array.
        static func lowerBound(_ key: ListKey, in order: [ListKey]) -> Int {
            var low = 0, high = order.count
            while low < high {
                let middle = (low + high) / 2
                if order[middle] < key { low = middle + 1 } else { high = middle }
            }
            return low
        }

        /// The index of the first ID not below `id` in `ids`.
        func lowerBound(id: String) -> Int {
            var low = 0, high = ids.count
            while low < high {
                let middle = (low + high) / 2
                if ids[middle] < id { low = middle + 1 } else { high = middle }
            }
            return low
        }

        /// Moves `key` within a sorted array: removes `old`, inserts `new` (either may be nil).
        static func move(in order: inout [ListKey], from old: ListKey?, to new: ListKey?) {
            if let old {
                let index = lowerBound(old, in: order)
                if index < order.count, order[index] == old { order.remove(at: index) }
            }
            if let new { order.insert(new, at: lowerBound(new, in: order)) }
        }

        /// Moves a session's entries in every index from `old` to `new` (either may be nil: created or removed).
        mutating func reindex(_ sessionID: String, from old: IndexEntry?, to new: IndexEntry?) {
            guard old != new else { return }
            if old?.listKey != new?.listKey { Self.move(in: &order, from: old?.listKey, to: new?.listKey) }
            for (key, value) in old?.labels ?? [:] {
                let filter = LabelFilter(key: key, value: value)
                Self.move(in: &labelOrders[filter, default: []], from: old?.listKey, to: nil)
                if labelOrders[filter]?.isEmpty == true { labelOrders.removeValue(forKey: filter) }
            }
            for (key, value) in new?.labels ?? [:] {
                Self.move(in: &labelOrders[LabelFilter(key: key, value: value), default: []], from: nil, to: new?.listKey)
            }
            if old == nil {
                ids.insert(sessionID, at: lowerBound(id: sessionID))
            } else if new == nil {
                let index = lowerBound(id: sessionID)
                if index < ids.count, ids[index] == sessionID { ids.remove(at: index) }
            }
        }

        /// Runs `body` on the live record `sessionID` (nil when missing or expired) where it lies in
        /// `records`, then moves its index entries to match what `body` left.
        mutating func withRecord<R>(_ sessionID: String, now: Int64, _ body: (inout Record?) throws -> R) rethrows -> R {
            var before: IndexEntry?, after: IndexEntry?
            defer { reindex(sessionID, from: before, to: after) }
            return try inPlace(&records[sessionID]) { record in
                before = record?.indexEntry(sessionID)
                if let existing = record, existing.isExpired(at: now) { record = nil }
                defer { after = record?.indexEntry(sessionID) }
                return try body(&record)
            }
        }

        /// Removes the expired sessions and the stale idempotency records of the others.
        ///
        /// Each record is read and pruned where it lies (an index walk over the values, no lookup by key
        /// and no copy of a record); only the expired ones are then looked up again, to leave the indexes.
        /// - Returns: the number of sessions removed.
        mutating func sweep(now: Int64) -> Int {
            var expired: [String] = []
            var index = records.startIndex
            while index != records.endIndex {
                if records.values[index].isExpired(at: now) {
                    expired.append(records.keys[index])
                } else {
                    records.values[index].pruneIdempotency(now: now)
                }
                records.formIndex(after: &index)
            }
            for sessionID in expired { remove(sessionID) }
            return expired.count
        }

        /// Removes a session and its index entries.
        mutating func remove(_ sessionID: String) {
            guard let record = records.removeValue(forKey: sessionID) else { return }
            reindex(sessionID, from: record.indexEntry(sessionID), to: nil)
        }
    }

    /// The sessions of one shard, by agent ID.
    struct ShardState {
        var agents: [String: AgentSessions] = [:]

        /// Runs `body` with the live record of `key` (nil when missing or expired) in place in the
        /// maps, so that changes never copy its state or log, and keeps whatever `body` leaves
        /// (nothing when it sets nil), keeping every index in step. An expired record is dropped
        /// for good, and an agent left without sessions is removed.
        ///
        /// `body` must only change the record once it can no longer throw.
        ///
        /// Both maps are changed through their subscripts' in-place accessors: one hash lookup each, where
        /// taking the values out and putting them back took two (and a reinsert) per map.
        mutating func withSession<R>(_ key: SessionKey, now: Int64, _ body: (inout Record?) throws -> R) rethrows -> R {
            var emptied = false
            defer { if emptied { agents.removeValue(forKey: key.agentID) } }
            return try inPlace(&agents[key.agentID, default: AgentSessions()]) { sessions in
                defer { emptied = sessions.isEmpty }
                return try sessions.withRecord(key.sessionID, now: now, body)
            }
        }

        /// Runs `body` with an agent's sessions taken out of the map (no copy), putting back what is left.
        mutating func withAgent<R>(_ agentID: String, _ body: (inout AgentSessions) throws -> R) rethrows -> R {
            var sessions = agents.removeValue(forKey: agentID) ?? AgentSessions()
            defer { if !sessions.isEmpty { agents[agentID] = sessions } }
            return try body(&sessions)
        }

        /// Removes expired sessions and stale idempotency records.
        /// - Returns: the number of sessions removed.
        mutating func sweep(now: Int64) -> Int {
            var removed = 0
            for agentID in Array(agents.keys) {
                var emptied = false
                inPlace(&agents[agentID, default: AgentSessions()]) { sessions in
                    removed += sessions.sweep(now: now)
                    emptied = sessions.isEmpty
                }
                if emptied { agents.removeValue(forKey: agentID) }
            }
            return removed
        }

        /// How many session records the shard holds, expired ones not yet swept included.
        var recordCount: Int {
            agents.values.reduce(0) { $0 + $1.records.count }
        }
    }
}

/// Runs `body` on `value` in place: through a subscript's in-place accessor when `value` is one.
private func inPlace<T, R>(_ value: inout T, _ body: (inout T) throws -> R) rethrows -> R {
    try body(&value)
}
