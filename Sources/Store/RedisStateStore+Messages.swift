import RedisClient

extension RedisStateStore {
    /// Appends messages atomically in one `EVALSHA`, creating the session (state nil) if missing.
    ///
    /// Order of checks, all before any write: the idempotency record (a live one replays its result
    /// or refuses a different body), the precondition, the message cap, the byte cap, the keys.
    /// - Throws: `StoreError.idempotencyKeyReused`, `StoreError.preconditionFailed`,
    ///   `StoreError.tooManyMessages`, `StoreError.sessionTooLarge`, `StoreError.keyConflict`,
    ///   `StoreError.unavailable`.
    public func append(
        _ key: SessionKey, messages: [[UInt8]], keys: [String?]?, options: WriteOptions, idempotency: IdempotencyToken?
    ) async throws -> AppendResult {
        let script = RedisScript.append
        let lifetime = configuration.idempotencyTTLSeconds.multipliedReportingOverflow(by: 1000)
        let keyArguments = Self.arguments(keys: keys)
        var arguments = Self.arguments(options.precondition) + arguments(options)
        arguments += [
            Self.argument(String(configuration.maxMessages)), Self.argument(key.sessionID),
            Self.argument(idempotency?.key ?? ""), Self.argument(idempotency?.bodyDigest ?? ""),
            Self.argument(String(lifetime.overflow ? Int64.max / 2 : lifetime.partialValue)),
            Self.argument(String(configuration.maxSessionBytes)), keyArguments.flag,
        ]
        arguments += messages
        arguments += keyArguments.keys
        let reply = try Reply(await run(script, keys: sessionKeys(key, setting: options), arguments: arguments), script: script)
        try reply.check(configuration)
        return AppendResult(
            version: try reply.int(0), firstSeq: try reply.int(1), lastSeq: try reply.int(2),
            messageCount: Int(try reply.int(3))
        )
    }

    /// Reads messages in ascending `seq` in one `EVALSHA`, which also restarts the clock of a
    /// sliding-TTL session. The `before` form is one `ZREVRANGEBYSCORE`, O(log n + limit).
    /// - Parameters:
    ///   - limit: 1–1000, validated by the caller.
    ///   - query: `.recent` (no next marker); `.after(S)`, with `nextAfter` set when more follow;
    ///     `.before(S)`, with `nextBefore` set when older messages exist.
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.unavailable`.
    public func readMessages(_ key: SessionKey, limit: Int, query: MessageQuery) async throws -> MessagePage {
        let script = RedisScript.readMessages
        let form: (String, Int64?) = switch query {
        case .recent: ("r", nil)
        case .after(let seq): ("a", seq)
        case .before(let seq): ("b", seq)
        }
        let arguments = [Self.argument(String(max(limit, 0))), Self.argument(form.0), form.1.map { Self.argument(String($0)) } ?? []]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(configuration)
        guard reply.values.count == 3, let members = reply.values[1].array else { throw reply.malformed }
        let messages = try members.map { member throws(StoreError) in try Self.message(member) }
        let more = try reply.int(0) == 1
        let version = try reply.int(2)
        switch query {
        case .recent: return MessagePage(messages: messages, nextAfter: nil, version: version)
        case .after: return MessagePage(messages: messages, nextAfter: more ? messages.last?.seq : nil, version: version)
        case .before: return MessagePage(messages: messages, nextAfter: nil, nextBefore: more ? messages.first?.seq : nil, version: version)
        }
    }

    /// Reads the message with `messageKey` in one `EVALSHA` (a read: restarts a sliding clock).
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.messageNotFound`, `StoreError.unavailable`.
    public func message(_ key: SessionKey, withKey messageKey: String) async throws -> MessagePage {
        let script = RedisScript.messageByKey
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: [Self.argument(messageKey)]), script: script)
        try reply.check(configuration)
        guard reply.values.count == 2 else { throw reply.malformed }
        return MessagePage(messages: [try Self.message(reply.values[0])], nextAfter: nil, version: try reply.int(1))
    }

    /// Replaces the whole log in one `EVALSHA`, creating the session (state nil) if missing.
    /// - Throws: `StoreError.preconditionFailed`, `StoreError.tooManyMessages`,
    ///   `StoreError.sessionTooLarge`, `StoreError.keyConflict`, `StoreError.unavailable`.
    public func replaceMessages(_ key: SessionKey, messages: [[UInt8]], keys: [String?]?, options: WriteOptions) async throws -> ReplaceResult {
        let script = RedisScript.replace
        let keyArguments = Self.arguments(keys: keys)
        var arguments = Self.arguments(options.precondition) + arguments(options)
        arguments += [
            Self.argument(String(configuration.maxMessages)), Self.argument(key.sessionID),
            Self.argument(String(configuration.maxSessionBytes)), keyArguments.flag,
        ]
        arguments += messages
        arguments += keyArguments.keys
        let reply = try Reply(await run(script, keys: sessionKeys(key, setting: options), arguments: arguments), script: script)
        try reply.check(configuration)
        guard reply.values.count == 5 else { throw reply.malformed }
        return ReplaceResult(
            version: try reply.int(1), firstSeq: reply.values[2].int, lastSeq: reply.values[3].int,
            messageCount: Int(try reply.int(4)), created: try reply.int(0) == 1
        )
    }

    /// Removes every message with `seq < before` in one `EVALSHA`; removing nothing writes nothing.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`,
    ///   `StoreError.unavailable`.
    public func trimMessages(_ key: SessionKey, before: Int64, precondition: Precondition) async throws -> TrimResult {
        let script = RedisScript.trim
        let arguments = Self.arguments(precondition) + [Self.argument(String(before)), Self.argument(key.sessionID)]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(configuration)
        return TrimResult(deleted: Int(try reply.int(0)), version: try reply.int(1))
    }

    /// Removes and returns the message with `seq` in one `EVALSHA`.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`,
    ///   `StoreError.messageNotFound`, `StoreError.unavailable`.
    public func deleteMessage(_ key: SessionKey, seq: Int64, precondition: Precondition) async throws -> PopResult {
        let script = RedisScript.deleteMessage
        let arguments = Self.arguments(precondition) + [Self.argument(String(seq)), Self.argument(key.sessionID)]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(configuration)
        guard reply.values.count == 2 else { throw reply.malformed }
        return PopResult(message: try Self.message(reply.values[0]), version: try reply.int(1))
    }

    /// Removes and returns the newest message in one `EVALSHA`.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`,
    ///   `StoreError.noMessages`, `StoreError.unavailable`.
    public func popMessage(_ key: SessionKey, precondition: Precondition) async throws -> PopResult {
        let script = RedisScript.pop
        let arguments = Self.arguments(precondition) + [Self.argument(key.sessionID)]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(configuration)
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
        try reply.check(configuration)
        guard reply.values.count == 1 else { throw reply.malformed }
        return try Self.metadata(reply.values[0], key: key)
    }
}
