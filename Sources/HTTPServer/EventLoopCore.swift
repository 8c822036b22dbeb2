import CEpoll
import Dispatch
import Glibc
import Telemetry

/// The thread-confined side of an event loop: epoll wait, accept (loop 0), connections and timers.
///
/// Created and run on the loop's own thread; nothing here is touched by any other thread. Other threads
/// reach it only through ``EventLoop/post(_:)``.
final class EventLoopCore {
    /// The loop's thread-safe face.
    let loop: EventLoop
    /// What all loops share.
    let context: ServerContext
    /// Open connections by descriptor.
    var connections = DescriptorTable<HTTPConnection>()
    /// Other sockets served on this loop (``EventLoopSource``), by descriptor.
    var sources = DescriptorTable<any EventLoopSource>()
    /// Sources to flush before the loop next waits (``EventLoopReference/scheduleFlush(_:)``).
    var flushes: [any EventLoopSource] = []
    /// The flushes being run; swapped with `flushes` so that neither array is reallocated per turn.
    var flushing: [any EventLoopSource] = []
    /// Source of connection ids (never 0, which marks the wake and listener descriptors).
    var nextConnectionID: UInt64 = 0
    /// The listener while this loop owns it (loop 0 until shutdown), else -1.
    var listenerFD: Int32 = -1
    /// When a paused acceptor (out of descriptors) may try again; 0 = not paused.
    var acceptPausedUntil: UInt64 = 0
    /// Round-robin cursor over `context.loops`.
    var nextLoopIndex = 0
    /// Set once the server drains.
    var draining = false
    /// Cleared by the stop message.
    var running = true
    /// One read buffer shared by all connections of this loop; connections keep only what they need.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Cached `Date` header value.
    var dateCache = HTTPDateCache()

    /// Configuration shortcuts, in nanoseconds.
    let headerTimeoutNanos: UInt64, bodyIdleNanos: UInt64, keepAliveNanos: UInt64, lingerNanos: UInt64
    /// How often deadlines are scanned.
    let tickNanos: UInt64
    /// How often sources are ticked (``EventLoopSource/loopTick()``).
    static let sourceTickMilliseconds: Int32 = 100
    static let sourceTickNanos = UInt64(sourceTickMilliseconds) * 1_000_000
    /// Most task jobs run between two epoll waits.
    static let jobsPerTurn = 4096
    /// Responses finished by tasks in the current batch, and the ones being written.
    var finished: [(fd: Int32, id: UInt64, response: HTTPResponse)] = []
    var writing: [(fd: Int32, id: UInt64, response: HTTPResponse)] = []

    /// Prepares the loop; call `run()` on the loop's thread.
    init(loop: EventLoop, context: ServerContext) {
        self.loop = loop
        self.context = context
        let configuration = context.configuration
        headerTimeoutNanos = configuration.headerTimeout.clampedNanoseconds
        bodyIdleNanos = configuration.bodyIdleTimeout.clampedNanoseconds
        keepAliveNanos = configuration.keepAliveTimeout.clampedNanoseconds
        lingerNanos = min(bodyIdleNanos, 2_000_000_000)
        let shortest = min(headerTimeoutNanos, bodyIdleNanos, keepAliveNanos)
        tickNanos = max(5_000_000, min(250_000_000, shortest / 5))
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        if loop.index == 0 { listenerFD = context.listenerFD }
    }

    deinit {
        readBuffer.deallocate()
    }

    /// The configuration.
    var configuration: HTTPServer.Configuration { context.configuration }
    /// The application handler.
    var handler: any HTTPHandler { context.handler }

    /// Monotonic now in nanoseconds (same clock as `HTTPRequestHead.receivedAtNanos`).
    static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// The `Date` header value for now.
    func dateValue() -> String {
        dateCache.value(at: time(nil))
    }

    // MARK: Loop

