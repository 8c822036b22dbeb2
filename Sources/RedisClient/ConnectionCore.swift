#if canImport(Glibc)
import Glibc
#endif
import CEpoll
import Foundation
import Synchronization

/// The I/O engine behind one ``RedisConnection``.
///
/// Callers encode their command into a shared outbound buffer and enqueue a ``ReplyWaiter``, both under
/// one lock so that the byte order on the wire equals the order of the reply queue. One dedicated
/// thread per connection owns the non-blocking ``Transport`` (plain TCP or TLS): it `poll`s the socket and an
/// `eventfd` (rung when the outbound buffer goes from empty to non-empty), writes everything queued in as few
/// writes as possible, reads into a 64 KiB buffer, parses replies and resumes their waiters in FIFO order.
/// A transport that allows it (plain TCP) is also written by callers directly; TLS is only touched by the I/O
/// thread, which also serves TLS's want-read-to-write and want-write-to-read cases.
/// The poll timeout is the oldest command's deadline; when it passes, that command fails with
/// ``RedisClientError/Code/timeout`` and the connection is closed, because later replies would be mismatched.
///
/// A plain-TCP connection can move onto an ``IOReactor`` (the HTTP server's event loop whose requests use
/// it): its I/O thread then hands the parser and buffers to the reactor and ends, and the reactor reads,
/// parses and resumes on its own thread, finishes writes the callers could not, and checks the deadline on
/// its ticks. When the reactor stops, the connection gets an I/O thread again.
final class ConnectionCore: Sendable {
    private struct Pending {
        /// A `Pending` leaves `State.pending` exactly once, under the lock (a reply, a timeout or
        /// termination), and only the one who took it out resumes its waiter.
        let waiter: ReplyWaiter
        let deadline: ContinuousClock.Instant
        /// `State.queuedBytes` once the command was queued: it has reached the socket whole when
        /// `State.sentBytes` is at least this.
        let end: UInt64
    }

    /// Who is writing to the socket. Exactly one writer at a time keeps commands in order.
    private enum Writer {
        /// Nobody: the next sender writes itself.
        case none
        /// A sender is writing; others append to `outbound` and it sends those too.
        case caller
        /// The I/O thread is finishing a write the socket could not take at once.
        case ioThread
    }

    private struct State {
        var outbound: [UInt8] = []
        /// Bytes ever queued, and bytes ever written to the transport; together they tell whether a
        /// failed command may have reached Redis (``RedisClientError/commandWasSent``).
        var queuedBytes: UInt64 = 0
        var sentBytes: UInt64 = 0
        var writer = Writer.none
        var pending = FIFO<Pending>()
        /// Set once the connection is closing; every later command fails with it at once.
        var closeReason: RedisClientError?
        /// Set once the I/O thread has released the socket.
        var terminated = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        /// Who drives the socket.
        var mode = Mode.thread
        /// On a reactor: whether a flush is due before it next waits (commands queued on its thread).
        var flushScheduled = false
    }

    /// Who reads the socket, finishes writes the callers could not, and watches deadlines.
    private enum Mode {
        /// The connection's own I/O thread.
        case thread
        /// The I/O thread is handing the socket to a reactor (it stops at its next turn).
        case handingOver(any IOReactor)
        /// A reactor's thread (``IOReactorSource``).
        case reactor(any IOReactor)

        var reactor: (any IOReactor)? {
            switch self {
            case .thread: nil
            case .handingOver(let reactor), .reactor(let reactor): reactor
            }
        }
    }

    /// What the driving thread keeps between turns; it moves from the I/O thread to a reactor and back,
    /// and only the driving thread touches it. A class, so that moving it copies nothing.
    private final class Driver: @unchecked Sendable {
        var parser: RESPParser
        /// The batch being written by the driver (the writer role `.ioThread`), and how much of it is out.
        var writing: [UInt8] = []
        var written = 0
        /// TLS only: the last write needs the socket readable, or the last read needs it writable.
        var writeWaitsForRead = false
        var readWaitsForWrite = false
        let readBuffer: UnsafeMutableRawBufferPointer
        /// Reused by every `receive`, so a batch of replies costs no array allocation.
        var scratch = ReceiveScratch()
        /// On a reactor: whether writability events are asked for.
        var watchesWritable = false
        /// The reactor driving the socket, once adopted.
        var reactor: (any IOReactor)?

