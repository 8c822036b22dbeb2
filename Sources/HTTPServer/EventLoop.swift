import CEpoll
import Glibc
import Synchronization

/// The thread-safe face of one event-loop thread: its epoll and eventfd descriptors, its inbox, and the
/// task executor its requests run on.
///
/// Any thread may `post` a message; the loop thread (``EventLoopCore``) wakes through the eventfd and
/// takes the messages in order. This is how the acceptor hands over connections, and how the server
/// drains and stops the loop.
///
/// The loop is also the preferred ``TaskExecutor`` of every request task it dispatches, so a handler
/// runs on the thread that owns its connection: a job enqueued on the loop thread goes to a local queue
/// with no lock and no wake-up, and the loop runs it after the current batch of epoll events. A Redis
/// connection served by this loop (``EventLoopSource``) resumes its callers here too; only a job resumed
/// on another thread (a reply read by another loop, or by a connection's own I/O thread) goes through the inbox.
/// Once the loop has stopped, jobs go to the global concurrent executor, so no task is ever stranded.
final class EventLoop: TaskExecutor, Sendable {
    /// Work for the loop thread.
    enum Message: Sendable {
        /// Take ownership of an accepted connection (already counted in `openConnections`).
        case adopt(Int32)
        /// A handler finished off the loop thread; `id` guards against a reused descriptor.
        case response(fd: Int32, id: UInt64, HTTPResponse)
        /// A job of a task that prefers this loop, enqueued on another thread.
        case job(UnownedJob)
        /// Stop accepting: close the listener, then call the acknowledgement.
        case closeListener(@Sendable () -> Void)
        /// Begin graceful shutdown: close idle connections, close the others after their current response.
        case drain
        /// Close every connection now.
        case forceClose
        /// Leave the loop, closing whatever is left.
        case stop
        /// Run a closure on the loop thread (``EventLoopReference/execute(_:)``).
        case execute(@Sendable () -> Void)
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
    /// The loop thread's `pthread_self()` while the loop runs, else 0.
    private let threadID = Atomic<UInt>(0)
    /// The loop's core while it runs; only read and written on the loop thread.
    nonisolated(unsafe) private var core: EventLoopCore?
    /// Jobs enqueued on the loop thread, and the batch being run; only touched on the loop thread.
    nonisolated(unsafe) private var localJobs: [UnownedJob] = []
    nonisolated(unsafe) private var runningJobs: [UnownedJob] = []

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

    // MARK: Executor

    /// Whether the caller runs on this loop's thread while the loop runs.
    var isCurrent: Bool { threadID.load(ordering: .relaxed) == pthread_self() }

    /// Called by the core on the loop thread when it starts and when it stops (nil).
    func attach(_ core: EventLoopCore?) {
        self.core = core
        threadID.store(core == nil ? 0 : pthread_self(), ordering: .relaxed)
    }

    /// Takes a job of a task that prefers this loop: locally on the loop thread, else through the inbox.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isCurrent {
            localJobs.append(job)
        } else {
            post(.job(job))
        }
    }

    /// Whether jobs wait to run (the loop then polls epoll without sleeping). Loop thread only.
    var hasLocalJobs: Bool { !localJobs.isEmpty }

    /// Queues a job taken from the inbox. Loop thread only.
    func adoptJob(_ job: UnownedJob) {
        localJobs.append(job)
    }

    /// Runs the queued jobs, and the jobs they enqueue, up to `limit` of them, so that I/O is not
    /// starved by tasks that keep yielding. Loop thread only.
    /// - Returns: How many ran.
    @discardableResult
    func runLocalJobs(limit: Int) -> Int {
        let executor = asUnownedTaskExecutor()
        var ran = 0
        while !localJobs.isEmpty && ran < limit {
            swap(&localJobs, &runningJobs)
            for job in runningJobs { job.runSynchronously(on: executor) }
            ran += runningJobs.count
            runningJobs.removeAll(keepingCapacity: true)
        }
        return ran
    }

    /// Hands a response to its connection: on the loop thread, to be written after the current batch of
    /// tasks; from any other thread, through the inbox.
    func deliver(_ response: HTTPResponse, fd: Int32, id: UInt64) {
        if isCurrent, let core {
            core.finish(response, fd: fd, id: id)
        } else {
            post(.response(fd: fd, id: id, response))
        }
    }

    // MARK: Inbox

    /// Queues a message and wakes the loop. After the loop has stopped, the message is settled here instead
    /// (descriptors closed, acknowledgements called).
    func post(_ message: Message) {
        if !enqueue(message) { Self.settle(message, counter: openConnections) }
    }

    /// Queues a closure for the loop thread.
    /// - Returns: false when the loop has stopped taking messages (the closure is then not run).
    func execute(_ body: @escaping @Sendable () -> Void) -> Bool {
        enqueue(.execute(body))
    }

    /// Appends to the inbox and wakes the loop. - Returns: false once the loop has stopped taking messages.
    private func enqueue(_ message: Message) -> Bool {
        inbox.withLock { inbox -> Bool in
            guard !inbox.stopped else { return false }
            inbox.messages.append(message)
            if inbox.messages.count == 1 {
                // Written under the lock so the loop cannot close the eventfd in between.
                var one: UInt64 = 1
                _ = Glibc.write(wakeFD, &one, MemoryLayout<UInt64>.size)
            }
            return true
        }
    }

    /// The loop's core, when called on the loop thread while it runs.
    var currentCore: EventLoopCore? {
        isCurrent ? core : nil
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
        // Jobs still queued locally belong to tasks that must finish somewhere.
        let stranded = localJobs
        localJobs = []
        for job in stranded { Self.settle(.job(job), counter: openConnections) }
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
        case .job(let job):
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        case .execute(let body):
            // Accepted before the loop stopped: its owner counts on it running (off the loop, now).
            body()
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
