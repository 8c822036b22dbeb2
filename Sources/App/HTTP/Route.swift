#if canImport(Glibc)
import Glibc
#endif
import HTTPServer
import Store

/// The routes of API v1 and the operations routes, each with its template and methods.
enum Route: String, Sendable, CaseIterable {
    case healthz = "/healthz"
    case readyz = "/readyz"
    case metrics = "/metrics"
    case openapi = "/openapi.yaml"
    case sessions = "/agents/{agent_id}/sessions"
    case session = "/agents/{agent_id}/sessions/{session_id}"
    case messages = "/agents/{agent_id}/sessions/{session_id}/messages"
    case lastMessage = "/agents/{agent_id}/sessions/{session_id}/messages/last"
    case message = "/agents/{agent_id}/sessions/{session_id}/messages/{seq}"
    case lease = "/agents/{agent_id}/sessions/{session_id}/lease"

    /// The route template, used as the `route` label and log field.
    var template: String { rawValue }

    /// Methods this route answers. HEAD is allowed wherever GET is.
    var allowedMethods: [HTTPMethod] {
        switch self {
        case .healthz, .readyz, .metrics, .openapi: return Self.read
        case .sessions: return Self.readAndDelete
        case .session, .lease: return Self.readWriteAndDelete
        case .messages: return Self.everyMethod
        case .lastMessage, .message: return Self.deleteOnly
        }
    }

    // The method lists, built once rather than on every request.
    private static let read: [HTTPMethod] = [.GET, .HEAD]
    private static let readAndDelete: [HTTPMethod] = [.GET, .HEAD, .DELETE]
    private static let readWriteAndDelete: [HTTPMethod] = [.GET, .HEAD, .PUT, .DELETE]
    private static let everyMethod: [HTTPMethod] = [.GET, .HEAD, .PUT, .POST, .DELETE]
    private static let deleteOnly: [HTTPMethod] = [.DELETE]

    /// The `Allow` header value for 405 answers.
    var allowHeader: String { allowedMethods.map(\.rawValue).joined(separator: ", ") }

    /// Whether requests with this route and method carry a JSON body (and so get a `Content-Type` check).
    func takesBody(_ method: HTTPMethod) -> Bool {
        ((self == .session || self == .lease) && method == .PUT) || (self == .messages && (method == .POST || method == .PUT))
    }
}

/// A request path matched against the route table, with where its raw (still percent-encoded) ID segments lie.
///
/// The segments are kept as UTF-8 offsets into the path, not as substrings: a match is copied into the resolved
/// route and the request context, and each substring added a retain and release to every copy.
struct RouteMatch: Sendable {
    var route: Route
    /// The matched path, not percent-decoded.
    private let path: String
    /// UTF-8 offsets of the `{agent_id}`, `{session_id}` and `{seq}` segments in `path`, where the route has them.
    private let agentBounds: Range<Int>?
    private let sessionBounds: Range<Int>?
    private let seqBounds: Range<Int>?

    /// The raw `{agent_id}` segment.
    var agentSegment: Substring? { agentBounds.map(segment) }
    /// The raw `{session_id}` segment.
    var sessionSegment: Substring? { sessionBounds.map(segment) }
    /// The raw `{seq}` segment of `…/messages/{seq}`.
    var seqSegment: Substring? { seqBounds.map(segment) }

    /// Whether the route has an `{agent_id}` segment.
    var hasAgent: Bool { agentBounds != nil }
    /// Whether the route has a `{session_id}` segment.
    var hasSession: Bool { sessionBounds != nil }