        init(parser: RESPParser) {
            self.parser = parser
            readBuffer = .allocate(byteCount: ConnectionCore.readChunk, alignment: 16)
        }
    }

    fileprivate static let readChunk = 64 * 1024
    /// Longest the I/O thread sleeps before checking command deadlines (a timeout fires at most this late).
    private static let deadlineCheckMilliseconds: Int32 = 100

    private let transport: any Transport
    private let wakeFD: Int32
    private let commandTimeout: Duration
    private let target: String
    /// Receives Pub/Sub messages (arrays whose first element is `message`), which answer no command.
    private let pushHandler: (@Sendable (RESPValue) -> Void)?
    private let state = Mutex(State())
    /// The driver while a reactor drives the socket; touched only on the reactor's thread (and, once
    /// that reactor has stopped, by the closures it left, which find it nil).
    nonisolated(unsafe) private var reactorDriver: Driver?

    /// Takes ownership of a connected non-blocking transport and starts the I/O thread.
    /// - Throws: ``RedisClientError`` when the wake-up `eventfd` cannot be created (the transport is then closed).
    init(
        transport: any Transport, commandTimeout: Duration, target: String, parser: RESPParser,
        pushHandler: (@Sendable (RESPValue) -> Void)? = nil
    ) throws(RedisClientError) {
        let wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard wakeFD >= 0 else {
            let error = RedisClientError.syscall(.connectionFailed, "eventfd()")
            transport.close()
            throw error
        }
        self.transport = transport
        self.wakeFD = wakeFD
        self.commandTimeout = commandTimeout
        self.target = target
        self.pushHandler = pushHandler
        startThread(Driver(parser: parser))
    }

    /// Starts an I/O thread that drives the socket from `driver`'s state.
    private func startThread(_ driver: Driver) {
        let thread = Thread { [self] in self.threadMain(driver) }
        thread.name = "redis-io \(target)"
        thread.start()
    }

    deinit {
        // Closed here rather than by the I/O thread: a sender may ring it right after the thread exits.
        Glibc.close(wakeFD)
    }

    /// Whether the connection is closing or closed; commands then fail at once.
    var isClosed: Bool { state.withLock { $0.closeReason != nil } }

    /// Queues one command and waits for its reply (error replies are returned, not thrown).
    ///
    /// When nobody is writing, the caller writes the command itself (and whatever other callers
    /// queue meanwhile), so a command costs no wake-up of the I/O thread. Only when the socket is
    /// full does the rest go to the I/O thread, which waits for it to drain. A transport that does not
    /// allow concurrent writes (TLS) is always written by the I/O thread, woken when the outbound buffer
    /// stops being empty. (Measured: that beats callers writing TLS under a lock, which then contend with
    /// the I/O thread's reads.) On a reactor (``handOver(to:)``), a caller on the reactor's own thread only
    /// queues its command: the reactor writes every command of its turn in one write before it waits.
    func send(_ arguments: [[UInt8]]) async throws -> RESPValue {
        // Encoded before the lock is taken: senders on other threads wait only for the append.
        let command = RESPEncoder.encoded(arguments)
        return try await withUnsafeThrowingContinuation { continuation in
            enqueue(command, .task(continuation))
        }
    }

    /// ``send(_:)`` without a task: `reply` gets the reply in place exactly once, on the thread that reads it (the
    /// reactor's, once handed over), or at once on the caller's thread when the connection is closing: an error
    /// reply as ``RedisError``, a broken connection or timeout as ``RedisClientError``. It must not block; it may
    /// send more commands.
    func send(_ command: RESPCommand, reply: @escaping @Sendable (Result<RESPReply, any Error>) -> Void) {
        enqueue(command.bytes, .inPlace(reply))
    }

