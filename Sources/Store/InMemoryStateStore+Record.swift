extension InMemoryStateStore {
    /// One stored session: its state, its message log, its TTL policy and its idempotency records.
    ///
    /// Lives inside its shard's lock; every mutation goes through `recordMutation(now:)`, which
    /// bumps the version, stamps `updatedAt` and restarts the expiry clock.
    struct Record {
        /// 0 until the first mutation of a new record, then 1, 2, …
        var version: Int64 = 0
        var createdAt: Int64
        var updatedAt: Int64
        /// Milliseconds since the epoch; nil when the session never expires.
        var expiresAt: Int64?
        var ttlSeconds: Int64?
        var slidingTTL = false
        /// The raw JSON state, nil until a save sets it.
        var state: [UInt8]?
        /// The log in ascending `seq`. Appended to at the end; removed from anywhere.
        var messages: [Message] = []
        /// Sum of the messages' byte lengths, kept by every mutation of `messages`.
        var messageBytes = 0
        /// Message keys to their messages' seqs; a key leaves with its message.
        var keys: [String: Int64] = [:]
        /// The `seq` the next appended message gets; never rolled back.
        var nextSeq: Int64 = 1
        /// Successful appends by `Idempotency-Key`.
        var idempotency: [String: IdempotencyRecord] = [:]
        /// The session's labels.
        var labels: SessionLabels = [:]
        /// The last lease taken, live until its `expiresAt`; nil once released.
        var lease: Lease?
        /// The fencing token of the last acquisition; 0 until the first. Survives release and expiry.
        var fencingToken: Int64 = 0

        /// A record about to be created by a write at `now`.
        init(now: Int64) {
            createdAt = now
            updatedAt = now
        }

        /// Whether the session has expired at `now` (expiry is inclusive of its instant).
        func isExpired(at now: Int64) -> Bool {
            guard let expiresAt else { return false }
            return expiresAt <= now
        }

        /// Applies a write's options: `keep` keeps an existing TTL policy and gives a new session the
        /// default; a nil `slidingTTL` keeps an existing flag and gives a new session `false`; nil
        /// `labels` keep the existing ones (a new session has none).
        mutating func apply(_ options: WriteOptions, isNew: Bool, defaultTTLSeconds: Int64?) {
            let sliding = options.slidingTTL
            if let newLabels = options.labels { labels = newLabels }
            switch options.ttl {
            case .keep:
                if isNew { ttlSeconds = defaultTTLSeconds.flatMap { $0 > 0 ? $0 : nil } }
            case .persist:
                ttlSeconds = nil
            case .seconds(let seconds):
                ttlSeconds = seconds
            }
            if let sliding { slidingTTL = sliding } else if isNew { slidingTTL = false }
        }

        /// Marks a successful mutation at `now`: version + 1, `updatedAt`, and a restarted clock.
        mutating func recordMutation(now: Int64) {
            version += 1
            updatedAt = now
            restartClock(now: now)
        }

        /// Sets `expiresAt` to `now + ttlSeconds`, or nil when the session never expires.
        mutating func restartClock(now: Int64) {
            expiresAt = ttlSeconds.map { Self.adding(seconds: $0, to: now) }
        }

        /// A read at `now`: restarts the clock of a sliding-TTL session, leaves others alone.
        mutating func recordRead(now: Int64) {
            if slidingTTL { restartClock(now: now) }
        }

        /// Drops idempotency records older than their time limit.
        mutating func pruneIdempotency(now: Int64) {
            if idempotency.values.contains(where: { $0.expiresAt <= now }) {
                idempotency = idempotency.filter { $0.value.expiresAt > now }
            }
        }

        /// The public view of this record under `key` at `now`.
        func metadata(for key: SessionKey, now: Int64) -> SessionMetadata {
            SessionMetadata(
                agentID: key.agentID, sessionID: key.sessionID, version: version,
                createdAt: createdAt, updatedAt: updatedAt, expiresAt: expiresAt,
                ttlSeconds: ttlSeconds, slidingTTL: slidingTTL,
                messageCount: messages.count, stateBytes: state?.count ?? 0, messageBytes: messageBytes,
                labels: labels, lease: liveLease(at: now)
            )
        }

        /// The session, into `read`, when reading it changes nothing: live, and not sliding (else nil, for the
        /// caller's path that writes). Mutating only so that the caller reaches the record in place; it
        /// changes nothing.
        mutating func readUnchanged(key: SessionKey, now: Int64, into read: inout Result<Session, StoreError>?) {
            guard !slidingTTL, !isExpired(at: now) else {
                read = nil
                return
            }
            read = .success(Session(metadata: metadata(for: key, now: now), state: state))
        }

        /// The lease, unless it has lapsed at `now` (inclusive of its instant, as session expiry).
        func liveLease(at now: Int64) -> Lease? {
            guard let lease, lease.expiresAt > now else { return nil }
            return lease
        }

        /// Checks a mutation's precondition against this record (nil when missing): entity tags, then fencing.
        static func check(_ precondition: Precondition, _ record: Record?) throws(StoreError) {
            try precondition.check(currentVersion: record?.version, currentFencingToken: record?.fencingToken ?? 0)
        }

        /// Removes the messages in `range` of the log, freeing their keys and bytes.
        mutating func removeMessages(_ range: Range<Int>) {
            for message in messages[range] {
                messageBytes -= message.data.count
                if let key = message.key { keys.removeValue(forKey: key) }
            }
            messages.removeSubrange(range)
        }

        /// The index of the message with `seq`, or nil (binary search).
        func index(ofSeq seq: Int64) -> Int? {
            let index = InMemoryStateStore.firstIndex(in: messages, afterSeq: seq - 1)
            return index < messages.count && messages[index].seq == seq ? index : nil
        }

        /// `now + seconds * 1000`, saturating instead of trapping on absurd inputs.
        static func adding(seconds: Int64, to now: Int64) -> Int64 {
            let (millis, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            if overflow { return seconds > 0 ? .max : .min }
            let (sum, sumOverflow) = now.addingReportingOverflow(millis)
            if sumOverflow { return millis > 0 ? .max : .min }
            return sum
        }
    }

    /// The recorded outcome of a successful append made with an `Idempotency-Key`.
    struct IdempotencyRecord {
        /// Digest of the body the key first came with.
        var bodyDigest: String
        /// What that append returned; replayed to retries.
        var result: AppendResult
        /// When the record stops counting, at most `idempotencyTTLSeconds` after it was made.
        var expiresAt: Int64
    }
}
