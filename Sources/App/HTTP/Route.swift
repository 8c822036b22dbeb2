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
    init?(path: String) {
        switch path {
        case "/healthz": self.init(route: .healthz)
        case "/readyz": self.init(route: .readyz)
        case "/metrics": self.init(route: .metrics)
        case "/openapi.yaml": self.init(route: .openapi)
        default:
            // A trailing slash never matches (DESIGN §7: 404 route_not_found).
            guard path.utf8.first == UInt8(ascii: "/"), path.utf8.last != UInt8(ascii: "/") else { return nil }
            let segments = path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), maxSplits: 6, omittingEmptySubsequences: false)
            guard segments.count >= 3, segments.count <= 6,
                  RouteMatch.segment(segments[0], is: "agents"), RouteMatch.segment(segments[2], is: "sessions") else { return nil }
            let agent = Substring(segments[1])
            switch segments.count {
            case 3: self.init(route: .sessions, agentSegment: agent)
            case 4: self.init(route: .session, agentSegment: agent, sessionSegment: Substring(segments[3]))
            case 5 where RouteMatch.segment(segments[4], is: "messages"):
                self.init(route: .messages, agentSegment: agent, sessionSegment: Substring(segments[3]))
            case 5 where RouteMatch.segment(segments[4], is: "lease"):
                self.init(route: .lease, agentSegment: agent, sessionSegment: Substring(segments[3]))
            case 6 where RouteMatch.segment(segments[4], is: "messages") && RouteMatch.segment(segments[5], is: "last"):
                self.init(route: .lastMessage, agentSegment: agent, sessionSegment: Substring(segments[3]))
            case 6 where RouteMatch.segment(segments[4], is: "messages"):
                self.init(route: .message, agentSegment: agent, sessionSegment: Substring(segments[3]))
                seqSegment = Substring(segments[5])
            default: return nil
            }
        }
    }

    /// Whether a path segment is the literal `word` once percent-decoded (`%73essions` is `sessions`).
    private static func segment(_ segment: Substring.UTF8View.SubSequence, is word: StaticString) -> Bool {
        let literal = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        if !segment.contains(UInt8(ascii: "%")) { return segment.elementsEqual(literal) }
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
