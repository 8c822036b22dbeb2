extension InMemoryStateStore {
    /// Appends messages without keys; see `append(_:messages:keys:options:idempotency:)`.
    public func append(
        _ key: SessionKey, messages: [[UInt8]], options: WriteOptions, idempotency: IdempotencyToken?
    ) throws -> AppendResult {
        try append(key, messages: messages, keys: nil, options: options, idempotency: idempotency)
    }

    /// Appends messages atomically, creating the session (state nil) if it is missing or expired.
    ///
    /// Order of checks: the idempotency key (a replay returns the recorded result, a reused key
    /// with another body throws), then the precondition, the message cap, the size cap and the keys.
    /// - Throws: `StoreError.idempotencyKeyReused`, `StoreError.preconditionFailed`,
    ///   `StoreError.tooManyMessages`, `StoreError.sessionTooLarge`, `StoreError.keyConflict`.
    public func append(
        _ key: SessionKey, messages: [[UInt8]], keys: [String?]?, options: WriteOptions, idempotency: IdempotencyToken?
    ) throws -> AppendResult {
        try withSession(key) { record, now in
            if let idempotency, let recorded = record?.idempotency[idempotency.key], recorded.expiresAt > now {
                guard recorded.bodyDigest == idempotency.bodyDigest else { throw StoreError.idempotencyKeyReused }
                return recorded.result
            }
            try Record.check(options.precondition, record)
            let limit = configuration.maxMessages
            guard messages.count <= limit - (record?.messages.count ?? 0) else {
                throw StoreError.tooManyMessages(limit: limit)
            }
            let newBytes = messages.reduce(0) { $0 + $1.count }
            let oldBytes = (record?.state?.count ?? 0) + (record?.messageBytes ?? 0)
            guard newBytes <= configuration.maxSessionBytes - oldBytes else {
                throw StoreError.sessionTooLarge(limit: configuration.maxSessionBytes)
            }
            try Self.checkKeys(keys, taken: record?.keys ?? [:])
            let isNew = record == nil
            var updated = record ?? Record(now: now)
            record = nil  // `updated` is now the only reference: the log grows in place.
            updated.apply(options, isNew: isNew, defaultTTLSeconds: configuration.defaultTTLSeconds)
            let firstSeq = updated.nextSeq
            updated.add(messages, keys: keys)
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

    /// Reads messages without the v1.1 forms; see `readMessages(_:limit:query:)`.
    public func readMessages(_ key: SessionKey, limit: Int, after: Int64?) throws -> MessagePage {
        try readMessages(key, limit: limit, query: after.map(MessageQuery.after) ?? .recent)
    }

    /// Reads messages in ascending `seq`, restarting the clock of a sliding-TTL session.
    /// - Parameters:
    ///   - limit: 1–1000, validated by the caller.
    ///   - query: `.recent` (no next marker); `.after(S)`, with `nextAfter` set when more follow;
    ///     `.before(S)`, with `nextBefore` set when older messages exist.
    /// - Throws: `StoreError.sessionNotFound`.
    public func readMessages(_ key: SessionKey, limit: Int, query: MessageQuery) throws -> MessagePage {
        try withSession(key) { record, now in
            guard record != nil else { throw StoreError.sessionNotFound }
            record!.recordRead(now: now)
            let log = record!.messages
            let version = record!.version
            let limit = max(limit, 0)
            switch query {
            case .recent:
                return MessagePage(messages: Array(log.suffix(limit)), nextAfter: nil, version: version)
            case .after(let after):
                let start = Self.firstIndex(in: log, afterSeq: after)
                let end = start + min(limit, log.count - start)
                let page = Array(log[start..<end])
                return MessagePage(messages: page, nextAfter: end < log.count ? page.last?.seq : nil, version: version)
            case .before(let before):
                // Messages with seq < before end at the first index with seq > before - 1.
                let end = before <= Int64.min + 1 ? 0 : Self.firstIndex(in: log, afterSeq: before - 1)
                let start = end - min(limit, end)
                let page = Array(log[start..<end])
                return MessagePage(messages: page, nextAfter: nil, nextBefore: start > 0 ? page.first?.seq : nil, version: version)
            }
        }
    }

    /// Reads the message that has `messageKey`, restarting the clock of a sliding-TTL session.
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.messageNotFound`.
    public func message(_ key: SessionKey, withKey messageKey: String) throws -> MessagePage {
        try withSession(key) { record, now in
            guard record != nil else { throw StoreError.sessionNotFound }
            record!.recordRead(now: now)
            guard let seq = record!.keys[messageKey], let index = record!.index(ofSeq: seq) else {
                throw StoreError.messageNotFound
            }
            return MessagePage(messages: [record!.messages[index]], nextAfter: nil, version: record!.version)
        }
    }

    /// Replaces the whole log atomically, creating the session (state nil) if it is missing.
    /// - Throws: `StoreError.preconditionFailed`, `StoreError.tooManyMessages`,
    ///   `StoreError.sessionTooLarge`, `StoreError.keyConflict`.
    public func replaceMessages(_ key: SessionKey, messages: [[UInt8]], keys: [String?]?, options: WriteOptions) throws -> ReplaceResult {
        try withSession(key) { record, now in
            try Record.check(options.precondition, record)
            guard messages.count <= configuration.maxMessages else {
                throw StoreError.tooManyMessages(limit: configuration.maxMessages)
            }
            let newBytes = messages.reduce(0) { $0 + $1.count }
            guard newBytes <= configuration.maxSessionBytes - (record?.state?.count ?? 0) else {
                throw StoreError.sessionTooLarge(limit: configuration.maxSessionBytes)
            }
            try Self.checkKeys(keys, taken: [:])
            let isNew = record == nil
            var updated = record ?? Record(now: now)
            record = nil
            updated.apply(options, isNew: isNew, defaultTTLSeconds: configuration.defaultTTLSeconds)
            updated.removeMessages(0..<updated.messages.count)
            let firstSeq = updated.nextSeq
            updated.add(messages, keys: keys)
            updated.recordMutation(now: now)
            record = updated
            let empty = messages.isEmpty
            return ReplaceResult(
                version: updated.version, firstSeq: empty ? nil : firstSeq, lastSeq: empty ? nil : updated.nextSeq - 1,
                messageCount: updated.messages.count, created: isNew
            )
        }
    }

    /// Removes every message with `seq < before`; removing nothing changes nothing.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`.
    public func trimMessages(_ key: SessionKey, before: Int64, precondition: Precondition) throws -> TrimResult {
        try withSession(key) { record, now in
            try Record.check(precondition, record)
            guard record != nil else { throw StoreError.sessionNotFound }
            let end = before <= Int64.min + 1 ? 0 : Self.firstIndex(in: record!.messages, afterSeq: before - 1)
            guard end > 0 else { return TrimResult(deleted: 0, version: record!.version) }
            record!.removeMessages(0..<end)
            record!.recordMutation(now: now)
            return TrimResult(deleted: end, version: record!.version)
        }
    }

    /// Removes and returns the message with `seq`.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`,
    ///   `StoreError.messageNotFound`.
    public func deleteMessage(_ key: SessionKey, seq: Int64, precondition: Precondition) throws -> PopResult {
        try withSession(key) { record, now in
            try Record.check(precondition, record)
            guard record != nil else { throw StoreError.sessionNotFound }
            guard let index = record!.index(ofSeq: seq) else { throw StoreError.messageNotFound }
            let message = record!.messages[index]
            record!.removeMessages(index..<(index + 1))
            record!.recordMutation(now: now)
            return PopResult(message: message, version: record!.version)
        }
    }

    /// Removes and returns the newest message.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`,
    ///   `StoreError.noMessages`.
    public func popMessage(_ key: SessionKey, precondition: Precondition) throws -> PopResult {
        try withSession(key) { record, now in
            try Record.check(precondition, record)
            guard record != nil else { throw StoreError.sessionNotFound }
            guard let message = record!.messages.last else { throw StoreError.noMessages }
            record!.removeMessages((record!.messages.count - 1)..<record!.messages.count)
            record!.recordMutation(now: now)
            return PopResult(message: message, version: record!.version)
        }
    }

    /// Clears the message log, keeping the state and the `seq` counter; a mutation.
    /// - Returns: the session's metadata after the clear.
    /// - Throws: `StoreError.preconditionFailed` (checked first), `StoreError.sessionNotFound`.
    public func clearMessages(_ key: SessionKey, precondition: Precondition) throws -> SessionMetadata {
        try withSession(key) { record, now in
            try Record.check(precondition, record)
            guard record != nil else { throw StoreError.sessionNotFound }
            record!.messages = []
            record!.messageBytes = 0
            record!.keys = [:]
            record!.recordMutation(now: now)
            return record!.metadata(for: key, now: now)
        }
    }

    /// Throws `keyConflict` when a key is in `taken` or repeated within `keys`.
    static func checkKeys(_ keys: [String?]?, taken: [String: Int64]) throws(StoreError) {
        guard let keys else { return }
        var seen = Set<String>()
        for case let key? in keys {
            guard taken[key] == nil, seen.insert(key).inserted else { throw StoreError.keyConflict }
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

extension InMemoryStateStore.Record {
    /// Appends `messages` (with their `keys`, when given) at the end of the log with fresh seqs.
    mutating func add(_ newMessages: [[UInt8]], keys newKeys: [String?]?) {
        messages.reserveCapacity(messages.count + newMessages.count)
        for (index, data) in newMessages.enumerated() {
            let messageKey = newKeys?[index]
            messages.append(Message(seq: nextSeq, data: data, key: messageKey))
            if let messageKey { keys[messageKey] = nextSeq }
            messageBytes += data.count
            nextSeq += 1
        }
    }
}
