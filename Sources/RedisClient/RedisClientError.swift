#if canImport(Glibc)
import Glibc
#endif

/// A failure of the client rather than a reply from the server: connecting, timing out, a broken
/// connection, a protocol violation, failed authentication, or a closed pool.
///
/// Messages never contain the password. Compare ``code`` against the static members of ``Code``.
public struct RedisClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connectionFailed, timeout, protocolViolation, connectionClosed
            case authenticationFailed, poolClosed, unsupported, invalidConfiguration
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A TCP connection could not be established (refused, unreachable, DNS failure, connect timeout),
        /// or the pool has no usable connection right now.
        public static let connectionFailed = Code(.connectionFailed)
        /// A command got no reply within the command timeout; its connection is closed and replaced.
        public static let timeout = Code(.timeout)
        /// The server sent bytes that are not valid RESP2, or a reply nobody asked for.
        public static let protocolViolation = Code(.protocolViolation)
        /// The connection was closed (by the server, the network or ``RedisConnection/close()``) before the reply arrived.
        public static let connectionClosed = Code(.connectionClosed)
        /// `AUTH` or `SELECT` was refused when connecting.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// The pool was closed with ``RedisConnectionPool/close()``.
        public static let poolClosed = Code(.poolClosed)
        /// The configuration asks for something this client cannot do yet.
        public static let unsupported = Code(.unsupported)
        /// The configuration cannot be used, e.g. a TLS CA, certificate or key file that cannot be loaded.
        public static let invalidConfiguration = Code(.invalidConfiguration)

        /// The code's name, e.g. `timeout`.
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// A human-readable explanation; never contains the password.
    public let message: String
    /// The `errno` of the failed system call, when one caused this error.
    public let errno: Int32?
    /// For a command that failed: whether all of it had been written to Redis, so that Redis may
    /// have run it although no reply came (true), or it certainly never ran (false). Nil when the
    /// failure is not about one command's delivery.
    public private(set) var commandWasSent: Bool?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A human-readable explanation that must not contain the password.
    ///   - errno: The `errno` of the failed system call, if any.
    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// Whether this is a failure to reach Redis (retrying later may succeed): every code except
    /// ``Code/authenticationFailed``, ``Code/unsupported`` and ``Code/invalidConfiguration``, which need a
    /// configuration change.
    public var isConnectivity: Bool {
        code != .authenticationFailed && code != .unsupported && code != .invalidConfiguration
    }

    /// `Redis client error (code): message`, plus `(errno N: strerror)` when a system call failed.
    public var description: String {
        var text = "Redis client error (\(code)): \(message)"
        if let errno {
            text += " (errno \(errno): \(String(cString: strerror(errno))))"
        }
        return text
    }
}

extension RedisClientError {
    /// This error for a command that was (`true`) or was not (`false`) written whole before it failed.
    public func sent(_ sent: Bool) -> RedisClientError {
        var error = self
        error.commandWasSent = sent
        return error
    }

    /// Shorthand for a failed system call: the current `errno` is captured.
    static func syscall(_ code: Code, _ what: String) -> RedisClientError {
        RedisClientError(code, "\(what) failed", errno: Glibc.errno)
    }
}
