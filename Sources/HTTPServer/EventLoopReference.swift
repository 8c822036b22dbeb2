import CEpoll

/// Something besides HTTP connections that an event loop watches: a socket the loop reads and writes
/// for its owner (a Redis connection), on the loop thread, beside the loop's HTTP connections.
///
/// Every call comes on the loop's thread.
public protocol EventLoopSource: AnyObject {
    /// The socket is readable (or hung up or failed), writable (when asked for), or both.
    func loopEvents(readable: Bool, writable: Bool)
    /// Called about every 100 ms, for deadlines.
    func loopTick()
    /// Called once before the loop next waits in `epoll_wait`, after ``EventLoopReference/scheduleFlush(_:)``.
    func loopFlush()
    /// The loop is stopping: it has stopped watching the socket, and calls nothing after this.
    func loopStopping()
}

/// The public face of one of the server's event loops, for owners of other sockets that want them served
/// on the loop's thread (``EventLoopSource``).
public final class EventLoopReference: Sendable {
    let loop: EventLoop

    init(_ loop: EventLoop) {
        self.loop = loop
    }

    /// Whether the caller runs on this loop's thread while the loop runs.
    public var isCurrent: Bool { loop.isCurrent }

    /// Runs `body` on the loop thread after what is queued (never inline).
    /// - Returns: false when the loop has stopped, and `body` will not run. A closure accepted before the
    ///   loop stopped runs, on the stopping thread if the loop did not get to it.
    @discardableResult
    public func execute(_ body: @escaping @Sendable () -> Void) -> Bool {
        loop.execute(body)
    }

    /// Starts watching `fd` for readability, calling `source` on the loop thread. Loop thread only.
    /// - Returns: false when called off the loop thread, after the loop stopped, or when epoll refuses.
    public func watch(_ fd: Int32, source: any EventLoopSource) -> Bool {
        loop.currentCore?.watch(fd, source: source) ?? false
    }

    /// Asks for writability events on a watched `fd` too, or stops asking. Loop thread only.
    public func setWantsWritable(_ fd: Int32, _ wants: Bool) {
        loop.currentCore?.setWantsWritable(fd, wants)
    }

    /// Calls the source watching `fd` (``EventLoopSource/loopFlush()``) once before the loop next waits,
    /// after this turn's requests have run: what they queued goes out in one write. Loop thread only.
    public func scheduleFlush(_ fd: Int32) {
        loop.currentCore?.scheduleFlush(fd)
    }

    /// Stops watching `fd`, before its owner closes it. Loop thread only.
    public func unwatch(_ fd: Int32) {
        loop.currentCore?.unwatch(fd)
    }
}

extension EventLoopCore {
    /// The id part of a source's epoll token (connections never take it).
    static let sourceID: UInt64 = 0xFFFF_FFFF

    /// Adds a source's socket to the epoll set.
    func watch(_ fd: Int32, source: any EventLoopSource) -> Bool {
        guard running, sources[fd] == nil else { return false }
        guard register(fd, token: Self.token(fd: fd, id: Self.sourceID), events: cepoll_in() | cepoll_rdhup()) else { return false }
        sources[fd] = source
        return true
    }

    func setWantsWritable(_ fd: Int32, _ wants: Bool) {
        guard sources[fd] != nil else { return }
        modify(fd: fd, token: Self.token(fd: fd, id: Self.sourceID), events: cepoll_in() | cepoll_rdhup() | (wants ? cepoll_out() : 0))
    }

    func unwatch(_ fd: Int32) {
        guard sources.removeValue(forKey: fd) != nil else { return }
        _ = epoll_ctl(loop.epollFD, EPOLL_CTL_DEL, fd, nil)
    }

    func scheduleFlush(_ fd: Int32) {
        guard let source = sources[fd] else { return }
        flushes.append(source)
    }

    /// Calls the sources that asked to be flushed before the loop waits.
    func flushSources() {
        while !flushes.isEmpty {
            swap(&flushes, &flushing)
            for source in flushing { source.loopFlush() }
            flushing.removeAll(keepingCapacity: true)
        }
    }

    /// Calls a source for its epoll event.
    func sourceEvents(fd: Int32, flags: UInt32) {
        guard let source = sources[fd] else { return }
        let readable = flags & (cepoll_in() | cepoll_rdhup() | cepoll_hup() | cepoll_err()) != 0
        source.loopEvents(readable: readable, writable: flags & cepoll_out() != 0)
    }

    /// Ticks every source.
    func tickSources() {
        for source in sources.values { source.loopTick() }
    }

    /// Tells every source that the loop stops, after forgetting them.
    func stopSources() {
        let stopping = sources.entries
        for (fd, _) in stopping { unwatch(fd) }
        for (_, source) in stopping { source.loopStopping() }
    }
}