    /// Runs until stopped, then closes everything this loop owns.
    ///
    /// The thread's log lines collect in ``LogBatch``: written before each response (see
    /// ``HTTPConnection/respond(_:method:version:keepAlive:now:)``), so a turn's request lines take one
    /// `write(2)`, and before each `epoll_wait`.
    func run() {
        LogBatch.begin()
        defer { LogBatch.end() }
        loop.attach(self)
        register(loop.wakeFD, token: UInt64(UInt32(bitPattern: loop.wakeFD)), events: cepoll_in())
        if listenerFD >= 0 {
            register(listenerFD, token: UInt64(UInt32(bitPattern: listenerFD)), events: cepoll_in())
        }
        let capacity: Int32 = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        let timeoutMs = Int32(max(1, tickNanos / 1_000_000))
        var nextScan = Self.now &+ tickNanos
        var nextSourceTick = Self.now &+ Self.sourceTickNanos
        while running {
            if !flushes.isEmpty { flushSources() }
            LogBatch.flush()
            let wait = loop.hasLocalJobs || !finished.isEmpty ? 0 : sources.isEmpty ? timeoutMs : min(timeoutMs, Self.sourceTickMilliseconds)
            let count = epoll_wait(loop.epollFD, events, capacity, wait)
            let now = Self.now
            if count < 0 && errno != EINTR { break }
            for index in 0..<max(0, Int(count)) {
                let token = events[index].data.u64
                let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: token))
                let id = token >> 32
                let flags = events[index].events
                if id == Self.sourceID {
                    sourceEvents(fd: fd, flags: flags)
                } else if id == 0 {
                    if fd == loop.wakeFD {
                        handleMessages(now: now)
                    } else if fd == listenerFD {
                        acceptConnections(now: now)
                    }
                } else if let connection = connections[fd], connection.id & 0xFFFF_FFFF == id {
                    connection.onEvents(flags, now: now)
                }
            }
            runTasks()
            if now >= nextScan {
                scanDeadlines(now: now)
                nextScan = now &+ tickNanos
            }
            if !sources.isEmpty, now >= nextSourceTick {
                tickSources()
                nextSourceTick = now &+ Self.sourceTickNanos
                runTasks()
            }
        }
        stopSources()
        for connection in connections.values { connection.close() }
        if listenerFD >= 0 {
            Socket.close(listenerFD)
            listenerFD = -1
        }
        loop.attach(nil)
        loop.markStopped()
    }

    /// Handles everything posted to the inbox.
    func handleMessages(now: UInt64) {
        for message in loop.takeMessages() {
            switch message {
            case .adopt(let fd):
                adopt(fd, now: now)
            case .response(let fd, let id, let response):
                deliver(response, fd: fd, id: id, now: now)
            case .job(let job):
                loop.adoptJob(job)
            case .closeListener(let acknowledge):
                if listenerFD >= 0 {
                    _ = epoll_ctl(loop.epollFD, EPOLL_CTL_DEL, listenerFD, nil)
                    Socket.close(listenerFD)
                    listenerFD = -1
                }
                acknowledge()
            case .drain:
                draining = true
                for connection in connections.values { connection.drain(now: now) }
            case .forceClose:
                for connection in connections.values { connection.close() }
            case .stop:
                running = false
            case .execute(let body):
                body()
            }
        }
    }

    /// Closes connections whose deadline passed; resumes a paused acceptor.
    func scanDeadlines(now: UInt64) {
        let expired = connections.values { $0.deadline != 0 && now >= $0.deadline }
        for connection in expired where !connection.state.isClosed {
            connection.timeOut(now: now)
        }
        if acceptPausedUntil != 0, now >= acceptPausedUntil, listenerFD >= 0 {
            acceptPausedUntil = 0
            modify(fd: listenerFD, token: UInt64(UInt32(bitPattern: listenerFD)), events: cepoll_in())
        }
    }

    // MARK: Accepting

    /// Accepts pending connections (bounded per wake-up) and deals them out round-robin.
    func acceptConnections(now: UInt64) {
        for _ in 0..<128 {
            guard listenerFD >= 0 else { return }
            switch Socket.accept(listenerFD) {
            case .accepted(let fd):
                guard !draining, context.openConnections.incrementIfBelow(configuration.maxConnections) else {
                    Socket.close(fd)
                    continue
                }
                let target = context.loops[nextLoopIndex % context.loops.count]
                nextLoopIndex &+= 1
                if target === loop {
                    adopt(fd, now: now)
                } else {
                    target.post(.adopt(fd))
                }
            case .wouldBlock:
                return
            case .exhausted:
                // Out of descriptors: stop watching the listener for a moment instead of spinning.
                acceptPausedUntil = now &+ 100_000_000
                modify(fd: listenerFD, token: UInt64(UInt32(bitPattern: listenerFD)), events: 0)
                return
            case .failed:
                continue
            }
        }
    }

    /// Takes ownership of a counted, accepted socket.
    func adopt(_ fd: Int32, now: UInt64) {
        if draining || !running {
            Socket.close(fd)
            context.openConnections.decrement()
            return
        }
        nextConnectionID &+= 1
        // 0 marks the wake and listener descriptors, and `sourceID` the sources.
        while nextConnectionID & 0xFFFF_FFFF == 0 || nextConnectionID & 0xFFFF_FFFF == Self.sourceID { nextConnectionID &+= 1 }
        let id = nextConnectionID
        let events = cepoll_in() | cepoll_rdhup()
        guard register(fd, token: Self.token(fd: fd, id: id), events: events) else {
            Socket.close(fd)
            context.openConnections.decrement()
            return
        }
        connections[fd] = HTTPConnection(fd: fd, id: id, core: self, now: now, registeredEvents: events)
    }

    // MARK: Connections

    /// Hands a complete request to the handler: without a task when it takes the request
    /// (``HTTPHandler/respond(to:with:)``), else in a task that prefers this loop as its executor, so it
    /// starts after the current batch of events, on this thread. Either way a response finished on this
    /// thread is written after the batch (``runTasks()``).
    func dispatch(_ request: HTTPRequest, connection: HTTPConnection) {
        let handler = context.handler
        let fd = connection.fd
        let id = connection.id
        let loop = self.loop
        if handler.respond(to: request, with: HTTPResponder(loop: loop, fd: fd, id: id)) { return }
        Task(executorPreference: loop) {
            let response = await handler.handle(request)
            loop.deliver(response, fd: fd, id: id)
        }
    }

    /// Runs the request tasks started or resumed by this turn's events, then writes the responses they
    /// finished with, and repeats while that starts more (pipelined requests), up to ``jobsPerTurn`` jobs.
    ///
    /// Each stage runs as one batch: first every request's handler, then every response's `send`. Sending
    /// each response as its handler returned interleaved the handler code with the kernel's TCP path and
    /// cost about a fifth more CPU per request at 50 connections (`bench/ab`).
    func runTasks() {
        var budget = Self.jobsPerTurn
        while loop.hasLocalJobs || !finished.isEmpty, budget > 0 {
            budget -= loop.runLocalJobs(limit: budget)
            guard !finished.isEmpty else { continue }
            swap(&finished, &writing)
            let now = Self.now
            for (fd, id, response) in writing { deliver(response, fd: fd, id: id, now: now) }
            writing.removeAll(keepingCapacity: true)
        }
    }

    /// Takes a response a task finished with on this thread; ``runTasks()`` writes it after the batch.
    func finish(_ response: HTTPResponse, fd: Int32, id: UInt64) {
        finished.append((fd, id, response))
    }

    /// Gives a handler's response to its connection, unless that connection is gone (`id` guards
    /// against a reused descriptor).
    func deliver(_ response: HTTPResponse, fd: Int32, id: UInt64, now: UInt64) {
        if let connection = connections[fd], connection.id == id {
            connection.deliver(response, now: now)
        }
    }

    /// Changes a connection's epoll interest.
    func modify(_ connection: HTTPConnection, events: UInt32) {
        modify(fd: connection.fd, token: Self.token(fd: connection.fd, id: connection.id), events: events)
    }

    /// Closes a connection's socket and forgets it.
    func remove(_ connection: HTTPConnection) {
        if connections[connection.fd] === connection {
            connections[connection.fd] = nil
        }
        Socket.close(connection.fd)
        context.openConnections.decrement()
    }

    // MARK: epoll

    /// The epoll token of a connection: its id's low 32 bits above its descriptor.
    static func token(fd: Int32, id: UInt64) -> UInt64 {
        (id & 0xFFFF_FFFF) << 32 | UInt64(UInt32(bitPattern: fd))
    }

    /// Adds `fd` to the epoll set (level-triggered).
    @discardableResult
    func register(_ fd: Int32, token: UInt64, events: UInt32) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        return epoll_ctl(loop.epollFD, EPOLL_CTL_ADD, fd, &event) == 0
    }

    /// Changes the interest of `fd`.
    func modify(fd: Int32, token: UInt64, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        _ = epoll_ctl(loop.epollFD, EPOLL_CTL_MOD, fd, &event)
    }
}
