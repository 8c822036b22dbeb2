import CEpoll
import Glibc
import Synchronization

/// The thread-safe face of one event-loop thread: its epoll and eventfd descriptors and its inbox.
///
/// Any thread may `post` a message; the loop thread (``EventLoopCore``) wakes through the eventfd and
/// takes the messages in order. This is how handler tasks hand responses back to a connection's loop,
/// how the acceptor hands over connections, and how the server drains and stops the loop.
final class EventLoop: Sendable {
    /// Work for the loop thread.
    enum Message: Sendable {
        /// Take ownership of an accepted connection (already counted in `openConnections`).
        case adopt(Int32)
        /// A handler finished; `id` guards against a reused descriptor.
        case response(fd: Int32, id: UInt64, HTTPResponse)
        /// Stop accepting: close the listener, then call the acknowledgement.
        case closeListener(@Sendable () -> Void)
        /// Begin graceful shutdown: close idle connections, close the others after their current response.
        case drain
        /// Close every connection now.
        case forceClose
        /// Leave the loop, closing whatever is left.
        case stop
    }

    /// Messages not yet taken, and whether the loop has stopped taking them.
    private struct Inbox {
        var messages: [Message] = []
        var stopped = false
    }

    /// Position of this loop among the server's loops.
    let index: Int
    /// The loop's epoll instance.
    let epollFD: Int32
    /// The eventfd that wakes the loop when a message is posted.
    let wakeFD: Int32
    /// Pending messages; guarded because any thread posts.
    private let inbox = Mutex(Inbox())
    /// Set by the loop thread after it has released everything.
    let finished = Atomic<Bool>(false)
    /// The server's open-connection gauge, to uncount connections dropped after stop.
    let openConnections: ConnectionCounter

    /// Creates the loop's descriptors; the thread is started separately.
    /// - Throws: ``HTTPServerError`` when `epoll_create1` or `eventfd` fails.
    init(index: Int, openConnections: ConnectionCounter) throws {
        self.index = index
        self.openConnections = openConnections
        let epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw HTTPServerError.makeFailed("epoll_create1") }
        let wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            let error = HTTPServerError.makeFailed("eventfd")
            Glibc.close(epollFD)
            throw error
        }
        self.epollFD = epollFD
        self.wakeFD = wakeFD
    }

    /// Queues a message and wakes the loop. After the loop has stopped, the message is settled here instead
    /// (descriptors closed, acknowledgements called).
    func post(_ message: Message) {
        let queued = inbox.withLock { inbox -> Bool in
            guard !inbox.stopped else { return false }
            inbox.messages.append(message)
            if inbox.messages.count == 1 {
                // Written under the lock so the loop cannot close the eventfd in between.
                var one: UInt64 = 1
                _ = Glibc.write(wakeFD, &one, MemoryLayout<UInt64>.size)
            }
            return true
        }
        if !queued { Self.settle(message, counter: openConnections) }
    }

    /// Takes every queued message, in order.
    func takeMessages() -> [Message] {
        var drained: UInt64 = 0
        _ = Glibc.read(wakeFD, &drained, MemoryLayout<UInt64>.size)
        return inbox.withLock { inbox in
            let messages = inbox.messages
            inbox.messages.removeAll(keepingCapacity: true)
            return messages
        }
    }

    /// Marks the loop stopped, closes its descriptors and settles messages that arrived too late.
    func markStopped() {
        let leftovers = inbox.withLock { inbox -> [Message] in
            inbox.stopped = true
            Glibc.close(wakeFD)
            Glibc.close(epollFD)
            let messages = inbox.messages
            inbox.messages = []
            return messages
        }
        for message in leftovers { Self.settle(message, counter: openConnections) }
        finished.store(true, ordering: .releasing)
    }

    /// Completes a message the loop will never see.
    private static func settle(_ message: Message, counter: ConnectionCounter) {
        switch message {
        case .adopt(let fd):
            Socket.close(fd)
            counter.decrement()
        case .closeListener(let acknowledge):
            acknowledge()
        case .response, .drain, .forceClose, .stop:
            break
        }
    }
}

/// The server-wide count of open connections, shared by the acceptor and every loop.
final class ConnectionCounter: Sendable {
    /// The count.
    private let value = Atomic<Int>(0)

    /// The current count.
    var current: Int { value.load(ordering: .relaxed) }

    /// Adds one connection unless that would pass `limit`.
    /// - Returns: Whether the connection was counted.
    func incrementIfBelow(_ limit: Int) -> Bool {
        let now = value.wrappingAdd(1, ordering: .relaxed).newValue
        if now > limit {
            value.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Removes one connection.
    func decrement() {
        value.wrappingSubtract(1, ordering: .relaxed)
    }
}

/// What every loop of one server shares: configuration, handler, the gauge and the other loops.
final class ServerContext: Sendable {
    /// The server configuration.
    let configuration: HTTPServer.Configuration
    /// The application handler.
    let handler: any HTTPHandler
    /// The open-connection gauge.
    let openConnections: ConnectionCounter
    /// All loops, for round-robin distribution by the acceptor.
    let loops: [EventLoop]
    /// The listening socket, owned by loop 0.
    let listenerFD: Int32
    /// Set by `shutdown` before anything else, so every response written from then on closes its
    /// connection, even before the loops have processed their `.drain` message.
    let shuttingDown: ShutdownFlag

    /// Creates the shared context.
    init(configuration: HTTPServer.Configuration, handler: any HTTPHandler, openConnections: ConnectionCounter, loops: [EventLoop],
         listenerFD: Int32, shuttingDown: ShutdownFlag) {
        self.shuttingDown = shuttingDown
        self.configuration = configuration
        self.handler = handler
        self.openConnections = openConnections
        self.loops = loops
        self.listenerFD = listenerFD
    }
}

/// A flag any thread may set and read without a lock.
final class ShutdownFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Whether shutdown has started.
    var isSet: Bool { value.load(ordering: .acquiring) }

    /// Marks shutdown as started.
    func set() { value.store(true, ordering: .releasing) }
}
