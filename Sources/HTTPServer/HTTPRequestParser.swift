/// An incremental, pure HTTP/1.1 request parser ([RFC 9112](https://www.rfc-editor.org/rfc/rfc9112)).
///
/// Bytes go in with `append`; `parseHead()` and `parseBody()` return a value once enough bytes are
/// buffered, or nil ("need more") having kept all input. It never traps on any input: every problem
/// is a thrown ``HTTPProtocolError``, after which the parser must be discarded.
///
/// The head and the body are parsed in two steps so that the caller can look at the head (and answer
/// early, see ``HTTPHandler/preflight(_:)``) before any body is read. `parseRequest()` does both.
///
/// Decisions:
/// - Lines must end in CRLF; a bare LF or CR is malformed (the strict reading of RFC 9112 §2.2).
/// - Empty lines before a request line are skipped (RFC 9112 §2.2).
/// - The request-target must be origin-form (`/...`) or `*` for `OPTIONS`; absolute-form is malformed.
public struct HTTPRequestParser: Sendable {
    /// Size limits enforced while parsing.
    public struct Limits: Sendable {
        /// Longest request line (without CRLF); longer is ``HTTPProtocolError/uriTooLong``.
        public var maxRequestLineBytes: Int
        /// Largest header field section (field lines with their CRLFs, not the request line or the
        /// final empty line); larger is ``HTTPProtocolError/headerTooLarge``. Also bounds chunked trailers.
        public var maxHeaderBytes: Int
        /// Largest body after decoding; larger is ``HTTPProtocolError/payloadTooLarge``. Exactly this is accepted.
        public var maxBodyBytes: Int
        /// Longest chunk-size line including extensions; longer is malformed.
        public var maxChunkLineBytes: Int
        /// Most header field lines (not counting the request line); more is ``HTTPProtocolError/headerTooLarge``.
        public var maxHeaderFields: Int

        /// Creates limits.
        /// - Parameters:
        ///   - maxRequestLineBytes: Longest request line.
        ///   - maxHeaderBytes: Largest header field section.
        ///   - maxBodyBytes: Largest decoded body.
        ///   - maxChunkLineBytes: Longest chunk-size line.
        ///   - maxHeaderFields: Most header field lines.
        public init(
            maxRequestLineBytes: Int = 8 * 1024,
            maxHeaderBytes: Int = 16 * 1024,
            maxBodyBytes: Int = 1 << 20,
            maxChunkLineBytes: Int = 4 * 1024,
            maxHeaderFields: Int = 100
        ) {
            self.maxRequestLineBytes = maxRequestLineBytes
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBodyBytes = maxBodyBytes
            self.maxChunkLineBytes = maxChunkLineBytes
            self.maxHeaderFields = maxHeaderFields
        }
    }

    /// How the body of a parsed head is delimited (RFC 9112 §6.3).
    public enum BodyFraming: Sendable, Equatable {
        /// No body.
        case none
        /// Exactly this many bytes follow (may exceed the limit; the caller decides when to refuse).
        case contentLength(Int)
        /// `Transfer-Encoding: chunked`.
        case chunked

        /// Whether the request announced a body (a positive length, or chunked).
        public var announcesBody: Bool {
            switch self {
            case .none: false
            case .contentLength(let length): length > 0
            case .chunked: true
            }
        }
    }

    /// Where the parser is in the current request.
    enum Phase: Sendable, Equatable {
        /// Waiting for a complete head.
        case head
        /// Head parsed; the body (if any) is next.
        case body(BodyFraming)
        /// Inside a chunked body.
        case chunked(ChunkPhase)
        /// The request is complete; call `startNextRequest()`.
        case complete
    }

    /// Position inside a chunked body.
    enum ChunkPhase: Sendable, Equatable {
        /// Expecting `chunk-size [ext] CRLF`.
        case size
        /// Inside chunk data with this many bytes left.
        case data(remaining: Int)
        /// Expecting the CRLF after chunk data.
        case dataEnd
        /// Inside the trailer section, having seen this many bytes of it.
        case trailers(bytes: Int)
    }

    /// The limits in force.
    public let limits: Limits
    /// Received bytes; those before `readIndex` are consumed.
    var buffer: [UInt8] = []
    /// First unconsumed byte in `buffer`.
    var readIndex = 0
    /// Current phase.
    var phase: Phase = .head
    /// Head scanning progress, as offsets from `readIndex`: where scanning resumes.
    var scanOffset = 0
    /// Offset of the start of the line being scanned.
    var lineStartOffset = 0
    /// Offset just past the request line's CRLF, once found.
    var fieldsStartOffset: Int?
    /// Field line ranges found so far (offsets, without CRLF).
    var fieldLines: [Range<Int>] = []
    /// Decoded chunked body so far.
    var decodedBody: [UInt8] = []
    /// Wire bytes consumed by the current request.
    public internal(set) var consumedBytes = 0

    /// Creates a parser.
    /// - Parameter limits: The size limits to enforce.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Bytes received but not yet consumed (they may belong to a later, pipelined request).
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Whether the parser has seen part of a head (or leading CRLFs) for the current request.
    public var hasPartialRequest: Bool { bufferedByteCount > 0 || consumedBytes > 0 }

    /// Adds received bytes.
    /// - Parameter bytes: The bytes, in arrival order.
    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes from raw memory.
    /// - Parameter bytes: The bytes, in arrival order.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    /// Drops consumed bytes from the front of the buffer when that saves enough to be worth a move.
    mutating func compactIfWorthwhile() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 16 * 1024)
            readIndex = 0
        } else if readIndex >= 4096 && readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    /// Prepares for the next request on the connection, keeping any buffered (pipelined) bytes.
    public mutating func startNextRequest() {
        phase = .head
        scanOffset = 0
        lineStartOffset = 0
        fieldsStartOffset = nil
        fieldLines.removeAll(keepingCapacity: true)
        decodedBody = []
        consumedBytes = 0
        compactIfWorthwhile()
    }

    /// Parses a whole request: the head, then the body; then gets ready for the next one.
    ///
    /// Unlike the two-step API, a `Content-Length` above the limit throws at once.
    /// - Returns: The complete request, or nil if more bytes are needed.
    /// - Throws: ``HTTPProtocolError`` when the request is invalid or over a limit.
    public mutating func parseRequest() throws(HTTPProtocolError) -> HTTPRequest? {
        if phase == .head {
            guard let (head, _) = try parseHead() else { return nil }
            pendingHead = head
        }
        guard let head = pendingHead else { return nil }
        guard let body = try parseBody() else { return nil }
        let request = HTTPRequest(head: head, body: body, bytesIn: consumedBytes)
        pendingHead = nil
        startNextRequest()
        return request
    }

    /// The head `parseRequest()` parsed, kept while its body arrives.
    var pendingHead: HTTPRequestHead?
}
