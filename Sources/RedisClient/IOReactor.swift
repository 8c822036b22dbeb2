/// An event loop that serves connections' sockets on its own thread: the seam through which a
/// ``RedisConnection`` moves off its I/O thread onto the thread of the requests that use it (the HTTP
/// server's loops, adapted by the app), so that a reply is read, parsed and its waiting request resumed
/// on one thread, without a wake-up or a context switch.
///
/// ``watch(_:source:)``, ``setWantsWritable(_:_:)`` and ``unwatch(_:)`` are called on the reactor's thread only.
public protocol IOReactor: AnyObject, Sendable {
    /// Whether the caller runs on the reactor's thread.
    var isCurrent: Bool { get }
    /// Runs `body` on the reactor's thread after what is queued (never inline).
    /// - Returns: false when the reactor has stopped and `body` will not run. A closure accepted before the
    ///   reactor stopped runs, possibly off the reactor's thread if the reactor did not get to it.
    func execute(_ body: @escaping @Sendable () -> Void) -> Bool
    /// Starts watching `fd` for readability, calling `source`.
    /// - Returns: false when the reactor cannot (stopped, or called off its thread).
    func watch(_ fd: Int32, source: any IOReactorSource) -> Bool
    /// Asks for writability events on a watched `fd` too, or stops asking.
    func setWantsWritable(_ fd: Int32, _ wants: Bool)
    /// Stops watching `fd` (before it is closed).
    func unwatch(_ fd: Int32)
    /// Calls the source watching `fd` (``IOReactorSource/reactorFlush()``) once before the reactor next
    /// waits, so that what its turn queued goes out in one write.
    func scheduleFlush(_ fd: Int32)
}

/// What an ``IOReactor`` calls about a watched socket, always on the reactor's thread.
public protocol IOReactorSource: AnyObject, Sendable {
    /// The socket is readable (or hung up, or failed), writable (when asked for), or both.
    func reactorEvents(readable: Bool, writable: Bool)
    /// Called about every 100 ms, for deadlines.
    func reactorTick()
    /// Called before the reactor waits, after ``IOReactor/scheduleFlush(_:)``.
    func reactorFlush()
    /// The reactor stops: it no longer watches the socket and calls nothing after this.
    func reactorStopping()
}
