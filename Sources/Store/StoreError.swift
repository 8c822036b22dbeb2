/// The errors a `StateStore` throws. The HTTP layer maps each to one status and problem `code`.
public enum StoreError: Error, Sendable, Equatable {
    /// The session does not exist (or has expired). → 404 `not_found`
    case sessionNotFound
    /// Pop on a session whose log is empty. → 404 `not_found`
    case noMessages
    /// `If-Match` / `If-None-Match` failed; `currentVersion` is nil when the session is missing. → 412
    case preconditionFailed(currentVersion: Int64?)
    /// The append would take the log past the cap; nothing was appended. → 409 `too_many_messages`
    case tooManyMessages(limit: Int)
    /// No message has that `seq` or key. → 404 `not_found`
    case messageNotFound
    /// A message key is already present in the session or repeated in the request; nothing was
    /// written. → 409 `key_conflict`
    case keyConflict
    /// The write would take the session's state plus message bytes past the cap; nothing was
    /// written. → 409 `session_too_large`
    case sessionTooLarge(limit: Int)
    /// The `Idempotency-Key` was used before with a different body. → 422 `idempotency_key_reused`
    case idempotencyKeyReused
    /// The backend is unreachable or timed out; nothing was written. → 503 `backend_unavailable`
    case unavailable(reason: String)
    /// Redis is at `maxmemory` (with `noeviction`) and refused a write that could grow it; nothing
    /// was written. → 503 `backend_unavailable`
    case outOfMemory
    /// A mutation was written to Redis whole, but no reply came (timeout, broken connection): it
    /// may or may not have been applied. → 503 `backend_unavailable`, saying to retry with the same
    /// `Idempotency-Key` or `If-Match`
    case outcomeUnknown(reason: String)
    /// A mutation was applied on the primary, but fewer replicas than `--redis-wait-replicas`
    /// confirmed it within `--redis-wait-timeout-ms`: it may still become visible (or be lost in a
    /// failover). → 503 `backend_unavailable`, saying so and to retry with the same
    /// `Idempotency-Key` or `If-Match`
    case replicationIncomplete(acknowledged: Int, required: Int)
    /// The mutation's `Fencing-Token` is lower than the session's current one; nothing was
    /// written. → 409 `stale_fencing_token`
    case staleFencingToken(current: Int64)
    /// Another holder has a live lease on the session. → 409 `lease_held`, with its holder and expiry
    case leaseHeld(holder: String, expiresAt: Int64)
    /// The session has no live lease. → 404 `not_found`
    case leaseNotFound
    /// Anything else (a bug, a corrupt record). → 500 `internal`
    case internalError(reason: String)
}
