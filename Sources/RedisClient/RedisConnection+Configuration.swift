extension RedisConnection {
    /// How to reach Redis and how long to wait.
    public struct Configuration: Sendable {
        /// The server, credentials and database.
        public var url: RedisURL
        /// The longest time to resolve and establish the TCP connection, and again for the TLS handshake
        /// (`AUTH` and `SELECT` use ``commandTimeout``).
        ///
        /// Name resolution (`getaddrinfo`) cannot be interrupted, so a hanging DNS server may exceed it.
        public var connectTimeout: Duration = .seconds(2)
        /// The longest time a command may wait for its reply. When it passes, the command fails with
        /// ``RedisClientError/Code/timeout`` and the connection closes, since later replies would be mismatched.
        public var commandTimeout: Duration = .seconds(2)
        /// Limits applied to replies; a reply over a limit is a protocol violation and closes the connection.
        public var parser = RESPParser()
        /// The TLS context for `rediss://` URLs (ignored for `redis://`); `nil` means a new context with the
        /// system trust store for each connection. Share one ``TLSContext`` among connections.
        public var tls: TLSContext?
        /// Receives the Pub/Sub messages of a connection that has sent `SUBSCRIBE`, on the connection's
        /// I/O thread (keep it short). `nil` (the default) treats them as replies to no command.
        public var pushHandler: (@Sendable (RESPValue) -> Void)?

        /// Creates a configuration with default timeouts.
        /// - Parameter url: The server, credentials and database.
        public init(url: RedisURL) {
            self.url = url
        }
    }
}
