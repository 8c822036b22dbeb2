extension InMemoryStateStore {
    /// Appends messages atomically, creating the session (state nil) if it is missing or expired.
    ///
    /// Order of checks: the idempotency key (a replay returns the recorded result, a reused key
    /// with another body throws), then the precondition, then the message cap.
    /// - Throws: `StoreError.idempotencyKeyReused`, `StoreError.preconditionFailed`,
    ///   `StoreError.tooManyMessages`.
    public func append(
        _ key: SessionKey, messages: [[UInt8]], options: WriteOptions, idempotency: IdempotencyToken?
    ) throws -> AppendResult {
        try withSession(key) { record, now in
            if let idempotency, let recorded = record?.idempotency[idempotency.key], recorded.expiresAt > now {
                guard recorded.bodyDigest == idempotency.bodyDigest else { throw StoreError.idempotencyKeyReused }
                return recorded.result
            }
            try options.precondition.check(currentVersion: record?.version)
            let limit = configuration.maxMessages
            guard messages.count <= limit - (record?.messages.count ?? 0) else {
                throw StoreError.tooManyMessages(limit: limit)
            }
            let isNew = record == nil
            var updated = record ?? Record(now: now)
            record = nil  // `updated` is now the only reference: the log grows in place.
            updated.applyPolicy(
                ttl: options.ttl, slidingTTL: options.slidingTTL, isNew: isNew,
                defaultTTLSeconds: configuration.defaultTTLSeconds
            )
            let firstSeq = updated.nextSeq
            updated.messages.reserveCapacity(updated.messages.count + messages.count)
            for data in messages {
                updated.messages.append(Message(seq: updated.nextSeq, data: data))
                updated.nextSeq += 1
            }
            updated.recordMutation(now: now)
            let result = AppendResult(
                version: updated.version, firstSeq: firstSeq, lastSeq: updated.nextSeq - 1,
                messageCount: updated.messages.count
            )
            if let idempotency {
                updated.idempotency[idempotency.key] = IdempotencyRecord(
                    bodyDigest: idempotency.bodyDigest, result: result,
                    expiresAt: Record.adding(seconds: configuration.idempotencyTTLSeconds, to: now)
                )
            }
            record = updated
            return result
        }
    }

    /// Reads messages in ascending `seq`, restarting the clock of a sliding-TTL session.
    /// - Parameters:
    ///   - limit: 1–1000, validated by the caller.
    ///   - after: nil for the most recent `limit` messages (`nextAfter` nil); else the first
    ///     `limit` with `seq > after`, with `nextAfter` set when more follow.
    /// - Throws: `StoreError.sessionNotFound`.
    public func readMessages(_ key: SessionKey, limit: Int, after: Int64?) throws -> MessagePage {
        try withSession(key) { record, now in
            guard record != nil else { throw StoreError.sessionNotFound }
            record!.recordRead(now: now)
            let log = record!.messages
            let limit = max(limit, 0)
            guard let after else {
                return MessagePage(messages: Array(log.suffix(limit)), nextAfter: nil)
            }
            let start = Self.firstIndex(in: log, afterSeq: after)
            let end = start + min(limit, log.count - start)
            let page = Array(log[start..<end])
            return MessagePage(messages: page, nextAfter: end < log.count ? page.last?.seq : nil)
        }
    }

    /// Removes and returns the newest message.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`,
    ///   `StoreError.noMessages`.
    public func popMessage(_ key: SessionKey, precondition: Precondition) throws -> PopResult {
        try withSession(key) { record, now in
            try precondition.check(currentVersion: record?.version)
            guard record != nil else { throw StoreError.sessionNotFound }
            guard let message = record!.messages.popLast() else { throw StoreError.noMessages }
            record!.recordMutation(now: now)
            return PopResult(message: message, version: record!.version)
        }
    }

    /// Clears the message log, keeping the state and the `seq` counter; a mutation.
    /// - Returns: the session's metadata after the clear.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`.
    public func clearMessages(_ key: SessionKey, precondition: Precondition) throws -> SessionMetadata {
        try withSession(key) { record, now in
            try precondition.check(currentVersion: record?.version)
            guard record != nil else { throw StoreError.sessionNotFound }
            record!.messages = []
            record!.recordMutation(now: now)
            return record!.metadata(for: key)
        }
    }

    /// The index of the first message with `seq > after` in a log sorted by `seq` (binary search).
    static func firstIndex(in log: [Message], afterSeq after: Int64) -> Int {
        var low = 0
        var high = log.count
        while low < high {
            let mid = (low + high) / 2
            if log[mid].seq <= after { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
