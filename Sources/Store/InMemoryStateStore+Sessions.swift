extension InMemoryStateStore {
    /// Replaces the state of a session, creating it if missing. Messages are untouched.
    /// - Throws: `StoreError.preconditionFailed` when `options.precondition` does not hold.
    public func save(_ key: SessionKey, state: [UInt8], options: WriteOptions) throws -> SaveResult {
        try withSession(key) { record, now in
            try Record.check(options.precondition, record)
            guard state.count + (record?.messageBytes ?? 0) <= configuration.maxSessionBytes else {
                throw StoreError.sessionTooLarge(limit: configuration.maxSessionBytes)
            }
            let isNew = record == nil
            var updated = record ?? Record(now: now)
            record = nil  // `updated` is now the only reference: changes happen in place.
            updated.apply(options, isNew: isNew, defaultTTLSeconds: configuration.defaultTTLSeconds)
            updated.state = state
            updated.recordMutation(now: now)
            record = updated
            return SaveResult(metadata: updated.metadata(for: key, now: now), created: isNew)
        }
    }

    /// Loads a session with its state, restarting the clock of a sliding-TTL session.
    /// - Throws: `StoreError.sessionNotFound` when it is missing or expired.
    public func load(_ key: SessionKey) throws -> Session {
        // A live session whose reads do not restart its clock is read without touching the maps; a sliding
        // one (the read is a write) and an expired one (dropped on the way) take `withSession`.
        let now = now()
        let read: Result<Session, StoreError>? = shard(for: key.agentID).state.withLock { state in
            var read: Result<Session, StoreError>? = .failure(.sessionNotFound)
            // Reached in place through the maps' modify accessors: reading the record out of them copied it
            // and the agent's maps (their references retained and released), about 500 instructions.
            state.agents[key.agentID]?.records[key.sessionID]?.readUnchanged(key: key, now: now, into: &read)
            return read
        }
        if let read { return try read.get() }
        return try withSession(key) { record, now in
            guard record != nil else { throw StoreError.sessionNotFound }
            record!.recordRead(now: now)
            return Session(metadata: record!.metadata(for: key, now: now), state: record!.state)
        }
    }

    /// Lists the agent's live sessions, newest `updatedAt` first, ties by `sessionID` descending,
    /// from the list-ordered index (or the label's): O(log n + page). Never extends a sliding TTL.
    /// - Parameters:
    ///   - limit: the page size (1–1000, validated by the caller).
    ///   - cursor: where the previous page ended, or nil for the first page.
    ///   - label: only the sessions carrying this label, when set.
    public func list(agentID: String, limit: Int, cursor: ListCursor?, label: LabelFilter?) throws -> SessionPage {
        let now = now()
        return shard(for: agentID).state.withLock { state in
            state.withAgent(agentID) { sessions in
                var order = label.map { sessions.labelOrders[$0] ?? [] } ?? sessions.order
                let start = cursor.map { ListKey(updatedAt: $0.updatedAt, sessionID: $0.sessionID) }
                var index = start.map { AgentSessions.lowerBound($0, in: order) } ?? 0
                if let start, index < order.count, order[index] == start { index += 1 }
                var page: [SessionMetadata] = []
                var next: ListCursor?
                while index < order.count {
                    let key = order[index]
                    guard let record = sessions.records[key.sessionID], !record.isExpired(at: now) else {
                        // Expired: drop it from every index (the loop's copy too), so the loop always advances.
                        sessions.remove(key.sessionID)
                        order.remove(at: index)
                        continue
                    }
                    if page.count == max(limit, 0) {
                        next = page.last.map { ListCursor(updatedAt: $0.updatedAt, sessionID: $0.sessionID) }
                        break
                    }
                    page.append(record.metadata(for: SessionKey(agentID: agentID, sessionID: key.sessionID), now: now))
                    index += 1
                }
                return SessionPage(sessions: page, nextCursor: next)
            }
        }
    }

    /// Lists all of the agent's live sessions; see `list(agentID:limit:cursor:label:)`.
    public func list(agentID: String, limit: Int, cursor: ListCursor?) throws -> SessionPage {
        try list(agentID: agentID, limit: limit, cursor: cursor, label: nil)
    }

    /// Lists the agent's live sessions whose ID starts with `prefix`, by ID ascending, from the
    /// ID-ordered index: O(log n + page). Never extends a sliding TTL.
    public func list(agentID: String, prefix: String, limit: Int, after: String?) throws -> SessionPage {
        let now = now()
        return shard(for: agentID).state.withLock { state in
            state.withAgent(agentID) { sessions in
                var index = sessions.lowerBound(id: max(prefix, after ?? ""))
                if let after, index < sessions.ids.count, sessions.ids[index] == after { index += 1 }
                var page: [SessionMetadata] = []
                var more = false
                while index < sessions.ids.count, sessions.ids[index].utf8.starts(with: prefix.utf8) {
                    let id = sessions.ids[index]
                    guard let record = sessions.records[id], !record.isExpired(at: now) else {
                        sessions.remove(id)  // shifts the next ID into `index`
                        continue
                    }
                    if page.count == max(limit, 0) {
                        more = true
                        break
                    }
                    page.append(record.metadata(for: SessionKey(agentID: agentID, sessionID: id), now: now))
                    index += 1
                }
                return SessionPage(sessions: page, nextCursor: more ? page.last.map { ListCursor(updatedAt: 0, sessionID: $0.sessionID) } : nil)
            }
        }
    }

    /// Deletes a session with its messages and idempotency records.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`.
    public func delete(_ key: SessionKey, precondition: Precondition) throws {
        try withSession(key) { record, _ in
            try Record.check(precondition, record)
            guard record != nil else { throw StoreError.sessionNotFound }
            record = nil
        }
    }

    /// Deletes every session of an agent.
    /// - Returns: how many live (unexpired) sessions were removed.
    public func deleteAll(agentID: String) throws -> Int {
        let now = now()
        return shard(for: agentID).state.withLock { state in
            let removed = state.agents.removeValue(forKey: agentID) ?? AgentSessions()
            return removed.records.values.count { !$0.isExpired(at: now) }
        }
    }

    /// Deletes every session of the agent whose ID starts with `prefix`.
    /// - Returns: how many live (unexpired) sessions were removed.
    public func deleteAll(agentID: String, prefix: String) throws -> Int {
        let now = now()
        return shard(for: agentID).state.withLock { state in
            state.withAgent(agentID) { sessions in
                let start = sessions.lowerBound(id: prefix)
                var end = start
                while end < sessions.ids.count, sessions.ids[end].utf8.starts(with: prefix.utf8) { end += 1 }
                var live = 0
                for id in sessions.ids[start..<end] {
                    if let record = sessions.records[id], !record.isExpired(at: now) { live += 1 }
                    sessions.remove(id)
                }
                return live
            }
        }
    }

    /// Always succeeds: the store is in process.
    public func ping() throws {}
}
