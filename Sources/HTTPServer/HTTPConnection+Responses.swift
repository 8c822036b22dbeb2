import Glibc
import Telemetry

extension HTTPConnection {
    /// Takes the handler's response for the request in flight.
    func deliver(_ response: HTTPResponse, now: UInt64) {
        guard case .awaitingResponse(let isHead, let version, let keepAlive) = state else { return }
        respond(response, method: isHead ? .HEAD : nil, version: version, keepAlive: keepAlive, now: now)
    }

    /// Serializes a response after anything already queued and starts writing it.
    func respond(_ response: HTTPResponse, head: HTTPRequestHead?, keepAlive: Bool, now: UInt64) {
        respond(response, method: head?.method, version: head?.version, keepAlive: keepAlive, now: now)
    }

    /// Serializes a response to a request with this method and version (nil when unknown; of the method only
    /// whether it is HEAD matters).
    ///
    /// First writes the log lines this thread collected, so a request's log line reaches standard error
    /// before its response reaches the client.
    func respond(_ response: HTTPResponse, method: HTTPMethod?, version: HTTPVersion?, keepAlive: Bool, now: UInt64) {
        LogBatch.flush()
        let keep = response.serialize(
            into: &output,
            requestMethod: method,
            requestVersion: version,
            keepAlive: keepAlive && !closeAfterResponse && !core.context.shuttingDown.isSet,
            date: core.dateValue()
        )
        state = .writing(keepAlive: keep)
        deadline = now &+ core.bodyIdleNanos
        flush(now: now)
    }

    /// Sends queued output until done or the socket is full; then finishes the response if one was being written.
    func flush(now: UInt64) {
        while outputOffset < output.count {
            let result = output.withUnsafeBytes { bytes in
                Socket.send(fd, UnsafeRawBufferPointer(rebasing: bytes[outputOffset...]))
            }
            switch result {
            case .bytes(let count):
                outputOffset += count
                if case .writing = state { deadline = now &+ core.bodyIdleNanos }
            case .wouldBlock:
                updateInterest()
                return
            case .endOfFile, .failed:
                close()
                return
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= 4096)
        outputOffset = 0
        guard case .writing(let keepAlive) = state else {
            updateInterest()
            return
        }
        if keepAlive && !closeAfterResponse {
            parser.startNextRequest()
            state = .idle
            deadline = now &+ core.keepAliveNanos
            process(now: now)
        } else {
            startClosing(now: now)
        }
    }

    /// Shuts the write side and lingers briefly, dropping input, so the peer reads the response before the close.
    func startClosing(now: UInt64) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        state = .closing
        deadline = now &+ core.lingerNanos
        parser = HTTPRequestParser(limits: parser.limits)
        updateInterest()
    }
}
