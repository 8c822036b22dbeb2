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

/// A request path matched against the route table, with its raw (still percent-encoded) ID segments.
struct RouteMatch: Sendable {
    var route: Route
    var agentSegment: Substring?
    var sessionSegment: Substring?
    /// The raw `{seq}` segment of `…/messages/{seq}`.
    var seqSegment: Substring?

    /// Matches a path structurally: segment count and literal segments. IDs are validated later,
    /// after the method check, as DESIGN §7 orders them. Returns nil for no route (404).
    ///
    /// One pass over the path's bytes, with the segment bounds on the stack: no array, and
    /// substrings only for the ID segments.
    init?(path: String) {
        var path = path
        // Offsets of the up to 7 slashes, plus the end: segment n is the bytes between bound n and bound n + 1.
        var bounds = (0, 0, 0, 0, 0, 0, 0, 0)
        let matched: Route? = path.withUTF8 { bytes in
            if let fixed = Self.fixedRoute(bytes) { return fixed }
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
        let utf8 = path.utf8
        func part(_ n: Int) -> Substring {
            // Read the two bounds inside the closure: its pointer is valid only there.
            let (from, to) = withUnsafeBytes(of: bounds) { raw in
                (raw.load(fromByteOffset: n * MemoryLayout<Int>.stride, as: Int.self),
                 raw.load(fromByteOffset: (n + 1) * MemoryLayout<Int>.stride, as: Int.self))
            }
            let start = utf8.index(utf8.startIndex, offsetBy: from + 1)
            return path[start..<utf8.index(utf8.startIndex, offsetBy: to)]
        }
        switch matched {
        case .healthz, .readyz, .metrics, .openapi: self.init(route: matched)
        case .sessions: self.init(route: .sessions, agentSegment: part(1))
        case .message:
            self.init(route: .message, agentSegment: part(1), sessionSegment: part(3))
            seqSegment = part(5)
        case .session, .messages, .lease, .lastMessage: self.init(route: matched, agentSegment: part(1), sessionSegment: part(3))
        }
    }

    /// The routes without parameters, matched by their whole path.
    private static let fixedRoutes: [Route] = [.healthz, .readyz, .metrics, .openapi]

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

    private init(route: Route, agentSegment: Substring? = nil, sessionSegment: Substring? = nil) {
        self.route = route
        self.agentSegment = agentSegment
        self.sessionSegment = sessionSegment
    }

    /// The `{seq}` of `…/messages/{seq}`: a decimal integer from 1.
    /// - Throws: `APIError` `invalid_request` otherwise.
    func seq() throws(APIError) -> Int64 {
        let text = seqSegment.flatMap { PercentEncoding.decode($0.utf8) } ?? []
        guard !text.isEmpty, text.count <= 19, text.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let seq = Int64(String(decoding: text, as: UTF8.self)), seq >= 1 else {
            throw APIError.invalidRequest("The message seq must be an integer from 1 to \(Int64.max).")
        }
        return seq
    }

    /// The decoded, validated agent ID.
    /// - Throws: `APIError` `invalid_id` when the segment is empty, badly encoded, or breaks the ID rule.
    func agentID() throws(APIError) -> String {
        try RouteMatch.decodeID(agentSegment ?? "", name: "agent_id")
    }

    /// The decoded, validated session ID.
    /// - Throws: `APIError` `invalid_id`.
    func sessionID() throws(APIError) -> String {
        try RouteMatch.decodeID(sessionSegment ?? "", name: "session_id")
    }

    /// Percent-decodes a segment and applies the ID rule `^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$`.
    static func decodeID(_ segment: Substring, name: String) throws(APIError) -> String {
        var segment = segment
        // The common case, no escape: the bytes are checked where they are and copied once.
        let plain: Bool? = segment.withUTF8 { $0.contains(UInt8(ascii: "%")) ? nil : SessionID.isValid($0) }
        if plain == true { return String(segment) }
        guard plain == nil, let bytes = PercentEncoding.decode(segment.utf8), SessionID.isValid(bytes) else {
            throw APIError.invalidID("\(name) must match ^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$.")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