    /// Matches a path structurally: segment count and literal segments. IDs are validated later,
    /// after the method check, as DESIGN §7 orders them. Returns nil for no route (404).
    ///
    /// One pass over the path's bytes, with the segment bounds on the stack: no array, no substring.
    init?(path: String) {
        var bytesOf = path
        // Offsets of the up to 7 slashes, plus the end: segment n is the bytes between bound n and bound n + 1.
        var bounds = (0, 0, 0, 0, 0, 0, 0, 0)
        let matched: Route? = bytesOf.withUTF8 { bytes in
            if bytes.count <= Self.longestFixedRoute, let fixed = Self.fixedRoute(bytes) { return fixed }
            // A trailing slash never matches (DESIGN §7: 404 route_not_found).
            guard bytes.first == UInt8(ascii: "/"), bytes.last != UInt8(ascii: "/") else { return nil }
            return withUnsafeMutableBytes(of: &bounds) { raw -> Route? in
                let marks = raw.bindMemory(to: Int.self)
                var segments = 0
                for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "/") {
                    guard segments < 7 else { return nil }
                    marks[segments] = offset
                    segments += 1
                }
                marks[segments] = bytes.count
                func segment(_ n: Int) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(rebasing: bytes[(marks[n] + 1)..<marks[n + 1]])
                }
                guard segments >= 3, segments <= 6, Self.segment(segment(0), is: "agents"),
                      Self.segment(segment(2), is: "sessions") else { return nil }
                switch segments {
                case 3: return .sessions
                case 4: return .session
                case 5 where Self.segment(segment(4), is: "messages"): return .messages
                case 5 where Self.segment(segment(4), is: "lease"): return .lease
                case 6 where Self.segment(segment(4), is: "messages"): return Self.segment(segment(5), is: "last") ? .lastMessage : .message
                default: return nil
                }
            }
        }
        guard let matched else { return nil }
        func part(_ n: Int) -> Range<Int> {
            withUnsafeBytes(of: bounds) { raw in
                (raw.load(fromByteOffset: n * MemoryLayout<Int>.stride, as: Int.self) + 1)
                    ..< raw.load(fromByteOffset: (n + 1) * MemoryLayout<Int>.stride, as: Int.self)
            }
        }
        route = matched
        self.path = path
        switch matched {
        case .healthz, .readyz, .metrics, .openapi: (agentBounds, sessionBounds, seqBounds) = (nil, nil, nil)
        case .sessions: (agentBounds, sessionBounds, seqBounds) = (part(1), nil, nil)
        case .message: (agentBounds, sessionBounds, seqBounds) = (part(1), part(3), part(5))
        case .session, .messages, .lease, .lastMessage: (agentBounds, sessionBounds, seqBounds) = (part(1), part(3), nil)
        }
    }

    /// The segment of `path` at these UTF-8 offsets.
    private func segment(_ bounds: Range<Int>) -> Substring {
        let utf8 = path.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: bounds.lowerBound)
        return path[start..<utf8.index(start, offsetBy: bounds.count)]
    }

    /// Calls `body` with the bytes of the segment at `bounds` (empty for nil).
    private func withSegment<R>(_ bounds: Range<Int>?, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard let bounds else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        var bytesOf = path
        return bytesOf.withUTF8 { body(UnsafeBufferPointer(rebasing: $0[bounds])) }
    }

    /// The routes without parameters, matched by their whole path.
    private static let fixedRoutes: [Route] = [.healthz, .readyz, .metrics, .openapi]
    /// The length of the longest of them: a longer path is none of them.
    private static let longestFixedRoute = fixedRoutes.map(\.rawValue.utf8.count).max()!

    /// The route without parameters whose path is exactly `bytes`.
    private static func fixedRoute(_ bytes: UnsafeBufferPointer<UInt8>) -> Route? {
        for route in fixedRoutes where route.rawValue.utf8.count == bytes.count && route.rawValue.utf8.elementsEqual(bytes) {
            return route
        }
        return nil
    }

    /// Whether a path segment is the literal `word` once percent-decoded (`%73essions` is `sessions`).
    private static func segment(_ segment: UnsafeBufferPointer<UInt8>, is word: StaticString) -> Bool {
        let literal = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        if !segment.contains(UInt8(ascii: "%")) {
            return segment.count == literal.count && memcmp(segment.baseAddress!, literal.baseAddress!, literal.count) == 0
        }
        return PercentEncoding.decode(segment)?.elementsEqual(literal) ?? false
    }

    /// The `{seq}` of `…/messages/{seq}`: a decimal integer from 1.
    /// - Throws: `APIError` `invalid_request` otherwise.
    func seq() throws(APIError) -> Int64 {
        let text = withSegment(seqBounds) { PercentEncoding.decode($0) } ?? []
        guard !text.isEmpty, text.count <= 19, text.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let seq = Int64(String(decoding: text, as: UTF8.self)), seq >= 1 else {
            throw APIError.invalidRequest("The message seq must be an integer from 1 to \(Int64.max).")
        }
        return seq
    }

    /// The decoded, validated agent ID.
    /// - Throws: `APIError` `invalid_id` when the segment is empty, badly encoded, or breaks the ID rule.
    func agentID() throws(APIError) -> String {
        try withSegment(agentBounds) { Self.decodeID($0) }.get(name: "agent_id")
    }

    /// The decoded, validated session ID.
    /// - Throws: `APIError` `invalid_id`.
    func sessionID() throws(APIError) -> String {
        try withSegment(sessionBounds) { Self.decodeID($0) }.get(name: "session_id")
    }

    /// Percent-decodes a segment and applies the ID rule `^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$`.
    static func decodeID(_ segment: Substring, name: String) throws(APIError) -> String {
        var segment = segment
        return try segment.withUTF8 { decodeID($0) }.get(name: name)
    }

    /// ``decodeID(_:name:)`` on the segment's bytes; nil when it breaks the rule.
    private static func decodeID(_ segment: UnsafeBufferPointer<UInt8>) -> DecodedID {
        // The common case, no escape: the bytes are checked where they are and copied once.
        let hasEscape = segment.baseAddress.map { memchr($0, Int32(UInt8(ascii: "%")), segment.count) != nil } ?? false
        if !hasEscape { return DecodedID(id: SessionID.isValid(segment) ? String(decoding: segment, as: UTF8.self) : nil) }
        guard let bytes = PercentEncoding.decode(segment), SessionID.isValid(bytes) else { return DecodedID(id: nil) }
        return DecodedID(id: String(decoding: bytes, as: UTF8.self))
    }

    /// A decoded ID, or nil for one that breaks the rule, thrown as `invalid_id` naming the path parameter.
    private struct DecodedID {
        let id: String?

        func get(name: String) throws(APIError) -> String {
            guard let id else { throw APIError.invalidID("\(name) must match ^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$.") }
            return id
        }
    }
}
