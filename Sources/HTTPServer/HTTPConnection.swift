import CEpoll
import Glibc

/// One client connection, owned by and only touched on its event-loop thread.
///
/// It reads into an ``HTTPRequestParser``, asks the handler's `preflight`, hands complete requests to
/// the handler (without a task when it takes them, else in one), and writes each response with as few
/// `send` calls as possible, in request order.
/// Timeouts are deadlines checked by the loop's periodic scan (`deadline`, 0 = none).
final class HTTPConnection {
    /// The socket.
    let fd: Int32
    /// Unique per loop, so late responses cannot reach a new connection that reused `fd`.
    let id: UInt64
    /// The loop that owns this connection.
    unowned let core: EventLoopCore
    /// Request/response cycle state.
    var state: State = .idle
    /// The head of the request whose body is being read or discarded (`readingBody`, `discardingBody`).
    var heldHead: HTTPRequestHead?
    /// Preflight's answer, sent once the discarded body is read (`discardingBody`).
    var earlyResponse: HTTPResponse?
    /// Incoming bytes and request framing.
    var parser: HTTPRequestParser
    /// Bytes to send; those before `outputOffset` are sent.
    var output: [UInt8] = []
    /// First unsent byte of `output`.
    var outputOffset = 0
    /// Monotonic nanoseconds at which the current phase times out; 0 = no deadline.
    var deadline: UInt64
    /// When the current request's first byte arrived.
    var requestStartedAt: UInt64 = 0
    /// Set while the server drains: close after the current response.
    var closeAfterResponse = false
    /// Set when the socket turned readable while the connection was not reading; read interest is
    /// then dropped until the connection wants to read again.
    var readSuppressed = false
    /// The epoll interest currently registered.
    var registeredEvents: UInt32
    /// Bytes dropped while lingering, bounded.
    var lingerBytes = 0
    /// Whether `process` is on the stack.
    var isProcessing = false
    /// Whether `process` was asked to run again while on the stack.
    var processAgain = false

    /// Wraps an accepted, registered socket.
    init(fd: Int32, id: UInt64, core: EventLoopCore, now: UInt64, registeredEvents: UInt32) {
        self.fd = fd
        self.id = id
        self.core = core
        self.parser = HTTPRequestParser(limits: core.configuration.parserLimits)
        self.deadline = now &+ core.keepAliveNanos
        self.registeredEvents = registeredEvents
    }

    // MARK: Events

    /// Handles readiness reported by epoll.
    func onEvents(_ events: UInt32, now: UInt64) {
        if events & cepoll_err() != 0 {
            close()
            return
        }
        if events & cepoll_out() != 0, outputOffset < output.count {
            flush(now: now)
            if state.isClosed { return }
        }
        if events & (cepoll_in() | cepoll_rdhup() | cepoll_hup()) != 0 {
            if state.wantsRead {
                readOnce(now: now)
            } else if events & cepoll_hup() != 0 {
                close()
            } else {
                // Readable while a request is with the handler (pipelined bytes or a half-close):
                // only now drop read interest, so level-triggered epoll does not spin.
                readSuppressed = true
                updateInterest()
            }
        }
    }

    /// Reads what is available once (level-triggered epoll reports the rest) and processes it.
    func readOnce(now: UInt64) {
        let buffer = core.readBuffer
        switch Socket.read(fd, into: buffer) {
        case .bytes(let count):
            if case .closing = state {
                lingerBytes += count
                if lingerBytes > 1 << 20 { close() }
                return
            }
            parser.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            switch state {
            case .readingBody, .discardingBody: deadline = now &+ core.bodyIdleNanos
            default: break
            }
            process(now: now)
        case .wouldBlock:
            return
        case .endOfFile, .failed:
            close()
        }
    }

    /// Advances the state machine as far as the buffered bytes allow.
    ///
    /// Re-entrant calls (a response finished while processing, so the next pipelined request may start)
    /// are turned into another turn of this loop instead of recursion, keeping the stack flat.
    func process(now: UInt64) {
        if isProcessing {
            processAgain = true
            return
        }
        isProcessing = true
        defer { isProcessing = false }
        repeat {
            processAgain = false
            advance(now: now)
        } while processAgain && !state.isClosed
    }

    /// One pass of the state machine over the buffered bytes, then an epoll interest update.
    private func advance(now: UInt64) {
        loop: while true {
            switch state {
            case .idle:
                guard parser.bufferedByteCount > 0 else { break loop }
                requestStartedAt = now
                deadline = now &+ core.headerTimeoutNanos
                state = .readingHead
            case .readingHead:
                let parsed: (head: HTTPRequestHead, framing: HTTPRequestParser.BodyFraming)?
                do {
                    parsed = try parser.parseHead()
                } catch {
                    fail(error, head: nil, now: now)
                    return
                }
                guard let (parsedHead, framing) = parsed else { break loop }
                var head = parsedHead
                head.receivedAtNanos = requestStartedAt
                guard startBody(head: head, framing: framing, now: now) else { return }
                if case .awaitingResponse = state { break loop }
            case .readingBody(let keepAlive):
                let body: [UInt8]?
                do {
                    body = try parser.parseBody()
                } catch {
                    fail(error, head: heldHead.take(), now: now)
                    return
                }
                guard let body else { break loop }
                guard let head = heldHead.take() else { return }
                dispatch(HTTPRequest(head: head, body: body, bytesIn: parser.consumedBytes), keepAlive: keepAlive)
                break loop
            case .discardingBody(let keepAlive):
                let done: Bool
                do {
                    done = try parser.discardBody()
                } catch {
                    earlyResponse = nil
                    fail(error, head: heldHead.take(), now: now)
                    return
                }
                guard done, let response = earlyResponse.take() else { break loop }
                respond(response, head: heldHead.take(), keepAlive: keepAlive, now: now)
                return
            case .awaitingResponse, .writing, .closing, .closed:
                break loop
            }
        }
        updateInterest()
    }

