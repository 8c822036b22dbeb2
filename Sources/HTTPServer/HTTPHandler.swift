/// The application side of the server: decides early rejections, handles requests, renders protocol errors.
///
/// `preflight`, `respondInline` (which answers what needs no waiting) and `protocolError` run synchronously
/// on an event-loop thread and must be quick and non-blocking. `handle` runs in its own task, whose preferred
/// executor is that same loop: it runs on the loop's thread too, so it must not block the thread either
/// (awaiting is fine; the loop serves its other connections meanwhile). Unstructured tasks it starts run on the global pool as usual.
public protocol HTTPHandler: Sendable {
    /// Called once the header section is parsed, before any body is read and before the body size check.
    ///
    /// Return a response to answer at once (route 404/405, invalid ID, 415, ...), or nil to go on
    /// reading the body and then call ``handle(_:)``.
    /// - Parameter head: The parsed request head.
    func preflight(_ head: HTTPRequestHead) -> HTTPResponse?

    /// The form of ``preflight(_:)`` the server calls: it may also set `head.handlerContext`
    /// (for example the resolved route), which ``handle(_:)`` then finds in `request.head`, so that
    /// the work is not done twice. The default calls ``preflight(_:)``.
    func preflight(_ head: inout HTTPRequestHead) -> HTTPResponse?

    /// Called with the complete request on the event-loop thread, before ``handle(_:)``: a handler that
    /// can answer without waiting (an in-memory lookup) returns the response here, and the server writes it
    /// without starting a task. Return nil to have ``handle(_:)`` called in a task instead. Must not block.
    /// The default returns nil.
    /// - Parameter request: The request with its decoded body.
    func respondInline(_ request: HTTPRequest) -> HTTPResponse?

    /// Called with the complete request when ``respondInline(_:)`` returned nil; responses on one
    /// connection are written in request order.
    /// - Parameter request: The request with its decoded body.
    func handle(_ request: HTTPRequest) async -> HTTPResponse

    /// Builds the response for a protocol error; the connection is closed after it is written.
    /// - Parameters:
    ///   - error: What went wrong.
    ///   - head: The request head, or nil when the head was not parsed.
    ///   - receivedAtNanos: When the request's first byte arrived (monotonic, as `HTTPRequestHead.receivedAtNanos`),
    ///     also when the head was not parsed, so the answer can be timed.
    func protocolError(_ error: HTTPProtocolError, head: HTTPRequestHead?, receivedAtNanos: UInt64) -> HTTPResponse
}

extension HTTPHandler {
    /// Answers nothing inline: every request goes to ``handle(_:)``.
    public func respondInline(_ request: HTTPRequest) -> HTTPResponse? {
        nil
    }

    /// Calls ``preflight(_:)``, attaching nothing to the head.
    public func preflight(_ head: inout HTTPRequestHead) -> HTTPResponse? {
        preflight(head)
    }
}
