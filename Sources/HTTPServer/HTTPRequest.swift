import Dispatch

/// The request line and header section of a request, available before its body is read.
public struct HTTPRequestHead: Sendable {
    /// The request method.
    public var method: HTTPMethod
    /// The raw request-target as sent, e.g. `"/agents/a/sessions?limit=5"`.
    public var target: String
    /// The target up to the first `?`, not percent-decoded.
    public var path: String
    /// The target after the first `?`, raw; nil when the target has no `?`.
    public var query: String?
    /// The protocol version of the request.
    public var version: HTTPVersion
    /// The header fields in the order received.
    public var headers: HTTPHeaders
    /// Monotonic time (`DispatchTime.now().uptimeNanoseconds`) at which the request's first byte arrived.
    public var receivedAtNanos: UInt64
    /// What the handler's `preflight(_: inout HTTPRequestHead)` attached for its `handle`; nil otherwise.
    public var handlerContext: (any Sendable)?

    /// Creates a request head.
    /// - Parameters:
    ///   - method: The request method.
    ///   - target: The raw request-target; `path` and `query` are derived from it.
    ///   - version: The protocol version.
    ///   - headers: The header fields.
    ///   - receivedAtNanos: Monotonic arrival time of the first byte; defaults to now.
    public init(
        method: HTTPMethod,
        target: String,
        version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(),
        receivedAtNanos: UInt64 = DispatchTime.now().uptimeNanoseconds
    ) {
        self.method = method
        self.target = target
        // A byte search: `firstIndex(of: "?")` would walk Characters (grapheme breaking) on every request.
        let utf8 = target.utf8
        if let mark = utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = String(decoding: utf8[..<mark], as: UTF8.self)
            query = String(decoding: utf8[utf8.index(after: mark)...], as: UTF8.self)
        } else {
            path = target
            query = nil
        }
        self.version = version
        self.headers = headers
        self.receivedAtNanos = receivedAtNanos
    }

    /// Whether the client wants the connection kept open after the response.
    ///
    /// HTTP/1.1 defaults to keep-alive unless `Connection: close` is sent;
    /// HTTP/1.0 keeps the connection only with `Connection: keep-alive`.
    public var wantsKeepAlive: Bool {
        if headers.containsToken("close", in: "Connection") { return false }
        switch version {
        case .http1_1: return true
        case .http1_0: return headers.containsToken("keep-alive", in: "Connection")
        }
    }

    /// Whether the client sent `Expect: 100-continue` (HTTP/1.1 only; ignored on HTTP/1.0 per RFC 9110 §10.1.1).
    public var expectsContinue: Bool {
        guard version == .http1_1 else { return false }
        return headers.values("Expect").contains { value in
            HTTPHeaders.namesEqual(String(Substring(value).trimmingASCIIWhitespace()), "100-continue")
        }
    }
}

/// A complete request: its head and its decoded body.
public struct HTTPRequest: Sendable {
    /// The request line and headers.
    public var head: HTTPRequestHead
    /// The body with any transfer coding removed; empty when the request had none.
    public var body: [UInt8]
    /// Bytes of the request on the wire (head and body as framed), for logs.
    public var bytesIn: Int

    /// Creates a request.
    /// - Parameters:
    ///   - head: The request head.
    ///   - body: The decoded body.
    ///   - bytesIn: Bytes of the request on the wire.
    public init(head: HTTPRequestHead, body: [UInt8] = [], bytesIn: Int = 0) {
        self.head = head
        self.body = body
        self.bytesIn = bytesIn
    }
}