    /// Queues an encoded command with the waiter of its reply, and writes it or gets it written.
    private func enqueue(_ command: [UInt8], _ waiter: ReplyWaiter) {
        let callerMayWrite = transport.allowsConcurrentWrites
        let deadline = ContinuousClock.now + commandTimeout
        let step: EnqueueStep = state.withLock { state in
            if let reason = state.closeReason { return .fail(reason) }
            let wasEmpty = state.outbound.isEmpty
            if wasEmpty { state.outbound = command } else { state.outbound.append(contentsOf: command) }
            state.queuedBytes += UInt64(command.count)
            state.pending.append(Pending(waiter: waiter, deadline: deadline, end: state.queuedBytes))
            if case .reactor(let reactor) = state.mode, reactor.isCurrent {
                // On the reactor's thread: the reactor writes the turn's commands together before it waits.
                guard !state.flushScheduled else { return .nothing }
                state.flushScheduled = true
                return .scheduleFlush(reactor)
            }
            guard case .none = state.writer else { return .nothing }
            guard callerMayWrite else { return wasEmpty ? .wakeIOThread : .nothing }
            state.writer = .caller
            var batch: [UInt8] = []
            swap(&batch, &state.outbound)
            return .write(batch)
        }
        switch step {
        case .nothing: break
        case .fail(let error): waiter.resume(throwing: error)
        case .scheduleFlush(let reactor): reactor.scheduleFlush(transport.fd)
        case .write(let batch): writeAsCaller(batch)
        case .wakeIOThread: wake()
        }
    }

    /// What a sender does once its command is queued. (An enum rather than a tuple of optionals: copying the
    /// tuple out of the lock went through an outlined copy of every member, about 300 instructions a command.)
    private enum EnqueueStep {
        /// Someone else writes it.
        case nothing
        /// The connection is closing: the command fails at once.
        case fail(RedisClientError)
        /// On the reactor's thread: the reactor writes the turn's commands before it waits.
        case scheduleFlush(any IOReactor)
        /// The sender writes the batch itself.
        case write([UInt8])
        /// The I/O thread writes it (TLS), woken because the outbound buffer stopped being empty.
        case wakeIOThread
    }

    /// Sends `batch` and anything queued meanwhile, as the current writer, without blocking.
    private func writeAsCaller(_ first: [UInt8]) {
        var batch = first
        while true {
            var written = 0
            let failure = flush(batch, from: &written).failure
            let next: [UInt8]? = state.withLock { state in
                state.sentBytes += UInt64(written)
                if state.closeReason != nil {
                    // Closing: the I/O thread fails every pending command; stop writing.
                    state.writer = .none
                    written = batch.count
                    return nil
                }
                if failure != nil || written < batch.count {
                    // Broken, or the socket is full: the I/O thread takes over what is left,
                    // ahead of anything queued since.
                    if failure == nil { state.outbound = Array(batch[written...]) + state.outbound }
                    state.writer = .none
                    return nil
                }
                guard !state.outbound.isEmpty else {
                    state.writer = .none
                    return nil
                }
                var more: [UInt8] = []
                swap(&more, &state.outbound)
                return more
            }
            if let failure {
                close(reason: failure)
                return
            }
            if written < batch.count {
                wake()
                return
            }
            guard let next else { return }
            batch = next
        }
    }

    /// Starts closing: queued and later commands fail with `reason`; the I/O thread then releases the socket.
    func close(reason: RedisClientError = RedisClientError(.connectionClosed, "connection closed by the client")) {
        let changed = state.withLock { state in
            guard state.closeReason == nil else { return false }
            state.closeReason = reason
            return true
        }
        if changed { wake() }
    }

    /// Returns once the connection is closed and its socket released.
    func waitUntilClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.terminated { return true }
                state.closeWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Gets the driver to look at the state: the reactor through its queue, the I/O thread through the eventfd.
    private func wake() {
        if let reactor = state.withLock({ $0.mode.reactor }),
           reactor.execute({ [self] in self.service(readable: false, writable: false) }) {
            return
        }
        wakeThread()
    }

