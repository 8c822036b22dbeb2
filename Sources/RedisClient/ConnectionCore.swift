#if canImport(Glibc)
import Glibc
#endif
import CEpoll
import Foundation
import Synchronization

/// The I/O engine behind one ``RedisConnection``.
///
/// Callers encode their command into a shared outbound buffer and enqueue a continuation, both under
/// one lock so that the byte order on the wire equals the order of the reply queue. One dedicated
/// thread per connection owns the non-blocking ``Transport`` (plain TCP or TLS): it `poll`s the socket and an
/// `eventfd` (rung when the outbound buffer goes from empty to non-empty), writes everything queued in as few
/// writes as possible, reads into a 64 KiB buffer, parses replies and resumes continuations in FIFO order.
/// A transport that allows it (plain TCP) is also written by callers directly; TLS is only touched by the I/O
/// thread, which also serves TLS's want-read-to-write and want-write-to-read cases.
/// The poll timeout is the oldest command's deadline; when it passes, that command fails with
/// ``RedisClientError/Code/timeout`` and the connection is closed, because later replies would be mismatched.
final class ConnectionCore: Sendable {
    private struct Pending {
        /// Unsafe rather than checked (which allocates a canary object per command): a `Pending` leaves
        /// `State.pending` exactly once, under the lock (a reply, a timeout or termination), and only the
        /// one who took it out resumes it.
        let continuation: UnsafeContinuation<RESPValue, any Error>
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
    }

    private static let readChunk = 64 * 1024
    /// Longest the I/O thread sleeps before checking command deadlines (a timeout fires at most this late).
    private static let deadlineCheckMilliseconds: Int32 = 100

    private let transport: any Transport
    private let wakeFD: Int32
    private let commandTimeout: Duration
    private let target: String
    /// Receives Pub/Sub messages (arrays whose first element is `message`), which answer no command.
    private let pushHandler: (@Sendable (RESPValue) -> Void)?
    private let state = Mutex(State())

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
        let thread = Thread { [self] in self.run(parser: parser) }
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
    /// the I/O thread's reads.)
    func send(_ arguments: [[UInt8]]) async throws -> RESPValue {
        let callerMayWrite = transport.allowsConcurrentWrites
        // Encoded before the lock is taken: senders on other threads wait only for the append.
        let command = RESPEncoder.encoded(arguments)
        return try await withUnsafeThrowingContinuation { continuation in
            let deadline = ContinuousClock.now + commandTimeout
            let outcome: (batch: [UInt8]?, error: RedisClientError?, wake: Bool) = state.withLock { state in
                if let reason = state.closeReason { return (nil, reason, false) }
                let wasEmpty = state.outbound.isEmpty
                if wasEmpty { state.outbound = command } else { state.outbound.append(contentsOf: command) }
                state.queuedBytes += UInt64(command.count)
                state.pending.append(Pending(continuation: continuation, deadline: deadline, end: state.queuedBytes))
                guard case .none = state.writer else { return (nil, nil, false) }
                guard callerMayWrite else { return (nil, nil, wasEmpty) }
                state.writer = .caller
                var batch: [UInt8] = []
                swap(&batch, &state.outbound)
                return (batch, nil, false)
            }
            if let error = outcome.error {
                continuation.resume(throwing: error)
            } else if let batch = outcome.batch {
                writeAsCaller(batch)
            } else if outcome.wake {
                wake()
            }
        }
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

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }
}

// MARK: - I/O thread

extension ConnectionCore {
    private func run(parser initialParser: RESPParser) {
        var parser = initialParser
        var writing: [UInt8] = []
        var written = 0
        // TLS only: the last write needs the socket readable, or the last read needs it writable.
        var writeWaitsForRead = false
        var readWaitsForWrite = false
        let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readChunk, alignment: 16)
        defer { readBuffer.deallocate() }
        // Reused by every `receive`, so a batch of replies costs no array allocation.
        var scratch = ReceiveScratch()

        loop: while true {
            // Once the previous batch is written, give up the writer role, and take over bytes a
            // sender could not write (the socket was full) when no sender is writing.
            let (closing, headDeadline): (Bool, ContinuousClock.Instant?) = state.withLock { state in
                if written == writing.count {
                    if case .ioThread = state.writer { state.writer = .none }
                    if case .none = state.writer, !state.outbound.isEmpty {
                        swap(&writing, &state.outbound)
                        state.outbound.removeAll(keepingCapacity: state.outbound.capacity <= 1 << 20)
                        written = 0
                        state.writer = .ioThread
                    }
                }
                return (state.closeReason != nil, state.pending.first?.deadline)
            }
            if closing { break loop }

            if written < writing.count {
                let before = written
                let outcome = flush(writing, from: &written)
                if written > before { state.withLock { $0.sentBytes += UInt64(written - before) } }
                if let error = outcome.failure {
                    fail(error)
                    break loop
                }
                writeWaitsForRead = outcome.waitsForRead
                // Written whole: loop to release the writer role before sleeping in poll.
                if written == writing.count { continue loop }
            }

            let wantsWritable = (written < writing.count && !writeWaitsForRead) || readWaitsForWrite
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
                break loop
            }
            if descriptors[1].revents != 0 {
                var counter: UInt64 = 0
                _ = Glibc.read(wakeFD, &counter, 8)
            }
            let readable = descriptors[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
            let writable = descriptors[0].revents & Int16(POLLOUT) != 0
            if readable || buffered || (readWaitsForWrite && writable) {
                let outcome = receive(into: readBuffer, parser: &parser, scratch: &scratch)
                if let error = outcome.failure {
                    fail(error)
                    break loop
                }
                readWaitsForWrite = outcome.waitsForWrite
            }
            if headDeadline != nil && failHeadIfExpired() {
                break loop
            }
        }
        terminate()
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
            while let reply = try parser.next() {
                if let pushHandler, Self.isPubSubMessage(reply) {
                    pushHandler(reply)
                } else {
                    scratch.replies.append(reply)
                }
            }
        } catch {
            failure = RedisClientError(.protocolViolation, "invalid reply from \(target): \(error.message)")
        }
        guard !scratch.replies.isEmpty else { return (failure, waitsForWrite) }

        let replyCount = scratch.replies.count
        let unexpected: Bool = state.withLock { state in
            for _ in 0..<replyCount {
                guard let pending = state.pending.popFirst() else { return true }
                scratch.matched.append(pending.continuation)
            }
            return false
        }
        for (continuation, reply) in zip(scratch.matched, scratch.replies) {
            continuation.resume(returning: reply)
        }
        if unexpected {
            return (RedisClientError(.protocolViolation, "\(target) sent a reply to no command"), false)
        }
        return (failure, waitsForWrite)
    }

    /// The I/O thread's buffers for one batch of replies and the commands they answer, emptied after each batch.
    private struct ReceiveScratch {
        var replies: [RESPValue] = []
        var matched: [UnsafeContinuation<RESPValue, any Error>] = []

        mutating func clear() {
            replies.removeAll(keepingCapacity: replies.capacity <= 1024)
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
        pending.continuation.resume(throwing: RedisClientError(
            .timeout, "no reply from \(target) within \(commandTimeout)").sent(sent))
        return true
    }

    /// Records why the connection broke; ``terminate()`` fails the queued commands with it.
    private func fail(_ error: RedisClientError) {
        state.withLock { state in
            if state.closeReason == nil { state.closeReason = error }
        }
    }

    /// Releases the socket and fails every command still waiting.
    private func terminate() {
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
        for (entry, sent) in pending { entry.continuation.resume(throwing: reason.sent(sent)) }
        for waiter in waiters { waiter.resume() }
    }
}
