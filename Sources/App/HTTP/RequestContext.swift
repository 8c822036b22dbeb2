import Dispatch
import HTTPServer
import Store

/// One request on its way through the handler, with what the metrics need to know about it.
struct RequestContext {
    let request: HTTPRequest
    let requestID: String
    let match: RouteMatch
    let operation: StoreOperation?
    /// Time spent inside the store, when it was called.
    var storeSeconds: Double?
    /// State or message bytes moved by the operation, when it moved any.
    var payloadBytes: Int?

    init(request: HTTPRequest, requestID: String, match: RouteMatch, operation: StoreOperation?) {
        self.request = request
        self.requestID = requestID
        self.match = match
        self.operation = operation
    }

    var head: HTTPRequestHead { request.head }

    /// The session key of the path (IDs were validated by `resolve`).
    func sessionKey() throws(APIError) -> SessionKey {
        SessionKey(agentID: try match.agentID(), sessionID: try match.sessionID())
    }

    /// Runs one store call, timing it and turning `StoreError` into `APIError`.
    mutating func store<T>(_ body: () async throws -> T) async throws(APIError) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { storeSeconds = Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e9 }
        do {
            return try await body()
        } catch let error as StoreError {
            throw APIError(error)
        } catch {
            throw APIError.internalError
        }
    }
}
