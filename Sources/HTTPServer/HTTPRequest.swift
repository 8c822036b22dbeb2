import Glibc
import Dispatch

/// The request line and header section of a request, available before its body is read.
///
/// The request line and the header fields live in one shared, copy-on-write box, so that a copy of a
/// head (the connection, the request task and the handler each hold one) costs one retain, not one per
/// string and header array (measured: eight copies per request took about 2,000 instructions).
public struct HTTPRequestHead: Sendable {
    /// The parsed fields, shared between copies until one of them changes a field.
    private final class Fields: @unchecked Sendable {
        // Only mutated through `HTTPRequestHead.fields(_:)`, on a uniquely referenced box.
        var method: HTTPMethod
        var target: String
        var path: String
        var query: String?
        var version: HTTPVersion
        var headers: HTTPHeaders

        init(method: HTTPMethod, target: String, path: String, query: String?, version: HTTPVersion, headers: HTTPHeaders) {
            self.method = method
            self.target = target
            self.path = path
            self.query = query
            self.version = version
            self.headers = headers
        }

        func copy() -> Fields {
            Fields(method: method, target: target, path: path, query: query, version: version, headers: headers)
        }
    }

    private var box: Fields

    /// The request method.
    public var method: HTTPMethod {
        get { box.method }
        set { fields { $0.method = newValue } }
    }
    /// The raw request-target as sent, e.g. `"/agents/a/sessions?limit=5"`.
    public var target: String {
        get { box.target }
        set {
            let (path, query) = Self.split(newValue)
            fields { $0.target = newValue; $0.path = path; $0.query = query }
        }
    }
    /// The target up to the first `?`, not percent-decoded.
    public var path: String {
        get { box.path }
        set { fields { $0.path = newValue } }
    }
    /// The target after the first `?`, raw; nil when the target has no `?`.
    public var query: String? {
        get { box.query }
        set { fields { $0.query = newValue } }
    }
    /// The protocol version of the request.
    public var version: HTTPVersion {
        get { box.version }
        set { fields { $0.version = newValue } }
    }
    /// The header fields in the order received.
    public var headers: HTTPHeaders {
        get { box.headers }
        set { fields { $0.headers = newValue } }
    }
    /// Monotonic time (`DispatchTime.now().uptimeNanoseconds`) at which the request's first byte arrived.
    public var receivedAtNanos: UInt64
    /// What the handler's `preflight(_: inout HTTPRequestHead)` attached for its `handle`; nil otherwise.
    ///
    /// An object: one reference that a copy of the head retains, and a cast back to its class is a pointer
    /// check (an `any Sendable` was a boxed existential, copied through its value witnesses and cast with
    /// `swift_dynamicCast`, about 260 instructions a request).
    public var handlerContext: (any AnyObject & Sendable)?

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
        let (path, query) = Self.split(target)
        box = Fields(method: method, target: target, path: path, query: query, version: version, headers: headers)
        self.receivedAtNanos = receivedAtNanos
    }

    /// Changes the shared fields, copying them first if another head shares them.
    private mutating func fields(_ change: (Fields) -> Void) {
        if !isKnownUniquelyReferenced(&box) { box = box.copy() }
        change(box)
    }

    /// The path (up to the first `?`) and the query (after it; nil without one) of a target.
    private static func split(_ target: String) -> (path: String, query: String?) {
        // memchr over the contiguous UTF-8: `firstIndex(of: "?")` walked Characters (grapheme breaking),
        // and even the UTF-8 view's iterator took about 30 instructions a byte.
        var bytesOf = target
        return bytesOf.withUTF8 { bytes -> (String, String?) in
            guard let base = bytes.baseAddress, let mark = memchr(base, Int32(UInt8(ascii: "?")), bytes.count) else {
                return (target, nil)
            }
            let offset = UnsafeRawPointer(mark) - UnsafeRawPointer(base)
            return (String(decoding: UnsafeBufferPointer(rebasing: bytes[..<offset]), as: UTF8.self),
                    String(decoding: UnsafeBufferPointer(rebasing: bytes[(offset + 1)...]), as: UTF8.self))
        }
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
