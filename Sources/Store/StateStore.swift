/// The service layer the HTTP routes call. Two backends implement it with identical behaviour:
/// `InMemoryStateStore` (embedded, the default) and `RedisStateStore` (production).
///
/// Every method throws only `StoreError`. Every mutation is atomic: its precondition check, write,
/// version bump, TTL refresh and index update happen in one step, or not at all.
public protocol StateStore: Sendable {
    /// Replaces the state of a session, creating it if missing. Messages are untouched.
    /// - Throws: `preconditionFailed`, `unavailable`.
    func save(_ key: SessionKey, state: [UInt8], options: WriteOptions) async throws -> SaveResult

    /// Loads a session with its state. A read: restarts the clock of a sliding-TTL session.
    /// - Throws: `sessionNotFound`, `unavailable`.
    func load(_ key: SessionKey) async throws -> Session

    /// Lists an agent's live sessions, newest `updatedAt` first, ties by `sessionID` descending,
    /// at O(log n + page) cost. Not a read: it never extends a sliding TTL.
    /// - Parameters:
    ///   - limit: 1–1000, validated by the caller.
    ///   - cursor: where the previous page ended, or nil for the first page.
    ///   - label: when set, only the sessions that carry exactly this label.
    func list(agentID: String, limit: Int, cursor: ListCursor?, label: LabelFilter?) async throws -> SessionPage

    /// Lists an agent's live sessions whose ID starts with `prefix`, by `sessionID` ascending
    /// (byte order), at O(log n + page) cost. Not a read.
    /// - Parameters:
    ///   - prefix: 1–128 bytes of the ID alphabet, validated by the caller.
    ///   - limit: 1–1000, validated by the caller.
    ///   - after: the last session ID of the previous page, or nil for the first page.
    /// - Returns: a page whose `nextCursor` is `0-<last session ID>` when more follow.
    func list(agentID: String, prefix: String, limit: Int, after: String?) async throws -> SessionPage

    /// Deletes every session of an agent whose ID starts with `prefix`, each atomically.
    /// - Returns: how many live sessions were deleted.
    func deleteAll(agentID: String, prefix: String) async throws -> Int

    /// Acquires the session's lease for `holder`, or renews it when `holder` already holds it.
    /// Acquiring takes a new fencing token (the previous one + 1); renewing keeps it. Neither
    /// changes `version`, `updatedAt` or the session's TTL.
    /// - Parameter ttlMilliseconds: `Lease.ttlRange`, validated by the caller.
    /// - Throws: `sessionNotFound`, `leaseHeld` (another holder's live lease), `unavailable`.
    func acquireLease(_ key: SessionKey, holder: String, ttlMilliseconds: Int64) async throws -> LeaseResult

    /// The session's live lease. Not a read: it never extends a sliding TTL.
    /// - Throws: `sessionNotFound`, `leaseNotFound` (none, or expired), `unavailable`.
    func lease(_ key: SessionKey) async throws -> Lease

    /// Releases `holder`'s live lease; the fencing token stays.
    /// - Throws: `sessionNotFound`, `leaseNotFound`, `leaseHeld` (another holder's), `unavailable`.
    func releaseLease(_ key: SessionKey, holder: String) async throws

    /// Deletes a session: state, messages, idempotency records and index entry, atomically.
    /// - Throws: `sessionNotFound`, `preconditionFailed`, `unavailable`.
    func delete(_ key: SessionKey, precondition: Precondition) async throws

    /// Deletes every session of an agent and returns how many there were.
    func deleteAll(agentID: String) async throws -> Int

    /// Appends messages atomically, creating the session (state nil) if missing.
    ///
    /// With an idempotency token, a retry with the same key and body returns the first result and
    /// appends nothing; the same key with another body throws `idempotencyKeyReused`. The key is
    /// checked before the precondition.
    /// Order of checks: idempotency key, precondition, message cap, size cap, message keys.
    /// - Parameters:
    ///   - messages: 1–1000 raw JSON values, validated by the caller.
    ///   - keys: nil, or one key (or nil) per message; keys are 1–128 visible ASCII, validated by
    ///     the caller, and must be new to the session and distinct within the request.
    /// - Throws: `preconditionFailed`, `tooManyMessages`, `sessionTooLarge`, `keyConflict`,
    ///   `idempotencyKeyReused`, `unavailable`.
    func append(
        _ key: SessionKey, messages: [[UInt8]], keys: [String?]?, options: WriteOptions, idempotency: IdempotencyToken?
    ) async throws -> AppendResult

