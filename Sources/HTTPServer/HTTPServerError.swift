import Glibc

/// A system call made by the server failed (socket, bind, listen, name lookup, epoll ...).
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// The operation that failed, e.g. `"bind"`.
    public let operation: String
    /// The `errno` value (or the `getaddrinfo` code for name lookup), 0 when not applicable.
    public let errno: Int32
    /// The system's description of the error (`strerror`/`gai_strerror`) or a short explanation.
    public let message: String

    /// Creates an error with an explicit message.
    /// - Parameters:
    ///   - operation: The operation that failed.
    ///   - errno: The error number.
    ///   - message: A description of the failure.
    public init(operation: String, errno: Int32, message: String) {
        self.operation = operation
        self.errno = errno
        self.message = message
    }

    /// An error for `operation` carrying the current `errno` and its `strerror` text.
    static func makeFailed(_ operation: String, errno code: Int32 = Glibc.errno) -> HTTPServerError {
        HTTPServerError(operation: operation, errno: code, message: String(cString: strerror(code)))
    }

    /// `"<operation> failed: <message> (errno <n>)"`.
    public var description: String {
        "\(operation) failed: \(message) (errno \(errno))"
    }
}