    private func wakeThread() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    /// Moves the socket from the I/O thread to `reactor`, which then reads replies and resumes their callers
    /// on its own thread. Plain TCP only (TLS stays on its I/O thread); a no-op for a closing connection or
    /// one already handed over. The I/O thread stops at its next turn and gives the reactor its parser,
    /// with nothing lost: bytes that arrive meanwhile wait in the socket, and callers keep writing.
    /// - Returns: Whether the hand-over started.
    @discardableResult
    func handOver(to reactor: any IOReactor) -> Bool {
        guard transport.allowsConcurrentWrites, !transport.hasBufferedInput else { return false }
        let started = state.withLock { state -> Bool in
            guard state.closeReason == nil, case .thread = state.mode else { return false }
            state.mode = .handingOver(reactor)
            return true
        }
        if started { wakeThread() }
        return started
    }
}

// MARK: - I/O thread

extension ConnectionCore {
    /// Why the I/O thread's loop ended.
    private enum ThreadExit {
        case terminate
        case handOver(any IOReactor)
    }

    /// The I/O thread: drives the socket until the connection closes, or hands it to a reactor.
    private func threadMain(_ driver: Driver) {
        // The kernel's name for the thread too (`ps -L`, /proc/<pid>/task/*/comm).
        cepoll_set_thread_name("redis-io")
        while true {
            switch runThread(driver) {
            case .terminate:
                terminate(driver)
                return
            case .handOver(let reactor):
                if reactor.execute({ [self] in self.adopt(driver, on: reactor) }) { return }
                // The reactor has stopped: keep driving here.
                state.withLock { $0.mode = .thread }
            }
        }
    }

    /// Once the driver's batch is written, gives up the writer role, and takes over bytes a sender could not
    /// write (the socket was full), or that senders on the reactor's thread queued, when no sender is writing.
    private static func takeOverWrites(_ state: inout State, _ driver: Driver) {
        guard driver.written == driver.writing.count else { return }
        if case .ioThread = state.writer { state.writer = .none }
        if case .none = state.writer, !state.outbound.isEmpty {
            swap(&driver.writing, &state.outbound)
            state.outbound.removeAll(keepingCapacity: state.outbound.capacity <= 1 << 20)
            driver.written = 0
            state.writer = .ioThread
        }
    }

    /// Gives back what the driver has not written yet, ahead of what senders queued since, and the writer
    /// role, so that the next driver (or sender) writes it first.
    private func returnWrites(_ driver: Driver) {
        state.withLock { state in
            if driver.written < driver.writing.count {
                state.outbound = Array(driver.writing[driver.written...]) + state.outbound
            }
            if case .ioThread = state.writer { state.writer = .none }
        }
        driver.writing = []
        driver.written = 0
    }