    /// Reads messages in ascending `seq`. A read: restarts the clock of a sliding-TTL session.
    /// - Parameters:
    ///   - limit: 1–1000, validated by the caller.
    ///   - query: the most recent `limit`, the first `limit` after a seq, or the newest `limit` before one.
    /// - Throws: `sessionNotFound`, `unavailable`.
    func readMessages(_ key: SessionKey, limit: Int, query: MessageQuery) async throws -> MessagePage

    /// Reads the one message that has `messageKey`, as a page of one (`nextAfter`/`nextBefore` nil).
    /// A read: restarts the clock of a sliding-TTL session.
    /// - Throws: `sessionNotFound`, `messageNotFound`, `unavailable`.
    func message(_ key: SessionKey, withKey messageKey: String) async throws -> MessagePage

    /// Replaces the whole log in one atomic step, creating the session (state nil) if missing.
    /// New messages continue the `seq` sequence; the old log's keys go with it.
    /// - Parameters:
    ///   - messages: 0–1000 raw JSON values, validated by the caller.
    ///   - keys: as for `append`, but they conflict only within the request.
    /// - Throws: `preconditionFailed`, `tooManyMessages`, `sessionTooLarge`, `keyConflict`, `unavailable`.
    func replaceMessages(_ key: SessionKey, messages: [[UInt8]], keys: [String?]?, options: WriteOptions) async throws -> ReplaceResult

    /// Removes every message with `seq < before`. A trim that removes nothing changes nothing.
    /// - Throws: `preconditionFailed` (checked first), `sessionNotFound`, `unavailable`.
    func trimMessages(_ key: SessionKey, before: Int64, precondition: Precondition) async throws -> TrimResult

    /// Removes and returns the message with `seq`.
    /// - Throws: `preconditionFailed` (checked first), `sessionNotFound`, `messageNotFound`, `unavailable`.
    func deleteMessage(_ key: SessionKey, seq: Int64, precondition: Precondition) async throws -> PopResult

    /// Removes and returns the newest message.
    /// - Throws: `sessionNotFound`, `noMessages`, `preconditionFailed` (checked first), `unavailable`.
    func popMessage(_ key: SessionKey, precondition: Precondition) async throws -> PopResult

    /// Clears the message log and keeps the state; a mutation (the version grows).
    /// - Returns: the session's metadata after the clear.
    /// - Throws: `sessionNotFound`, `preconditionFailed`, `unavailable`.
    func clearMessages(_ key: SessionKey, precondition: Precondition) async throws -> SessionMetadata

    /// Answers when the backend is reachable.
    /// - Throws: `unavailable`.
    func ping() async throws
}

extension StateStore {
    /// Lists all of an agent's live sessions; see `list(agentID:limit:cursor:label:)`.
    public func list(agentID: String, limit: Int, cursor: ListCursor?) async throws -> SessionPage {
        try await list(agentID: agentID, limit: limit, cursor: cursor, label: nil)
    }

    /// Appends messages without keys; see `append(_:messages:keys:options:idempotency:)`.
    public func append(
        _ key: SessionKey, messages: [[UInt8]], options: WriteOptions, idempotency: IdempotencyToken?
    ) async throws -> AppendResult {
        try await append(key, messages: messages, keys: nil, options: options, idempotency: idempotency)
    }

    /// The v1 read forms: nil for the most recent `limit`, else the first `limit` after `after`.
    public func readMessages(_ key: SessionKey, limit: Int, after: Int64?) async throws -> MessagePage {
        try await readMessages(key, limit: limit, query: after.map(MessageQuery.after) ?? .recent)
    }
}
