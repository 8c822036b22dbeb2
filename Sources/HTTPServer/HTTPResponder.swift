/// Where the response to one request goes when the handler took it on the event loop
/// (``HTTPHandler/respond(to:with:)``). Call ``respond(_:)`` exactly once, from any thread.
public struct HTTPResponder: Sendable {
    let loop: EventLoop
    let fd: Int32
    /// The connection's id, so that a response cannot reach a new connection that reused `fd`.
    let id: UInt64

    /// Hands the response to its connection: on the loop's thread it is written after the current batch of
    /// events; from any other thread it goes through the loop's inbox. Dropped when the connection is gone.
    public func respond(_ response: HTTPResponse) {
        loop.deliver(response, fd: fd, id: id)
    }
}
