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
/// thread per connection owns the non-blocking socket: it `poll`s the socket and an `eventfd` (rung when
/// the outbound buffer goes from empty to non-empty), writes everything queued in as few `send` calls as
/// possible, reads into a 64 KiB buffer, parses replies and resumes continuations in FIFO order.
/// The poll timeout is the oldest command's deadline; when it passes, that command fails with
/// ``RedisClientError/Code/timeout`` and the connection is closed, because later replies would be mismatched.
final class ConnectionCore: Sendable {
    private struct Pending {
        let continuation: CheckedContinuation<RESPValue, any Error>
        let deadline: ContinuousClock.Instant
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

    private let fd: Int32
    private let wakeFD: Int32
    private let commandTimeout: Duration
    private let target: String
    private let state = Mutex(State())

    /// Takes ownership of a connected non-blocking socket and starts the I/O thread.
    /// - Throws: ``RedisClientError`` when the wake-up `eventfd` cannot be created (the socket is then closed).
    init(fd: Int32, commandTimeout: Duration, target: String, parser: RESPParser) throws(RedisClientError) {
        let wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard wakeFD >= 0 else {
            let error = RedisClientError.syscall(.connectionFailed, "eventfd()")
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
        self.wakeFD = wakeFD
        self.commandTimeout = commandTimeout
        self.target = target
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
    /// full does the rest go to the I/O thread, which waits for it to drain.
    func send(_ arguments: [[UInt8]]) async throws -> RESPValue {
        try await withCheckedThrowingContinuation { continuation in
            let deadline = ContinuousClock.now + commandTimeout
            let outcome: (batch: [UInt8]?, error: RedisClientError?) = state.withLock { state in
                if let reason = state.closeReason { return (nil, reason) }
                RESPEncoder.encode(arguments, into: &state.outbound)
                state.pending.append(Pending(continuation: continuation, deadline: deadline))
                guard case .none = state.writer else { return (nil, nil) }
                state.writer = .caller
                var batch: [UInt8] = []
                swap(&batch, &state.outbound)
                return (batch, nil)
            }
            if let error = outcome.error {
                continuation.resume(throwing: error)
            } else if let batch = outcome.batch {
                writeAsCaller(batch)
            }
        }
    }

    /// Sends `batch` and anything queued meanwhile, as the current writer, without blocking.
    private func writeAsCaller(_ first: [UInt8]) {
        var batch = first
        while true {
            var written = 0
            let failure = flush(batch, from: &written)
            let next: [UInt8]? = state.withLock { state in
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
        let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readChunk, alignment: 16)
        defer { readBuffer.deallocate() }

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
                if let error = flush(writing, from: &written) {
                    fail(error)
                    break loop
                }
                // Written whole: loop to release the writer role before sleeping in poll.
                if written == writing.count { continue loop }
            }

            var descriptors = [
                pollfd(fd: fd, events: Int16(POLLIN) | (written < writing.count ? Int16(POLLOUT) : 0), revents: 0),
                pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            // Senders do not wake this thread, so it looks at the oldest command's deadline at
            // least every `deadlineCheckMilliseconds`.
            let timeout = min(headDeadline.map { Socket.milliseconds(until: $0) } ?? Self.deadlineCheckMilliseconds, Self.deadlineCheckMilliseconds)
            let ready = poll(&descriptors, 2, timeout)
            if ready < 0 && errno != EINTR {
                fail(.syscall(.connectionClosed, "poll()"))
                break loop
            }
            if descriptors[1].revents != 0 {
                var counter: UInt64 = 0
                _ = Glibc.read(wakeFD, &counter, 8)
            }
            if descriptors[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                if let error = receive(into: readBuffer, parser: &parser) {
                    fail(error)
                    break loop
                }
            }
            if headDeadline != nil && failHeadIfExpired() {
                break loop
            }
        }
        terminate()
    }

    /// Writes as much of `bytes[written...]` as the socket accepts without blocking.
    /// - Returns: An error when the connection broke.
    private func flush(_ bytes: [UInt8], from written: inout Int) -> RedisClientError? {
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + written, raw.count - written, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                written += count
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return nil
            } else {
                return .syscall(.connectionClosed, "send() to \(target)")
            }
        }
        return nil
    }

    /// Reads what is available, parses complete replies and resumes their callers in order.
    /// - Returns: An error when the connection broke or the server violated the protocol.
    private func receive(into buffer: UnsafeMutableRawBufferPointer, parser: inout RESPParser) -> RedisClientError? {
        var failure: RedisClientError?
        for _ in 0..<64 {  // bounded, so a fast sender cannot starve writes and timeouts
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 {
                parser.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                if count < buffer.count { break }
            } else if count == 0 {
                failure = RedisClientError(.connectionClosed, "\(target) closed the connection")
                break
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                failure = .syscall(.connectionClosed, "read() from \(target)")
                break
            }
        }

        var replies: [RESPValue] = []
        do {
            while let reply = try parser.next() { replies.append(reply) }
        } catch {
            failure = RedisClientError(.protocolViolation, "invalid reply from \(target): \(error.message)")
        }
        guard !replies.isEmpty else { return failure }

        let (matched, unexpected): ([CheckedContinuation<RESPValue, any Error>], Bool) = state.withLock { state in
            var matched: [CheckedContinuation<RESPValue, any Error>] = []
            matched.reserveCapacity(replies.count)
            for _ in replies {
                guard let pending = state.pending.popFirst() else { return (matched, true) }
                matched.append(pending.continuation)
            }
            return (matched, false)
        }
        for (continuation, reply) in zip(matched, replies) {
            continuation.resume(returning: reply)
        }
        if unexpected {
            return RedisClientError(.protocolViolation, "\(target) sent a reply to no command")
        }
        return failure
    }

    /// When the oldest command waiting is past its deadline, fails it with a timeout and marks the
    /// connection closing (later replies would be mismatched).
    /// - Returns: Whether a command timed out.
    private func failHeadIfExpired() -> Bool {
        let now = ContinuousClock.now
        let head: Pending? = state.withLock { state in
            guard let first = state.pending.first, now >= first.deadline else { return nil }
            if state.closeReason == nil {
                state.closeReason = RedisClientError(
                    .connectionClosed, "connection to \(target) closed because a command timed out")
            }
            return state.pending.popFirst()
        }
        guard let head else { return false }
        head.continuation.resume(throwing: RedisClientError(
            .timeout, "no reply from \(target) within \(commandTimeout)"))
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
            return (state.pending.removeAll(), waiters, reason)
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
        Glibc.close(fd)
        for entry in pending { entry.continuation.resume(throwing: reason) }
        for waiter in waiters { waiter.resume() }
    }
}
