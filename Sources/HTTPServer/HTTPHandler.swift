/// The application side of the server: decides early rejections, handles requests, renders protocol errors.
///
/// `preflight`, `respond(to:with:)` (which takes what needs no task) and `protocolError` run synchronously
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
    /// can answer without a task takes the request by returning true, and then calls `responder` exactly once,
    /// either before returning (an in-memory lookup) or later from the completion of I/O that does not block this
    /// thread (a Redis reply read by this loop). Return false to have ``handle(_:)`` called in a task instead.
    /// Must not block. The default returns false.
    /// - Parameters:
    ///   - request: The request with its decoded body.
    ///   - responder: Where the response goes.
    func respond(to request: HTTPRequest, with responder: HTTPResponder) -> Bool

    /// Called with the complete request when ``respond(to:with:)`` returned false; responses on one
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
    /// Takes nothing: every request goes to ``handle(_:)``.
    public func respond(to request: HTTPRequest, with responder: HTTPResponder) -> Bool {
        false
    }

    /// Calls ``preflight(_:)``, attaching nothing to the head.
    public func preflight(_ head: inout HTTPRequestHead) -> HTTPResponse? {
        preflight(head)
    }
}
