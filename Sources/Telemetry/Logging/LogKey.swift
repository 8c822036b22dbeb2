/// The metadata keys of DESIGN §7 "Log keys", defined once.
public enum LogKey {
    /// The RFC 3339 time of the line; written by ``Logger`` itself.
    public static let time = "time"
    /// The level of the line; written by ``Logger`` itself.
    public static let level = "level"
    /// The message; written by ``Logger`` itself.
    public static let msg = "msg"
    /// The request ID (`X-Request-Id`).
    public static let requestID = "request_id"
    /// The HTTP method.
    public static let method = "method"
    /// The route template, such as `/agents/{agent_id}/sessions/{session_id}`, or `unmatched`.
    public static let route = "route"
    /// The HTTP status code.
    public static let status = "status"
    /// The request duration in milliseconds.
    public static let durationMS = "duration_ms"
    /// Request body bytes received.
    public static let bytesIn = "bytes_in"
    /// Response body bytes sent.
    public static let bytesOut = "bytes_out"
    /// The name of the bearer token that authorized a request (never the token).
    public static let tokenName = "token_name"
}