    /// Applies preflight and the body rules to a freshly parsed head.
    /// - Returns: False when the connection answered or closed and processing must stop.
    /// A request without a body goes to the handler from here, without passing through `readingBody`.
    private func startBody(head parsedHead: consuming HTTPRequestHead, framing: HTTPRequestParser.BodyFraming, now: UInt64) -> Bool {
        var head = parsedHead
        let keepAlive = head.wantsKeepAlive && !closeAfterResponse
        let maxBody = core.configuration.maxBodyBytes
        var tooLarge = false
        if case .contentLength(let length) = framing, length > maxBody { tooLarge = true }
        if let early = core.handler.preflight(&head) {
            guard framing.announcesBody else {
                respond(early, head: head, keepAlive: keepAlive, now: now)
                return false
            }
            if head.expectsContinue || framing == .chunked || tooLarge {
                respond(early, head: head, keepAlive: false, now: now)
                return false
            }
            heldHead = head
            earlyResponse = early
            state = .discardingBody(keepAlive: keepAlive)
            deadline = now &+ core.bodyIdleNanos
            return true
        }
        if tooLarge {
            fail(.payloadTooLarge, head: head, now: now)
            return false
        }
        if framing == .none {
            do {
                let body = try parser.parseBody()
                dispatch(HTTPRequest(head: head, body: body ?? [], bytesIn: parser.consumedBytes), keepAlive: keepAlive)
            } catch {
                fail(error, head: head, now: now)
                return false
            }
            return true
        }
        if framing.announcesBody, head.expectsContinue, parser.bufferedByteCount == 0 {
            output.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8)
        }
        heldHead = head
        state = .readingBody(keepAlive: keepAlive)
        deadline = now &+ core.bodyIdleNanos
        if outputOffset < output.count {
            flush(now: now)
            if state.isClosed { return false }
        }
        return true
    }

    /// Hands a complete request to the handler; the connection waits for its response.
    private func dispatch(_ request: HTTPRequest, keepAlive: Bool) {
        state = .awaitingResponse(isHead: request.head.method == .HEAD, request.head.version, keepAlive: keepAlive)
        deadline = 0
        core.dispatch(request, connection: self)
    }

    /// Answers a protocol error and closes.
    private func fail(_ error: HTTPProtocolError, head: HTTPRequestHead?, now: UInt64) {
        let response = core.handler.protocolError(error, head: head, receivedAtNanos: head?.receivedAtNanos ?? (requestStartedAt > 0 ? requestStartedAt : now))
        respond(response, head: head, keepAlive: false, now: now)
    }

    // MARK: Timers and shutdown

    /// Called by the loop's scan when `deadline` has passed.
    func timeOut(now: UInt64) {
        switch state {
        case .readingHead:
            fail(.requestTimeout, head: nil, now: now)
        case .readingBody, .discardingBody:
            earlyResponse = nil
            fail(.requestTimeout, head: heldHead.take(), now: now)
        case .idle, .awaitingResponse, .writing, .closing, .closed:
            close()
        }
    }

    /// Begins graceful shutdown for this connection: idle ones close now, others after their response.
    func drain(now: UInt64) {
        closeAfterResponse = true
        guard case .idle = state else { return }
        if parser.bufferedByteCount == 0 {
            // Pick up a request whose bytes already reached the kernel.
            readOnce(now: now)
        }
        if case .idle = state, parser.bufferedByteCount == 0 { close() }
    }

    /// Registers the epoll interest the state needs, if it changed.
    func updateInterest() {
        guard !state.isClosed else { return }
        var events: UInt32 = 0
        // Read interest stays registered while a request is with the handler, unless the socket
        // turned readable meanwhile: a client that waits for its response costs no epoll_ctl at all.
        if state.wantsRead { readSuppressed = false }
        if !readSuppressed { events |= cepoll_in() | cepoll_rdhup() }
        if outputOffset < output.count { events |= cepoll_out() }
        guard events != registeredEvents else { return }
        registeredEvents = events
        core.modify(self, events: events)
    }

    /// Closes the socket and forgets the connection.
    func close() {
        guard !state.isClosed else { return }
        state = .closed
        heldHead = nil
        earlyResponse = nil
        deadline = 0
        core.remove(self)
    }
}
