/// Hooks for metrics, called by ``RedisConnectionPool``; the app adapts them to its metrics registry.
///
/// Calls are made synchronously on the pool's threads, sometimes while it holds its lock, so
/// implementations must be fast and must not call back into the pool.
public protocol RedisClientObserver: Sendable {
    /// A command finished.
    ///
    /// `succeeded` is `true` only when a non-error reply arrived. A server error reply (``RedisError``,
    /// e.g. `NOSCRIPT` or `WRONGTYPE`) counts as `false` (outcome `error`), like connectivity failures,
    /// timeouts and protocol violations.
    /// - Parameters:
    ///   - succeeded: Whether a non-error reply arrived.
    ///   - durationSeconds: Time from submitting the command to its outcome.
    func commandCompleted(succeeded: Bool, durationSeconds: Double)

    /// The number of pool connections that are connected, or connecting, changed
    /// (gauge `agentstate_redis_connections{state}`).
    /// - Parameters:
    ///   - connected: Connections ready for commands.
    ///   - connecting: Connections being established (TCP, `AUTH`, `SELECT`).
    func connectionStateChanged(connected: Int, connecting: Int)

    /// A connection that had been lost was re-established (counter `agentstate_redis_reconnects_total`).
    func reconnected()

    /// An attempt to connect failed (TCP, TLS handshake, `AUTH` or `SELECT`); the pool retries with backoff.
    /// Called outside the pool's lock. The default does nothing.
    /// - Parameter error: Why, e.g. OpenSSL's reason for a certificate that fails verification.
    func connectAttemptFailed(_ error: RedisClientError)
}

extension RedisClientObserver {
    /// Does nothing.
    public func connectAttemptFailed(_ error: RedisClientError) {}
}
