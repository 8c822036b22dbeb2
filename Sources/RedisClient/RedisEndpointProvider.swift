/// Where a ``RedisConnectionPool`` connects: the seam through which Sentinel discovery
/// (``SentinelEndpointProvider``) aims the pool at the current primary.
///
/// The pool asks ``endpoint()`` before every connect attempt of every slot, so a reconnect after a
/// failover reaches the new primary. Request paths never call ``endpoint()``: they only use
/// connections already made, and report through ``invalidate(_:reason:)``.
public protocol RedisEndpointProvider: Sendable {
    /// The server to connect to now; may run discovery (serialised: concurrent callers share one run).
    /// - Throws: ``RedisClientError`` (``RedisClientError/Code/connectionFailed``) when no server can be named.
    func endpoint() async throws(RedisClientError) -> RedisEndpoint

    /// Checks a connection the pool has just made to `endpoint` before it serves (Sentinel: `ROLE` is `master`).
    /// - Throws: ``RedisClientError`` when it must not be used; the pool closes it and retries.
    func confirm(_ connection: RedisConnection, endpoint: RedisEndpoint) async throws(RedisClientError)

    /// A connection to `endpoint` broke, or a reply (`-READONLY`, `-LOADING`, `-MASTERDOWN`) said it is not
    /// a writable primary: the next ``endpoint()`` discovers again. Never blocks.
    func invalidate(_ endpoint: RedisEndpoint, reason: String)

    /// Registers `handler`, called with the new endpoint whenever discovery names a different one than
    /// before; the pool then closes its connections to any other.
    func onChange(_ handler: @escaping @Sendable (RedisEndpoint) -> Void)
}
