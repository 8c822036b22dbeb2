import CEpoll
import Foundation
import HTTPServer
import Synchronization

/// A small handler for end-to-end tests.
///
/// - `preflight`: `/reject...` is answered 404 at once.
/// - `handle`: echoes `"<METHOD> <path>|<body>"`; `/sleep?ms=N` waits N ms first; `/status/N` answers N;
///   `/thread` answers the names of the threads it ran on, before and after resuming from another thread;
///   `/close` asks to close the connection; `/big?n=N` answers N patterned bytes.
/// - `protocolError`: the error's status with `X-Error` set.
final class TestHandler: HTTPHandler {
    /// Requests that reached `handle` (started).
    let handled = Atomic<Int>(0)
    /// Requests taken by `respond(to:with:)`.
    let inlined = Atomic<Int>(0)

    /// The 251 bytes `0, 1, …, 250` that `/big` repeats: byte `i` of its body is `i % 251`.
    static let pattern: [UInt8] = (0..<251).map { UInt8($0) }

    /// `count` bytes of ``pattern`` repeated, built by whole copies (a per-byte loop in a debug build
    /// takes seconds for megabytes, which a busy machine stretched past the client's timeout).
    static func patterned(_ count: Int) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(count)
        while body.count < count { body.append(contentsOf: pattern.prefix(count - body.count)) }
        return body
    }

    func preflight(_ head: HTTPRequestHead) -> HTTPResponse? {
        guard head.path.hasPrefix("/reject") else { return nil }
        return HTTPResponse(status: 404, body: Array("rejected".utf8))
    }

    /// Takes `/inline…` and `/later…` without a task. `/inline…` is answered at once, on the loop thread:
    /// `inline <thread> <method> <target>|<body>`; `/later?ms=N…` from a thread of its own after N ms:
    /// `later <method> <target>|<body>`.
    func respond(to request: HTTPRequest, with responder: HTTPResponder) -> Bool {
        let head = request.head
        if head.path.hasPrefix("/inline") {
            inlined.wrappingAdd(1, ordering: .relaxed)
            responder.respond(HTTPResponse(status: 200, body: Array("inline \(Self.threadName()) \(head.method) \(head.target)|".utf8) + request.body))
            return true
        }
        guard head.path.hasPrefix("/later") else { return false }
        inlined.wrappingAdd(1, ordering: .relaxed)
        let delay = head.query.flatMap { $0.hasPrefix("ms=") ? Int($0.dropFirst(3)) : nil } ?? 0
        let body = Array("later \(head.method) \(head.target)|".utf8) + request.body
        Thread {
            usleep(useconds_t(delay * 1000))
            responder.respond(HTTPResponse(status: 200, body: body))
        }.start()
        return true
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        handled.wrappingAdd(1, ordering: .relaxed)
        let head = request.head
        if head.path == "/sleep", let query = head.query, query.hasPrefix("ms="), let ms = Int(query.dropFirst(3)) {
            try? await Task.sleep(for: .milliseconds(ms))
        }
        if head.path == "/thread" {
            let before = Self.threadName()
            // Resumed from a thread of its own, as a Redis reply resumes a request.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread { continuation.resume() }.start()
            }
            return HTTPResponse(status: 200, body: Array("\(before) \(Self.threadName())".utf8))
        }
        if head.path == "/big", let query = head.query, query.hasPrefix("n="), let count = Int(query.dropFirst(2)) {
            return HTTPResponse(status: 200, body: Self.patterned(count))
        }
        var headers = HTTPHeaders()
        headers.add("X-Bytes-In", String(request.bytesIn))
        if head.path == "/close" { headers.add("Connection", "close") }
        var status = 200
        if head.path.hasPrefix("/status/"), let code = Int(head.path.dropFirst(8)) { status = code }
        let body = Array("\(head.method) \(head.target)|".utf8) + request.body
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    /// The calling thread's kernel name.
    static func threadName() -> String {
        var name = [CChar](repeating: 0, count: 32)
        cepoll_get_thread_name(&name)
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func protocolError(_ error: HTTPProtocolError, head: HTTPRequestHead?, receivedAtNanos: UInt64) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("X-Error", "\(error)")
        headers.add("X-Had-Head", head == nil ? "no" : "yes")
        return HTTPResponse(status: error.status, headers: headers, body: Array("error".utf8))
    }
}
