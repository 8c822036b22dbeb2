extension RedisConnectionPool {
    /// How many connections to keep, how long to wait, and how to back off between reconnects.
    public struct Configuration: Sendable {
        /// The server, credentials and database.
        public var url: RedisURL
        /// The number of connections kept open; commands are spread over them round-robin. At least 1.
        public var connectionCount = 4
        /// Extra connections reserved for ``RedisConnectionPool/sendRead(_:)``, so that plain reads do
        /// not queue behind writes, which a write pause (`CLIENT PAUSE … WRITE`, `FAILOVER`) holds back.
        /// 0 (the default) shares every connection. Either kind uses the other's connections while
        /// none of its own is up.
        public var readConnectionCount = 0
        /// The longest time to establish one TCP connection.
        public var connectTimeout: Duration = .seconds(2)
        /// The longest time a command may wait for its reply; see ``RedisConnection/Configuration/commandTimeout``.
        public var commandTimeout: Duration = .seconds(2)
        /// The delay before the first reconnect attempt; it doubles after each failed attempt.
        public var reconnectBaseDelay: Duration = .milliseconds(50)
        /// The longest delay between reconnect attempts.
        public var reconnectMaxDelay: Duration = .seconds(2)
        /// Limits applied to replies.
        public var parser = RESPParser()
        /// The TLS context for a `rediss://` URL, shared by every connection; see ``RedisConnection/Configuration/tls``.
        public var tls: TLSContext?
        /// Names the server of every connect attempt (Sentinel discovery); `nil` connects to ``url``'s host.
        /// ``url`` still gives the scheme, credentials and database.
        public var endpointProvider: (any RedisEndpointProvider)?

        /// Creates a configuration with defaults: 4 connections, 2 s timeouts, backoff from 50 ms to 2 s.
        /// - Parameter url: The server, credentials and database.
        public init(url: RedisURL) {
            self.url = url
        }

        /// The configuration of each connection.
        var connection: RedisConnection.Configuration {
            var configuration = RedisConnection.Configuration(url: url)
            configuration.connectTimeout = connectTimeout
            configuration.commandTimeout = commandTimeout
            configuration.parser = parser
            configuration.tls = tls
            return configuration
        }

        /// The delay before reconnect attempt number `failures + 1`: exponential, capped, with jitter
        /// (a uniformly random 50–100 % of the nominal delay) so that replicas do not reconnect in lockstep.
        func reconnectDelay(afterFailures failures: Int) -> Duration {
            var nominal = reconnectBaseDelay
            for _ in 0..<Swift.min(failures, 30) where nominal < reconnectMaxDelay {
                nominal = nominal * 2
            }
            nominal = Swift.min(nominal, reconnectMaxDelay)
            return nominal * Double.random(in: 0.5...1.0)
        }
    }
}
