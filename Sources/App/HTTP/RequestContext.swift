import Dispatch
import HTTPServer
import Store

/// A request's route after the checks that need no body, with its IDs decoded once.
///
/// A class: it travels from `preflight` to `handle` in the head's `handlerContext`, which boxes a value
/// this size on the heap anyway, and then is read from several places; each copy of a struct retained
/// its five strings.
final class ResolvedRoute: Sendable {
    let match: RouteMatch
    /// The validated agent ID, when the route has one.
    let agentID: String?
    /// The validated session ID, when the route has one.
    let sessionID: String?
    let operation: StoreOperation?
    /// The name of the bearer token that authorized the request, when auth is on.
    let tokenName: String?

    init(match: RouteMatch, agentID: String?, sessionID: String?, operation: StoreOperation?, tokenName: String?) {
        self.match = match
        self.agentID = agentID
        self.sessionID = sessionID
        self.operation = operation
        self.tokenName = tokenName
    }
}

/// One request on its way through the handler, with what the metrics need to know about it.
struct RequestContext {
    let request: HTTPRequest
    let requestID: String
    let resolved: ResolvedRoute
    /// Time spent inside the store, when it was called.
    var storeSeconds: Double?
    /// State or message bytes moved by the operation, when it moved any.
    var payloadBytes: Int?

    init(request: HTTPRequest, requestID: String, resolved: ResolvedRoute) {
        self.request = request
        self.requestID = requestID
        self.resolved = resolved
    }

    var head: HTTPRequestHead { request.head }
    var match: RouteMatch { resolved.match }
    var operation: StoreOperation? { resolved.operation }

    /// The agent ID of the path, decoded and validated by `resolve`.
    func agentID() throws(APIError) -> String {
        guard let agentID = resolved.agentID else { throw APIError.routeNotFound }
        return agentID
    }

    /// The session key of the path, decoded and validated by `resolve`.
    func sessionKey() throws(APIError) -> SessionKey {
        guard let sessionID = resolved.sessionID else { throw APIError.routeNotFound }
        return SessionKey(agentID: try agentID(), sessionID: sessionID)
    }

    /// Runs one store call, timing it and turning `StoreError` into `APIError`.
    mutating func store<T>(_ body: () async throws -> T) async throws(APIError) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { storeSeconds = Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e9 }
        do {
            return try await body()
        } catch {
            throw Self.apiError(error)
        }
    }

    /// ``store(_:)`` for a call that does not suspend (an ``InlineStateStore``'s).
    mutating func storeInline<T>(_ body: () throws -> T) throws(APIError) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { storeSeconds = Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e9 }
        do {
            return try body()
        } catch {
            throw Self.apiError(error)
        }
    }

    /// The outcome of a store call that completed through a callback, started at `start`
    /// (`DispatchTime` nanoseconds), timed and with its error mapped as ``store(_:)`` does.
    mutating func stored<T>(_ result: Result<T, any Error>, since start: UInt64) throws(APIError) -> T {
        storeSeconds = Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e9
        switch result {
        case .success(let value): return value
        case .failure(let error): throw Self.apiError(error)
        }
    }

    /// A store call's error as the API's: `StoreError`s mapped, anything else internal.
    private static func apiError(_ error: any Error) -> APIError {
        (error as? StoreError).map(APIError.init) ?? .internalError
    }
}