    private func runThread(_ driver: Driver) -> ThreadExit {
        while true {
            let (closing, headDeadline, mode) = state.withLock { state in
                Self.takeOverWrites(&state, driver)
                return (state.closeReason != nil, state.pending.first?.deadline, state.mode)
            }
            if closing { return .terminate }
            if case .handingOver(let reactor) = mode {
                returnWrites(driver)
                return .handOver(reactor)
            }

            if driver.written < driver.writing.count {
                let before = driver.written
                let outcome = flush(driver.writing, from: &driver.written)
                if driver.written > before { state.withLock { $0.sentBytes += UInt64(driver.written - before) } }
                if let error = outcome.failure {
                    fail(error)
                    return .terminate
                }
                driver.writeWaitsForRead = outcome.waitsForRead
                // Written whole: loop to release the writer role before sleeping in poll.
                if driver.written == driver.writing.count { continue }
            }

            let wantsWritable = (driver.written < driver.writing.count && !driver.writeWaitsForRead) || driver.readWaitsForWrite
            var descriptors = [
                pollfd(fd: transport.fd, events: Int16(POLLIN) | (wantsWritable ? Int16(POLLOUT) : 0), revents: 0),
                pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            // Senders do not wake this thread, so it looks at the oldest command's deadline at
            // least every `deadlineCheckMilliseconds`. Decrypted bytes already buffered are read at once.
            let buffered = transport.hasBufferedInput
            let timeout = buffered ? 0 : min(headDeadline.map { Socket.milliseconds(until: $0) } ?? Self.deadlineCheckMilliseconds, Self.deadlineCheckMilliseconds)
            let ready = poll(&descriptors, 2, timeout)
            if ready < 0 && errno != EINTR {
                fail(.syscall(.connectionClosed, "poll()"))
                return .terminate
            }
            if descriptors[1].revents != 0 {
                var counter: UInt64 = 0
                _ = Glibc.read(wakeFD, &counter, 8)
            }
            let readable = descriptors[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
            let writable = descriptors[0].revents & Int16(POLLOUT) != 0
            if readable || buffered || (driver.readWaitsForWrite && writable) {
                let outcome = receive(into: driver.readBuffer, parser: &driver.parser, scratch: &driver.scratch)
                if let error = outcome.failure {
                    fail(error)
                    return .terminate
                }
                driver.readWaitsForWrite = outcome.waitsForWrite
            }
            if headDeadline != nil && failHeadIfExpired() {
                return .terminate
            }
        }
    }

    /// Writes as much of `bytes[written...]` as the transport accepts without blocking.
    /// - Returns: An error when the connection broke, and whether the write waits for the socket to be
    ///   readable (TLS) rather than writable.
    private func flush(_ bytes: [UInt8], from written: inout Int) -> (failure: RedisClientError?, waitsForRead: Bool) {
        while written < bytes.count {
            let offset = written
            let result = bytes.withUnsafeBytes { raw in
                transport.write(UnsafeRawBufferPointer(rebasing: raw[offset...]))
            }
            switch result {
            case .transferred(let count): written += count
            case .wantWrite: return (nil, false)
            case .wantRead: return (nil, true)
            case .closed: return (RedisClientError(.connectionClosed, "\(target) closed the connection"), false)
            case .failed(let error): return (error, false)
            }
        }
        return (nil, false)
    }

    /// Reads what is available, parses complete replies and resumes their callers in order.
    /// - Returns: An error when the connection broke or the server violated the protocol, and whether the
    ///   read waits for the socket to be writable (TLS).
    private func receive(
        into buffer: UnsafeMutableRawBufferPointer, parser: inout RESPParser, scratch: inout ReceiveScratch
    ) -> (failure: RedisClientError?, waitsForWrite: Bool) {
        defer { scratch.clear() }
        var failure: RedisClientError?
        var waitsForWrite = false
        reading: for _ in 0..<64 {  // bounded, so a fast sender cannot starve writes and timeouts
            switch transport.read(into: buffer) {
            case .transferred(let count):
                parser.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                if count < buffer.count && transport.shortReadMeansDrained { break reading }
            case .wantRead:
                break reading
            case .wantWrite:
                waitsForWrite = true
                break reading
            case .closed:
                failure = RedisClientError(.connectionClosed, "\(target) closed the connection")
                break reading
            case .failed(let error):
                failure = error
                break reading
            }
        }

        do {
            while let frame = try parser.nextFrame() {
                if let pushHandler, case let value = parser.value(in: frame), Self.isPubSubMessage(value) {
                    pushHandler(value)
                } else {
                    scratch.frames.append(frame)
                }
            }
        } catch {
            failure = RedisClientError(.protocolViolation, "invalid reply from \(target): \(error.message)")
        }
        guard !scratch.frames.isEmpty else {
            parser.releaseConsumed()
            return (failure, waitsForWrite)
        }

        let replyCount = scratch.frames.count
        let unexpected: Bool = state.withLock { state in
            for _ in 0..<replyCount {
                guard let pending = state.pending.popFirst() else { return true }
                scratch.matched.append(pending.waiter)
            }
            return false
        }
        // The frames stay in the parser's buffer until every waiter has had its reply.
        for (waiter, frame) in zip(scratch.matched, scratch.frames) {
            waiter.resume(returning: frame, in: parser)
        }
        parser.releaseConsumed()
        if unexpected {
            return (RedisClientError(.protocolViolation, "\(target) sent a reply to no command"), false)
        }
        return (failure, waitsForWrite)
    }

    /// The I/O thread's buffers for one batch of replies and the commands they answer, emptied after each batch.
    private struct ReceiveScratch {
        /// Where the replies lie in the parser's buffer.
        var frames: [Range<Int>] = []
        var matched: [ReplyWaiter] = []

        mutating func clear() {
            frames.removeAll(keepingCapacity: frames.capacity <= 1024)
            matched.removeAll(keepingCapacity: matched.capacity <= 1024)
        }
    }

    /// Whether `reply` is a Pub/Sub message (`["message", channel, payload]`) rather than a command's reply.
    private static func isPubSubMessage(_ reply: RESPValue) -> Bool {
        guard case .array(let elements?) = reply, let kind = elements.first?.bytes else { return false }
        return kind == Array("message".utf8)
    }

    /// When the oldest command waiting is past its deadline, fails it with a timeout and marks the
    /// connection closing (later replies would be mismatched).
    /// - Returns: Whether a command timed out.
    private func failHeadIfExpired() -> Bool {
        let now = ContinuousClock.now
        let head: (Pending, Bool)? = state.withLock { state in
            guard let first = state.pending.first, now >= first.deadline else { return nil }
            if state.closeReason == nil {
                state.closeReason = RedisClientError(
                    .connectionClosed, "connection to \(target) closed because a command timed out")
            }
            return state.pending.popFirst().map { ($0, $0.end <= state.sentBytes) }
        }
        guard let (pending, sent) = head else { return false }
        pending.waiter.resume(throwing: RedisClientError(
            .timeout, "no reply from \(target) within \(commandTimeout)").sent(sent))
        return true
    }

    /// Records why the connection broke; ``terminate()`` fails the queued commands with it.
    private func fail(_ error: RedisClientError) {
        state.withLock { state in
            if state.closeReason == nil { state.closeReason = error }
        }
    }

    /// Releases the socket and the driver's buffer, and fails every command still waiting.
    private func terminate(_ driver: Driver) {
        driver.readBuffer.deallocate()
        driver.writing = []
        let (pending, waiters, reason) = state.withLock { state in
            let reason = state.closeReason ?? RedisClientError(.connectionClosed, "connection closed")
            state.closeReason = reason
            state.terminated = true
            let waiters = state.closeWaiters
            state.closeWaiters = []
            state.outbound = []
            let sentBytes = state.sentBytes
            return (state.pending.removeAll().map { ($0, $0.end <= sentBytes) }, waiters, reason)
        }
        // A sender may be inside a non-blocking send(2) on this socket; close only after it is out,
        // so the descriptor number cannot be reused under it. (No new sender starts: closeReason is set.)
        for _ in 0..<100_000 {
            let callerWriting = state.withLock { state in
                if case .caller = state.writer { return true }
                return false
            }
            if !callerWriting { break }
            usleep(50)
        }
        transport.close()
        for (entry, sent) in pending { entry.waiter.resume(throwing: reason.sent(sent)) }
        for waiter in waiters { waiter.resume() }
    }
}

// MARK: - On a reactor

extension ConnectionCore: IOReactorSource {
    /// Takes the socket over from the I/O thread, on the reactor's thread; falls back to a new I/O thread
    /// when the reactor cannot watch it (it stopped meanwhile).
    private func adopt(_ handed: Driver, on reactor: any IOReactor) {
        guard reactor.isCurrent, reactor.watch(transport.fd, source: self) else {
            state.withLock { $0.mode = .thread }
            startThread(handed)
            return
        }
        state.withLock { $0.mode = .reactor(reactor) }
        handed.reactor = reactor
        reactorDriver = handed
        // Replies that arrived during the hand-over, writes queued meanwhile, or a close.
        service(readable: true, writable: false)
    }

    public func reactorEvents(readable: Bool, writable: Bool) {
        service(readable: readable, writable: writable)
    }

    public func reactorTick() {
        guard reactorDriver != nil else { return }
        if failHeadIfExpired() {
            finishOnReactor()
        } else {
            service(readable: false, writable: false)
        }
    }

    public func reactorFlush() {
        service(readable: false, writable: false, flushing: true)
    }

    public func reactorStopping() {
        guard let driver = reactorDriver else { return }
        reactorDriver = nil
        // The reactor has already stopped watching the socket: drive it from a thread of its own again.
        returnWrites(driver)
        driver.watchesWritable = false
        driver.reactor = nil
        state.withLock { state in
            state.mode = .thread
            state.flushScheduled = false
        }
        startThread(driver)
    }

    /// One turn on the reactor: writes what the driver or stuck senders left, reads and resumes replies,
    /// and closes the connection when it is closing or broke. Reactor thread only; a no-op before the
    /// hand-over arrives or after the connection left the reactor.
    private func service(readable: Bool, writable: Bool, flushing: Bool = false) {
        guard let driver = reactorDriver, let reactor = driver.reactor, reactor.isCurrent else { return }
        var broken = false
        writing: while true {
            let closing = state.withLock { state in
                if flushing { state.flushScheduled = false }
                Self.takeOverWrites(&state, driver)
                return state.closeReason != nil
            }
            if closing {
                broken = true
                break writing
            }
            guard driver.written < driver.writing.count else { break writing }
            let before = driver.written
            let outcome = flush(driver.writing, from: &driver.written)
            if driver.written > before { state.withLock { $0.sentBytes += UInt64(driver.written - before) } }
            if let error = outcome.failure {
                fail(error)
                broken = true
                break writing
            }
            // The socket is full: wait for writability.
            if driver.written < driver.writing.count { break writing }
        }
        if !broken && readable {
            let outcome = receive(into: driver.readBuffer, parser: &driver.parser, scratch: &driver.scratch)
            if let error = outcome.failure {
                fail(error)
                broken = true
            }
        }
        if broken {
            finishOnReactor()
            return
        }
        let wantsWritable = driver.written < driver.writing.count
        if wantsWritable != driver.watchesWritable {
            reactor.setWantsWritable(transport.fd, wantsWritable)
            driver.watchesWritable = wantsWritable
        }
    }

    /// Leaves the reactor and releases the connection (reactor thread).
    private func finishOnReactor() {
        guard let driver = reactorDriver else { return }
        reactorDriver = nil
        driver.reactor?.unwatch(transport.fd)
        terminate(driver)
    }
}

/// Who waits for a command's reply: a suspended task, or a callback that reads it in place.
enum ReplyWaiter: Sendable {
    /// Unsafe rather than checked (which allocates a canary object per command): see `Pending`.
    case task(UnsafeContinuation<RESPValue, any Error>)
    /// Called on the thread that resumes it (``ConnectionCore/send(_:reply:)``), with the reply's bytes in place.
    /// An error reply reaches it as ``RedisError``: mapped here, so callers pass their own callback down
    /// rather than wrapping it in one more closure per command.
    case inPlace(@Sendable (Result<RESPReply, any Error>) -> Void)

    /// Resumes the waiter with the reply in `frame` of `parser`'s buffer.
    func resume(returning frame: Range<Int>, in parser: RESPParser) {
        switch self {
        case .task(let continuation): continuation.resume(returning: parser.value(in: frame))
        case .inPlace(let callback):
            parser.withBytes(of: frame) { bytes in
                let reply = RESPReply(bytes: bytes)
                if let message = reply.errorMessage { return callback(.failure(RedisError(message: message))) }
                callback(.success(reply))
            }
        }
    }

    func resume(throwing error: RedisClientError) {
        switch self {
        case .task(let continuation): continuation.resume(throwing: error)
        case .inPlace(let reply): reply(.failure(error))
        }
    }
}
