extension HTTPConnection {
    /// Where a connection is in its request/response cycle. One request is handled at a time; bytes of
    /// pipelined requests wait in the parser (or the kernel) until the current response is written.
    ///
    /// Every payload is a plain value: the head and early response of the body states wait in
    /// ``HTTPConnection/heldHead`` and ``HTTPConnection/earlyResponse``. (Measured: with them as payloads, the
    /// 14 reads of the state per request each copied the enum through its value witness, 800 instructions.)
    enum State {
        /// Between requests, waiting for a first byte (keep-alive timeout).
        case idle
        /// A request's first byte has arrived; waiting for the end of its head (header deadline).
        case readingHead
        /// Head accepted (in `heldHead`); reading the body (body idle timeout).
        case readingBody(keepAlive: Bool)
        /// The head (in `heldHead`) was answered early by preflight (`earlyResponse`); reading and
        /// dropping its `Content-Length` body before answering.
        case discardingBody(keepAlive: Bool)
        /// The handler is running; not reading. Only what framing the response needs is kept: the
        /// handler has the head.
        case awaitingResponse(isHead: Bool, HTTPVersion, keepAlive: Bool)
        /// Writing the response; afterwards back to `idle` or on to `closing`.
        case writing(keepAlive: Bool)
        /// Response written and write side shut; reading and dropping input briefly so the peer
        /// gets the response instead of a reset (lingering close).
        case closing
        /// Closed and forgotten by the loop.
        case closed

        /// Whether the connection should be watched for input in this state.
        var wantsRead: Bool {
            switch self {
            case .idle, .readingHead, .readingBody, .discardingBody, .closing: true
            case .awaitingResponse, .writing, .closed: false
            }
        }

        /// Whether this is the closed state.
        var isClosed: Bool {
            if case .closed = self { return true }
            return false
        }
    }
}
