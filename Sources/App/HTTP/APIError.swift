import Store
import Telemetry

/// An error that reaches the client as an RFC 9457 `application/problem+json` body.
///
/// Each has a stable snake_case `code` and one HTTP status; see DESIGN §3 "Errors and limits".
struct APIError: Error, Sendable, Equatable {
    var status: Int
    var code: String
    var detail: String
    /// Extra response headers, e.g. `Allow` or `Retry-After`.
    var headers: [(String, String)] = []
    /// For 412: the session's version, or nil when it is missing. Only rendered when `hasCurrentVersion`.
    var currentVersion: Int64?
    var hasCurrentVersion = false
    /// Extra problem members: `holder` and `expires_at` for 409 `lease_held`, `fencing_token`
    /// (the session's current one) for 409 `stale_fencing_token`.
    var lease: (holder: String, expiresAt: Int64)?
    var fencingToken: Int64?
    /// For a 500 from the store: why, for the error log line (never sent to the client).
    var internalReason: String?

    static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.detail == rhs.detail && lhs.currentVersion == rhs.currentVersion
    }

    /// The short, human-readable summary of the status (`title`).
    var title: String {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 412: return "Precondition Failed"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Content"
        case 431: return "Request Header Fields Too Large"
        case 503: return "Service Unavailable"
        default: return "Internal Server Error"
        }
    }

    static func invalidID(_ detail: String) -> APIError { APIError(status: 400, code: "invalid_id", detail: detail) }
    static func invalidJSON(_ detail: String) -> APIError { APIError(status: 400, code: "invalid_json", detail: detail) }
    static func invalidRequest(_ detail: String) -> APIError { APIError(status: 400, code: "invalid_request", detail: detail) }
    static func notFound(_ detail: String) -> APIError { APIError(status: 404, code: "not_found", detail: detail) }
    static let routeNotFound = APIError(status: 404, code: "route_not_found", detail: "No route matches this path.")
    static func methodNotAllowed(allow: String) -> APIError {
        APIError(status: 405, code: "method_not_allowed", detail: "This route allows \(allow).", headers: [("Allow", allow)])
    }
    static let requestTimeout = APIError(status: 408, code: "request_timeout", detail: "The request was not received in time.")
    static func preconditionFailed(currentVersion: Int64?) -> APIError {
        APIError(status: 412, code: "precondition_failed", detail: "The session's current version does not satisfy the request's precondition.",
                 currentVersion: currentVersion, hasCurrentVersion: true)
    }
    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(status: 413, code: "payload_too_large", detail: "The request body is larger than \(limit) bytes.")
    }
    static let uriTooLong = APIError(status: 414, code: "uri_too_long", detail: "The request target is longer than 8192 bytes.")
    static let unsupportedMediaType = APIError(status: 415, code: "unsupported_media_type", detail: "Request bodies must be JSON (application/json or */*+json).")
    static let headerTooLarge = APIError(status: 431, code: "header_too_large", detail: "The request header section is larger than 16384 bytes or has more than 100 fields.")
    static let internalError = APIError(status: 500, code: "internal", detail: "An internal error occurred; it was logged with this request ID.")
    static func backendUnavailable(_ detail: String) -> APIError {
        APIError(status: 503, code: "backend_unavailable", detail: detail, headers: [("Retry-After", "1")])
    }

    /// The problem+json body, with the request ID of the response.
    func body(requestID: String) -> [UInt8] {
        var json = JSONWriter(capacity: 256)
        json.raw("{")
        json.key("type"); json.string("https://agentstate.dev/problems/\(code.replacingOccurrences(of: "_", with: "-"))")
        json.raw(","); json.key("title"); json.string(title)
        json.raw(","); json.key("status"); json.int(status)
        json.raw(","); json.key("detail"); json.string(detail)
        json.raw(","); json.key("code"); json.string(code)
        json.raw(","); json.key("request_id"); json.string(requestID)
        if hasCurrentVersion {
            json.raw(","); json.key("current_version"); json.int(currentVersion)
        }
        if let lease {
            json.raw(","); json.key("holder"); json.string(lease.holder)
            json.raw(","); json.key("expires_at"); json.string(RFC3339.format(millisecondsSince1970: lease.expiresAt))
        }
        if let fencingToken {
            json.raw(","); json.key("fencing_token"); json.int(fencingToken)
        }
        json.raw("}")
        return json.bytes
    }
}

extension APIError {
    /// Maps a store error to its HTTP status and code.
    init(_ error: StoreError) {
        switch error {
        case .sessionNotFound: self = .notFound("The session does not exist.")
        case .noMessages: self = .notFound("The session has no messages.")
        case .messageNotFound: self = .notFound("The session has no such message.")
        case .keyConflict:
            self = APIError(status: 409, code: "key_conflict", detail: "A message key is already present in the session or repeated in the request; nothing was written.")
        case .sessionTooLarge(let limit):
            self = APIError(status: 409, code: "session_too_large", detail: "The write would take the session's state and message bytes past its cap of \(limit) bytes; nothing was written.")
        case .preconditionFailed(let version): self = .preconditionFailed(currentVersion: version)
        case .tooManyMessages(let limit):
            self = APIError(status: 409, code: "too_many_messages", detail: "The append would take the session past its cap of \(limit) messages; nothing was appended.")
        case .idempotencyKeyReused:
            self = APIError(status: 422, code: "idempotency_key_reused", detail: "This Idempotency-Key was already used with a different request body.")
        case .unavailable:
            self = .backendUnavailable("The storage backend is unavailable; nothing was written, so the request is safe to retry.")
        case .outcomeUnknown:
            self = .backendUnavailable("The storage backend took the write but did not answer in time: it may or may not have been applied. Retry with the same Idempotency-Key or If-Match, or read the session first.")
        case .replicationIncomplete(let acknowledged, let required):
            self = .backendUnavailable("The write reached the Redis primary, but only \(acknowledged) of the \(required) required replicas confirmed it in time: it may still become visible. Retry with the same Idempotency-Key or If-Match, or read the session first.")
        case .outOfMemory:
            self = .backendUnavailable("The storage backend is out of memory (Redis maxmemory); nothing was written. Reads and deletes still work.")
        case .staleFencingToken(let current):
            self = APIError(status: 409, code: "stale_fencing_token", detail: "The Fencing-Token is lower than the session's current fencing token \(current); nothing was written.")
            fencingToken = current
        case .leaseHeld(let holder, let expiresAt):
            self = APIError(status: 409, code: "lease_held", detail: "Another holder has a live lease on this session.")
            lease = (holder, expiresAt)
        case .leaseNotFound: self = .notFound("The session has no live lease.")
        case .internalError(let reason):
            self = .internalError
            internalReason = reason
        }
    }
}
