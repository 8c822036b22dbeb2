import Foundation

extension HTTPServer {
    /// Listening address, limits, timeouts and threading of an ``HTTPServer``; every field has a default.
    public struct Configuration: Sendable {
        /// Address to bind: an IPv4 or IPv6 literal (`"0.0.0.0"`, `"::"`, `"::1"`) or a host name.
        public var host = "0.0.0.0"
        /// Port to bind; 0 picks an ephemeral port, which ``HTTPServer/start()`` returns.
        public var port = 8080
        /// Largest request body, after chunked decoding; larger is answered 413. Exactly this is accepted.
        public var maxBodyBytes = 1 << 20
        /// Largest header field section, not counting the request line; larger is answered 431.
        public var maxHeaderBytes = 16 * 1024
        /// Longest request line; longer is answered 414.
        public var maxRequestLineBytes = 8 * 1024
        /// Most header field lines in a request; more is answered 431.
        public var maxHeaderFields = 100
        /// Deadline from a request's first byte to the end of its header section (not an idle timer); then 408.
        public var headerTimeout: Duration = .seconds(10)
        /// Longest gap between body bytes; then 408. Also bounds a stalled response write.
        public var bodyIdleTimeout: Duration = .seconds(10)
        /// How long a connection may sit idle between requests before it is closed.
        public var keepAliveTimeout: Duration = .seconds(75)
        /// Open connections allowed; connections accepted past it are closed at once.
        public var maxConnections = 10_000
        /// Number of event-loop threads; by default one per usable core (``UsableCores``).
        public var eventLoopCount = UsableCores.count

        /// Creates a configuration with the defaults.
        public init() {}

        /// The parser limits implied by this configuration.
        var parserLimits: HTTPRequestParser.Limits {
            HTTPRequestParser.Limits(
                maxRequestLineBytes: maxRequestLineBytes,
                maxHeaderBytes: maxHeaderBytes,
                maxBodyBytes: maxBodyBytes,
                maxHeaderFields: maxHeaderFields
            )
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `0...UInt64.max / 2`.
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        if seconds > 4_000_000_000 { return UInt64.max / 2 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
