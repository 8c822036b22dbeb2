import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny blocking-socket HTTP client for tests: it sends raw bytes and reads raw responses, so tests can
/// exercise pipelining, malformed input and slow clients. Every receive has a timeout, so a test cannot hang.
public final class RawHTTPClient {
    /// A response as read off the wire.
    public struct Response: Sendable {
        /// The status code.
        public var status: Int
        /// The reason phrase.
        public var reason: String
        /// Header fields in order, names as sent.
        public var headers: [(name: String, value: String)]
        /// The body, read by `Content-Length` (empty when there is none).
        public var body: [UInt8]

        /// The first value of a header, compared case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// A client-side failure.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// The connected socket, -1 after `close()`.
    public private(set) var fd: Int32
    /// Received bytes not yet returned.
    private var pending: [UInt8] = []

    /// Connects to `host:port` (IPv4 or IPv6 literal, or a name).
    /// - Parameters:
    ///   - host: The server address, e.g. `"127.0.0.1"` or `"::1"`.
    ///   - port: The server port.
    ///   - timeout: Receive and send timeout for every call.
    /// - Throws: ``Failure`` when the address cannot be resolved or the connection fails (e.g. refused).
    public init(host: String, port: Int, timeout: Duration = .seconds(5)) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let info = list else {
            throw Failure(description: "getaddrinfo(\(host)): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw Failure(description: "connect(\(host):\(port)): \(message)")
        }
        self.fd = fd
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Sends all of `bytes`.
    /// - Throws: ``Failure`` when the socket errors (e.g. the server closed it).
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "send: \(String(cString: strerror(errno)))")
            }
            offset += sent
        }
    }

    /// Sends the UTF-8 bytes of `text`.
    public func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    /// Reads one chunk from the socket into `pending`.
    /// - Returns: False at end of stream.
    /// - Throws: ``Failure`` on timeout or error.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                pending.append(contentsOf: chunk[0..<count])
                return true
            }
            if count == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw Failure(description: "receive timed out") }
            if errno == ECONNRESET { return false }
            throw Failure(description: "recv: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads one complete response: status line, headers, and a body by `Content-Length`.
    /// - Parameter bodyless: Set for responses to HEAD, whose `Content-Length` describes a body not sent.
    /// - Throws: ``Failure`` on timeout, early close or unparseable input.
    public func readResponse(bodyless: Bool = false) throws -> Response {
        let terminator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            if let range = pending.firstRange(of: terminator) {
                headEnd = range.upperBound
                break
            }
            guard try fill() else { throw Failure(description: "connection closed before a complete response head") }
        }
        let headText = String(decoding: pending[0..<headEnd!], as: UTF8.self)
        pending.removeSubrange(0..<headEnd!)
        var lines = headText.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw Failure(description: "empty response head") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw Failure(description: "bad status line \(statusLine)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw Failure(description: "bad header \(line)") }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((String(line[..<colon]), value))
        }
        var response = Response(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers, body: [])
        let noBody = bodyless || (100..<200).contains(status) || status == 204 || status == 304
        if !noBody, let lengthText = response.header("Content-Length"), let length = Int(lengthText), length > 0 {
            while pending.count < length {
                guard try fill() else { throw Failure(description: "connection closed inside a response body") }
            }
            response.body = Array(pending[0..<length])
            pending.removeSubrange(0..<length)
        }
        return response
    }

    /// Sends `text` and reads one response.
    public func request(_ text: String, bodyless: Bool = false) throws -> Response {
        try send(text)
        return try readResponse(bodyless: bodyless)
    }

    /// Reads until the server closes the connection.
    /// - Returns: Any bytes received before the close.
    /// - Throws: ``Failure`` when the timeout passes first (the connection is still open).
    public func readUntilClose() throws -> [UInt8] {
        while try fill() {}
        defer { pending.removeAll() }
        return pending
    }

    /// Whether the server has closed the connection, waiting up to the receive timeout.
    /// Unread bytes count as "not closed".
    public func isClosedByPeer() -> Bool {
        guard pending.isEmpty else { return false }
        do {
            return try !fill()
        } catch {
            return false
        }
    }

    /// Half-closes the sending side, as a client that has finished its request might.
    public func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes the socket.
    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}
