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
        case .healthz, .readyz, .metrics, .openapi: return [.GET, .HEAD]
        case .sessions: return [.GET, .HEAD, .DELETE]
        case .session: return [.GET, .HEAD, .PUT, .DELETE]
        case .messages: return [.GET, .HEAD, .PUT, .POST, .DELETE]
        case .lastMessage, .message: return [.DELETE]
        case .lease: return [.GET, .HEAD, .PUT, .DELETE]
        }
    }

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
        // Offsets of the up to 7 slashes, plus the end: segments are the bytes between them.
        var bounds = (0, 0, 0, 0, 0, 0, 0, 0)
        let count: Int? = path.withUTF8 { bytes in
            if let fixed = Self.fixedRoute(bytes) { return -1 - Self.fixedRoutes.firstIndex(of: fixed)! }
            // A trailing slash never matches (DESIGN §7: 404 route_not_found).
            guard bytes.first == UInt8(ascii: "/"), bytes.last != UInt8(ascii: "/") else { return nil }
            return withUnsafeMutableBytes(of: &bounds) { raw -> Int? in
                let marks = raw.bindMemory(to: Int.self)
                var found = 0
                for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "/") {
                    guard found < 7 else { return nil }
                    marks[found] = offset
                    found += 1
                }
                marks[found] = bytes.count
                let segments = found
                func segment(_ n: Int) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(rebasing: bytes[(marks[n] + 1)..<marks[n + 1]])
                }
                guard segments >= 3, segments <= 6, Self.segment(segment(0), is: "agents"),
                      Self.segment(segment(2), is: "sessions") else { return nil }
                switch segments {
                case 3, 4: return segments
                case 5 where Self.segment(segment(4), is: "messages"): return 5
                case 5 where Self.segment(segment(4), is: "lease"): return 50
                case 6 where Self.segment(segment(4), is: "messages"): return Self.segment(segment(5), is: "last") ? 60 : 6
                default: return nil
                }
            }
        }
        guard let count else { return nil }
        if count < 0 {
            self.init(route: Self.fixedRoutes[-1 - count])
            return
        }
        let utf8 = path.utf8
        func part(_ from: Int, _ to: Int) -> Substring {
            let start = utf8.index(utf8.startIndex, offsetBy: from + 1)
            return path[start..<utf8.index(utf8.startIndex, offsetBy: to)]
        }
        let agent = part(bounds.1, bounds.2)
        switch count {
        case 3: self.init(route: .sessions, agentSegment: agent)
        case 4: self.init(route: .session, agentSegment: agent, sessionSegment: part(bounds.3, bounds.4))
        case 5: self.init(route: .messages, agentSegment: agent, sessionSegment: part(bounds.3, bounds.4))
        case 50: self.init(route: .lease, agentSegment: agent, sessionSegment: part(bounds.3, bounds.4))
        case 60: self.init(route: .lastMessage, agentSegment: agent, sessionSegment: part(bounds.3, bounds.4))
        default:
            self.init(route: .message, agentSegment: agent, sessionSegment: part(bounds.3, bounds.4))
            seqSegment = part(bounds.5, bounds.6)
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
        guard let bytes = PercentEncoding.decode(segment.utf8), SessionID.isValid(bytes) else {
            throw APIError.invalidID("\(name) must match ^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$.")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
