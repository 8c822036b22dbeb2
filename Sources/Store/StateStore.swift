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

    /// Lists an agent's live sessions, newest `updatedAt` first, ties by `sessionID` ascending.
    /// Not a read: it never extends a sliding TTL.
    /// - Parameters:
    ///   - limit: 1–1000, validated by the caller.
    ///   - cursor: where the previous page ended, or nil for the first page.
    func list(agentID: String, limit: Int, cursor: ListCursor?) async throws -> SessionPage

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
    /// - Parameter messages: 1–1000 raw JSON values, validated by the caller.
    /// - Throws: `preconditionFailed`, `tooManyMessages`, `idempotencyKeyReused`, `unavailable`.
    func append(_ key: SessionKey, messages: [[UInt8]], options: WriteOptions, idempotency: IdempotencyToken?) async throws -> AppendResult

    /// Reads messages in ascending `seq`. A read: restarts the clock of a sliding-TTL session.
    /// - Parameters:
    ///   - limit: 1–1000, validated by the caller.
    ///   - after: nil for the most recent `limit` messages; else the first `limit` with `seq > after`.
    /// - Throws: `sessionNotFound`, `unavailable`.
    func readMessages(_ key: SessionKey, limit: Int, after: Int64?) async throws -> MessagePage

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
