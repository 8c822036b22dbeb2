/// The HTTP versions this server speaks ([RFC 9112](https://www.rfc-editor.org/rfc/rfc9112)).
///
/// Requests with any other version are rejected as malformed.
public enum HTTPVersion: Sendable, Hashable {
    /// `HTTP/1.0`: connections close after each response unless the client asks for keep-alive.
    case http1_0
    /// `HTTP/1.1`: connections are persistent unless either side sends `Connection: close`.
    case http1_1
}
