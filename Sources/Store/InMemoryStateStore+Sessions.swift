extension InMemoryStateStore {
    /// Replaces the state of a session, creating it if missing. Messages are untouched.
    /// - Throws: `StoreError.preconditionFailed` when `options.precondition` does not hold.
    public func save(_ key: SessionKey, state: [UInt8], options: WriteOptions) throws -> SaveResult {
        try withSession(key) { record, now in
            try options.precondition.check(currentVersion: record?.version)
            guard state.count + (record?.messageBytes ?? 0) <= configuration.maxSessionBytes else {
                throw StoreError.sessionTooLarge(limit: configuration.maxSessionBytes)
            }
            let isNew = record == nil
            var updated = record ?? Record(now: now)
            record = nil  // `updated` is now the only reference: changes happen in place.
            updated.applyPolicy(
                ttl: options.ttl, slidingTTL: options.slidingTTL, isNew: isNew,
                defaultTTLSeconds: configuration.defaultTTLSeconds
            )
            updated.state = state
            updated.recordMutation(now: now)
            record = updated
            return SaveResult(metadata: updated.metadata(for: key), created: isNew)
        }
    }

    /// Loads a session with its state, restarting the clock of a sliding-TTL session.
    /// - Throws: `StoreError.sessionNotFound` when it is missing or expired.
    public func load(_ key: SessionKey) throws -> Session {
        try withSession(key) { record, now in
            guard record != nil else { throw StoreError.sessionNotFound }
            record!.recordRead(now: now)
            return Session(metadata: record!.metadata(for: key), state: record!.state)
        }
    }

    /// Lists the agent's live sessions, newest `updatedAt` first, ties by `sessionID` descending.
    /// Never extends a sliding TTL. Costs O(n log n) in the agent's session count per page.
    /// - Parameters:
    ///   - limit: the page size (1–1000, validated by the caller).
    ///   - cursor: where the previous page ended, or nil for the first page.
    public func list(agentID: String, limit: Int, cursor: ListCursor?) throws -> SessionPage {
        let now = now()
        return shard(for: agentID).state.withLock { state in
            state.withAgent(agentID) { sessions in
                // Start right after the cursor in the list-ordered index: O(log n + page).
                var index = cursor.map { sessions.lowerBound(ListKey(updatedAt: $0.updatedAt, sessionID: $0.sessionID)) } ?? 0
                if let cursor, index < sessions.order.count,
                   sessions.order[index] == ListKey(updatedAt: cursor.updatedAt, sessionID: cursor.sessionID) {
                    index += 1
                }
                var page: [SessionMetadata] = []
                var next: ListCursor?
                while index < sessions.order.count {
                    let key = sessions.order[index]
                    guard let record = sessions.records[key.sessionID], !record.isExpired(at: now) else {
                        // Expired: drop it from both maps (by position, so the loop always advances).
                        sessions.order.remove(at: index)
                        sessions.records.removeValue(forKey: key.sessionID)
                        continue
                    }
                    if page.count == max(limit, 0) {
                        next = page.last.map { ListCursor(updatedAt: $0.updatedAt, sessionID: $0.sessionID) }
                        break
                    }
                    page.append(record.metadata(for: SessionKey(agentID: agentID, sessionID: key.sessionID)))
                    index += 1
                }
                return SessionPage(sessions: page, nextCursor: next)
            }
        }
    }

    /// Deletes a session with its messages and idempotency records.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`.
    public func delete(_ key: SessionKey, precondition: Precondition) throws {
        try withSession(key) { record, _ in
            try precondition.check(currentVersion: record?.version)
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

    /// Always succeeds: the store is in process.
    public func ping() throws {}
}
