import RedisClient

extension RedisStateStore {
    /// Replaces the state of a session, creating it if missing; one `EVALSHA`. Messages are untouched.
    /// - Throws: `StoreError.preconditionFailed`, `StoreError.unavailable`.
    public func save(_ key: SessionKey, state: [UInt8], options: WriteOptions) async throws -> SaveResult {
        let script = RedisScript.save
        let arguments = Self.arguments(options.precondition) + arguments(options)
            + [state, Self.argument(key.sessionID), Self.argument(String(configuration.maxSessionBytes))]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(configuration)
        guard reply.values.count == 2 else { throw reply.malformed }
        return SaveResult(metadata: try Self.metadata(reply.values[1], key: key), created: try reply.int(0) == 1)
    }

    /// Loads a session with its state in one `EVALSHA`, which also restarts the clock of a
    /// sliding-TTL session.
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.unavailable`.
    public func load(_ key: SessionKey) async throws -> Session {
        // A read that needs no script is one plain HMGET: the record holds every field, the state
        // and the message count ('mc'), so the reply is an atomic snapshot.
        let reply: RESPValue
        do {
            reply = try await client.sendRead([Array("HMGET".utf8), recordKey(key)] + Self.loadFields)
        } catch {
            throw Self.storeError(error, operation: "load")
        }
        guard let fields = reply.array, fields.count == Self.loadFields.count else {
            throw StoreError.internalError(reason: "redis: malformed HMGET reply \(reply)")
        }
        guard let version = fields[0].int else { throw StoreError.sessionNotFound }
        // A sliding session's read restarts its clock, a write: that takes the script. So does a
        // record written before 'mc' existed.
        guard fields[5].string != "1", let messageCount = fields[6].int else { return try await loadWithScript(key) }
        let expiresAt = fields[3].int
        // Redis drops the key a millisecond after its deadline; the contract counts the deadline itself.
        if let expiresAt, expiresAt <= WallClock.milliseconds() { throw StoreError.sessionNotFound }
        guard let createdAt = fields[1].int, let updatedAt = fields[2].int else {
            throw StoreError.internalError(reason: "redis: session record without timestamps")
        }
        let state = fields[7].bytes
        let metadata = SessionMetadata(
            agentID: key.agentID, sessionID: key.sessionID, version: version, createdAt: createdAt, updatedAt: updatedAt,
            expiresAt: expiresAt, ttlSeconds: fields[4].int, slidingTTL: false,
            messageCount: Int(messageCount), stateBytes: state?.count ?? 0, messageBytes: Int(fields[8].int ?? 0)
        )
        return Session(metadata: metadata, state: state)
    }

    /// The record fields a plain load reads, in the order `load` decodes them.
    static let loadFields: [[UInt8]] = ["v", "c", "u", "e", "t", "sl", "mc", "st", "mb"].map { Array($0.utf8) }

    /// The scripted load: one `EVALSHA` that reads and restarts a sliding session's clock.
    private func loadWithScript(_ key: SessionKey) async throws -> Session {
        let script = RedisScript.load
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: []), script: script)
        try reply.check(configuration)
        guard reply.values.count == 2 else { throw reply.malformed }
        return Session(metadata: try Self.metadata(reply.values[0], key: key), state: reply.values[1].bytes)
    }

    /// Lists the agent's live sessions, newest `updatedAt` first, ties by `sessionID` descending, in
    /// one `EVALSHA` costing O(log n + page). Index entries whose session is gone are removed on the
    /// way and counted through `onIndexPruned`. Never extends a sliding TTL.
    /// - Parameters:
    ///   - limit: the page size (1–1000, validated by the caller).
    ///   - cursor: where the previous page ended, or nil for the first page.
    /// - Throws: `StoreError.unavailable`.
    public func list(agentID: String, limit: Int, cursor: ListCursor?) async throws -> SessionPage {
        let script = RedisScript.list
        let arguments = [
            sessionKeyBase(agentID), Self.argument(String(max(limit, 0))),
            cursor.map { Self.argument(String($0.updatedAt)) } ?? [],
            cursor.map { Self.argument($0.sessionID) } ?? [],
        ]
        let reply = try Reply(await run(script, keys: indexKeys(agentID), arguments: arguments), script: script)
        try reply.check(configuration)
        guard reply.values.count == 3, let entries = reply.values[2].array else { throw reply.malformed }
        let pruned = try reply.int(0)
        if pruned > 0 { onIndexPruned(.list, Int(pruned)) }
        let sessions = try entries.map { entry throws(StoreError) -> SessionMetadata in
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string else { throw reply.malformed }
            return try Self.metadata(pair[1], key: SessionKey(agentID: agentID, sessionID: id))
        }
        let next = try reply.int(1) == 1 ? sessions.last.map { ListCursor(updatedAt: $0.updatedAt, sessionID: $0.sessionID) } : nil
        return SessionPage(sessions: sessions, nextCursor: next)
    }

    /// Deletes a session (record, messages, idempotency records and index entry) in one `EVALSHA`.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`,
    ///   `StoreError.unavailable`.
    public func delete(_ key: SessionKey, precondition: Precondition) async throws {
        let script = RedisScript.delete
        let arguments = Self.arguments(precondition) + [Self.argument(key.sessionID)]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(configuration)
    }

    /// Deletes every session in the agent's index with all their keys, then the index, in batches
    /// of `deleteAllBatchSize` sessions (one `EVALSHA` each), so no script blocks Redis for long.
    /// Not atomic as a whole: a session created while it runs may survive or be deleted.
    /// - Returns: how many live (unexpired) sessions were deleted.
    /// - Throws: `StoreError.unavailable`; sessions deleted by earlier batches stay deleted.
    public func deleteAll(agentID: String) async throws -> Int {
        let script = RedisScript.deleteAll
        let arguments = [sessionKeyBase(agentID), Self.argument(String(Self.deleteAllBatchSize))]
        var deleted = 0
        // Bounded: at most 10 million sessions per call, far beyond any realistic agent.
        for _ in 0..<20_000 {
            let reply = try await run(script, keys: indexKeys(agentID), arguments: arguments)
            guard let values = reply.array, values.count == 2, let live = values[0].int, let left = values[1].int else {
                throw StoreError.internalError(reason: "redis \(script.name): unexpected reply \(reply)")
            }
            deleted += Int(live)
            if left == 0 { break }
        }
        return deleted
    }
}
