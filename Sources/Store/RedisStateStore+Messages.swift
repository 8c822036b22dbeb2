import RedisClient

extension RedisStateStore {
    /// Appends messages atomically in one `EVALSHA`, creating the session (state nil) if missing.
    ///
    /// Order of checks, all before any write: the idempotency record (a live one replays its result
    /// or refuses a different body), the precondition, the message cap.
    /// - Throws: `StoreError.idempotencyKeyReused`, `StoreError.preconditionFailed`,
    ///   `StoreError.tooManyMessages`, `StoreError.unavailable`.
    public func append(
        _ key: SessionKey, messages: [[UInt8]], options: WriteOptions, idempotency: IdempotencyToken?
    ) async throws -> AppendResult {
        let script = RedisScript.append
        let lifetime = configuration.idempotencyTTLSeconds.multipliedReportingOverflow(by: 1000)
        var arguments = Self.arguments(options.precondition) + arguments(options)
        arguments += [
            Self.argument(String(configuration.maxMessages)), Self.argument(key.sessionID),
            Self.argument(idempotency?.key ?? ""), Self.argument(idempotency?.bodyDigest ?? ""),
            Self.argument(String(lifetime.overflow ? Int64.max / 2 : lifetime.partialValue)),
        ]
        arguments += messages
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(cap: configuration.maxMessages)
        return AppendResult(
            version: try reply.int(0), firstSeq: try reply.int(1), lastSeq: try reply.int(2),
            messageCount: Int(try reply.int(3))
        )
    }

    /// Reads messages in ascending `seq` in one `EVALSHA`, which also restarts the clock of a
    /// sliding-TTL session.
    /// - Parameters:
    ///   - limit: 1–1000, validated by the caller.
    ///   - after: nil for the most recent `limit` messages (`nextAfter` nil); else the first
    ///     `limit` with `seq > after`, with `nextAfter` set when more follow.
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.unavailable`.
    public func readMessages(_ key: SessionKey, limit: Int, after: Int64?) async throws -> MessagePage {
        let script = RedisScript.readMessages
        let arguments = [Self.argument(String(max(limit, 0))), after.map { Self.argument(String($0)) } ?? []]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(cap: configuration.maxMessages)
        guard reply.values.count == 2, let members = reply.values[1].array else { throw reply.malformed }
        let messages = try members.map { member throws(StoreError) in try Self.message(member) }
        return MessagePage(messages: messages, nextAfter: try reply.int(0) == 1 ? messages.last?.seq : nil)
    }

    /// Removes and returns the newest message in one `EVALSHA`.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`,
    ///   `StoreError.noMessages`, `StoreError.unavailable`.
    public func popMessage(_ key: SessionKey, precondition: Precondition) async throws -> PopResult {
        let script = RedisScript.pop
        let arguments = Self.arguments(precondition) + [Self.argument(key.sessionID)]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(cap: configuration.maxMessages)
        guard reply.values.count == 2 else { throw reply.malformed }
        return PopResult(message: try Self.message(reply.values[0]), version: try reply.int(1))
    }

    /// Clears the message log in one `EVALSHA`, keeping the state and the `seq` counter; a mutation.
    /// - Returns: the session's metadata after the clear.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`,
    ///   `StoreError.unavailable`.
    public func clearMessages(_ key: SessionKey, precondition: Precondition) async throws -> SessionMetadata {
        let script = RedisScript.clear
        let arguments = Self.arguments(precondition) + [Self.argument(key.sessionID)]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(cap: configuration.maxMessages)
        guard reply.values.count == 1 else { throw reply.malformed }
        return try Self.metadata(reply.values[0], key: key)
    }
}
