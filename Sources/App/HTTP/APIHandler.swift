import Dispatch
import HTTPServer
import Store
import Synchronization
import Telemetry

/// The HTTP face of agentstate: routes requests to the store and renders responses, errors,
/// metrics and request logs. The HTTP server calls it; it knows the server only through `HTTPHandler`.
final class APIHandler: HTTPHandler {
    let configuration: AppConfiguration
    let store: any StateStore
    /// The store again when its loads and saves finish without waiting (the embedded store), else nil.
    let inlineStore: (any InlineStateStore)?
    /// The store again when its loads and saves complete through a callback without a task (Redis through a
    /// connection pool), else nil.
    let callbackStore: (any CallbackStateStore)?
    let metrics: AppMetrics
    let logger: Logger
    let authenticator: Authenticator
    let requestIDs = RequestIDGenerator()
    /// Set once shutdown starts: `/readyz` answers 503 from then on.
    let draining = Atomic<Bool>(false)
    let openAPIDocument: [UInt8]

    init(configuration: AppConfiguration, store: any StateStore, metrics: AppMetrics, logger: Logger, openAPIDocument: [UInt8],
         authenticator: Authenticator = .disabled) {
        self.configuration = configuration
        self.store = store
        self.inlineStore = store as? any InlineStateStore
        // A store whose callbacks would run in tasks of its own (Cluster) is better served by `handle`'s task,
        // which prefers the request's loop.
        self.callbackStore = (store as? any CallbackStateStore).flatMap { $0.completesWithoutTask ? $0 : nil }
        self.metrics = metrics
        self.logger = logger
        self.authenticator = authenticator
        self.openAPIDocument = openAPIDocument
    }

    // MARK: - HTTPHandler

    func preflight(_ head: HTTPRequestHead) -> HTTPResponse? {
        var head = head
        return preflight(&head)
    }

    /// Resolves the route once (DESIGN §7 and §9 checks) and leaves it in `head.handlerContext` for `handle`.
    func preflight(_ head: inout HTTPRequestHead) -> HTTPResponse? {
        do {
            head.handlerContext = try resolve(head)
            return nil
        } catch {
            let route = RouteMatch(path: head.path)?.route
            countStoreOperation(route: route, head: head, status: error.status)
            let requestID = requestID(for: head)
            return finish(problem(error, requestID: requestID), requestID: requestID, head: head, route: route, bytesIn: 0)
        }
    }

    /// Takes session loads and saves off the task path: the embedded store answers them inline, on the loop
    /// thread; the Redis store (a ``CallbackStateStore``) sends the command at once and answers from the
    /// reply's completion, on this loop when its Redis connection is on it. Anything else goes to `handle`.
    func respond(to request: HTTPRequest, with responder: HTTPResponder) -> Bool {
        guard inlineStore != nil || callbackStore != nil, let resolved = request.head.handlerContext as? ResolvedRoute,
              resolved.match.route == .session else { return false }
        let method = request.head.method
        guard method == .GET || method == .HEAD || method == .PUT else { return false }
        metrics.httpInFlight.increment()
        var context = RequestContext(request: request, requestID: requestID(for: request.head), resolved: resolved)
        do {
            if let inlineStore {
                let response = try method == .PUT ? saveSession(&context, inline: inlineStore) : loadSession(&context, inline: inlineStore)
                answer(context, .success(response), responder)
            } else if let callbackStore {
                if method == .PUT {
                    try saveSession(context, callback: callbackStore, answering: responder)
                } else {
                    try loadSession(context, callback: callbackStore, answering: responder)
                }
            }
        } catch {
            answer(context, .failure(error), responder)
        }
        return true
    }

    /// Finishes a request taken by ``respond(to:with:)``: records it and hands the response to `responder`.
    func answer(_ context: RequestContext, _ outcome: consuming Result<HTTPResponse, APIError>, _ responder: HTTPResponder) {
        let response: HTTPResponse
        // Consumed, so that `finish` gets the only reference to the headers and stamps them in place.
        switch consume outcome {
        case .success(let success):
            response = success
            recordStore(context, status: response.status)
        case .failure(let error):
            response = failed(error, requestID: context.requestID, route: .session, head: context.request.head)
        }
        metrics.httpInFlight.decrement()
        responder.respond(finish(response, requestID: context.requestID, head: context.request.head, route: .session,
                                 bytesIn: context.request.bytesIn, tokenName: context.resolved.tokenName))
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        metrics.httpInFlight.increment()
        defer { metrics.httpInFlight.decrement() }
        let head = request.head
        let requestID = requestID(for: head)
        var route: Route?
        var tokenName: String?
        var response: HTTPResponse
        do {
            // Resolved by preflight on the event loop; resolving again only for a head that skipped it.
            let resolved = try (head.handlerContext as? ResolvedRoute) ?? resolve(head)
            route = resolved.match.route
            tokenName = resolved.tokenName
            var context = RequestContext(request: request, requestID: requestID, resolved: resolved)
            response = try await dispatch(&context)
            recordStore(context, status: response.status)
        } catch {
            response = failed(error, requestID: requestID, route: route, head: head)
        }
        return finish(response, requestID: requestID, head: head, route: route, bytesIn: request.bytesIn, tokenName: tokenName)
    }

    /// The problem response for a request that failed, counted in the store metrics; unexpected and
    /// internal errors are logged.
    private func failed(_ error: any Error, requestID: String, route: Route?, head: HTTPRequestHead) -> HTTPResponse {
        guard let error = error as? APIError else {
            logger.error("unexpected error", [(LogKey.requestID, .string(requestID)), ("error", .string(String(describing: error)))])
            return problem(.internalError, requestID: requestID)
        }
        if let reason = error.internalReason {
            logger.error("internal store error", [(LogKey.requestID, .string(requestID)), ("error", .string(String(reason.prefix(300))))])
        }
        countStoreOperation(route: route, head: head, status: error.status)
        return problem(error, requestID: requestID)
    }

    func protocolError(_ error: HTTPProtocolError, head: HTTPRequestHead?, receivedAtNanos: UInt64) -> HTTPResponse {
        let apiError: APIError
        switch error {
        case .malformed(let reason): apiError = .invalidRequest("Malformed HTTP request: \(reason).")
        case .uriTooLong: apiError = .uriTooLong
        case .headerTooLarge: apiError = .headerTooLarge
        case .payloadTooLarge: apiError = .payloadTooLarge(limit: configuration.maxBodyBytes)
        case .requestTimeout: apiError = .requestTimeout
        }
        let route = head.flatMap { RouteMatch(path: $0.path)?.route }
        if let head { countStoreOperation(route: route, head: head, status: apiError.status) }
        let requestID = head.map(requestID(for:)) ?? requestIDs.next()
        return finish(problem(apiError, requestID: requestID), requestID: requestID, method: head?.method, path: head?.path, route: route, bytesIn: 0,
                      receivedAtNanos: receivedAtNanos)
    }

    // MARK: - Routing

    /// Applies the checks that need no body, in DESIGN §7 and §9 order: route (404), method (405),
    /// auth (401, 403), IDs (400), Content-Type (415).
    /// - Returns: the route with its decoded IDs (nil where the route has none) and store operation.
    private func resolve(_ head: HTTPRequestHead) throws(APIError) -> ResolvedRoute {
        guard let match = RouteMatch(path: head.path) else { throw APIError.routeNotFound }
        guard match.route.allowedMethods.contains(head.method) else {
            throw APIError.methodNotAllowed(allow: match.route.allowHeader)
        }
        let tokenName = try authorize(head, match)
        let agentID = match.hasAgent ? try match.agentID() : nil
        let sessionID = match.hasSession ? try match.sessionID() : nil
        if match.route.takesBody(head.method), !HeaderRules.isJSONMediaType(head.headers["Content-Type"]) {
            throw APIError.unsupportedMediaType
        }
        return ResolvedRoute(match: match, agentID: agentID, sessionID: sessionID,
                             operation: StoreOperation(route: match.route, method: head.method, query: head.query), tokenName: tokenName)
    }

    /// The bearer-token check; counts each refusal in `agentstate_auth_failures_total`.
    /// - Returns: The name of the token that allowed the request, if one was needed.
    private func authorize(_ head: HTTPRequestHead, _ match: RouteMatch) throws(APIError) -> String? {
        let decision = authenticator.decide(route: match.route, method: head.method, agentSegment: match.agentSegment,
                                            authorization: head.headers["Authorization"])
        switch decision {
        case .allowed(let tokenName):
            return tokenName
        case .refused(let reason):
            metrics.authFailures.labels(reason.rawValue).increment()
            throw reason == .forbidden ? APIError.forbidden : APIError.unauthorized
        }
    }

    private func dispatch(_ context: inout RequestContext) async throws -> HTTPResponse {
        switch context.match.route {
        case .healthz: return json(200, Array(#"{"status":"ok"}"#.utf8))
        case .readyz: return await readiness()
        case .metrics:
            return HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", MetricsRegistry.contentType)]), body: Array(metrics.registry.exposition().utf8))
        case .openapi:
            return HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/yaml")]), body: openAPIDocument)
        case .sessions, .session, .messages, .lastMessage, .message:
            return try await sessionRoute(&context)
        case .lease:
            return try await leaseRoute(&context)
        }
    }

    // MARK: - Responses

    /// A JSON response.
    func json(_ status: Int, _ body: [UInt8], headers: [(String, String)] = []) -> HTTPResponse {
        // Room for X-Request-Id too, which `finish` adds.
        var fields = HTTPHeaders(capacity: headers.count + 2)
        fields.add("Content-Type", "application/json")
        for (name, value) in headers { fields.add(name, value) }
        return HTTPResponse(status: status, headers: fields, body: body)
    }

    /// A JSON response with an `ETag`, without a list of extra headers to build and walk.
    func json(_ status: Int, _ body: [UInt8], etag: String) -> HTTPResponse {
        var fields = HTTPHeaders(capacity: 3)
        fields.add("Content-Type", "application/json")
        fields.add("ETag", etag)
        return HTTPResponse(status: status, headers: fields, body: body)
    }

    private func problem(_ apiError: APIError, requestID: String) -> HTTPResponse {
        var headers = HTTPHeaders(capacity: apiError.headers.count + 2)
        headers.add("Content-Type", "application/problem+json")
        for (name, value) in apiError.headers { headers.add(name, value) }
        return HTTPResponse(status: apiError.status, headers: headers, body: apiError.body(requestID: requestID))
    }

    private func requestID(for head: HTTPRequestHead) -> String {
        if let incoming = head.headers["X-Request-Id"], HeaderRules.isValidRequestID(incoming) { return incoming }
        return requestIDs.next()
    }

    /// Stamps the request ID, records the HTTP metrics and writes the request log line.
    private func finish(_ response: consuming HTTPResponse, requestID: String, head: borrowing HTTPRequestHead, route: Route?, bytesIn: Int,
                        tokenName: String? = nil) -> HTTPResponse {
        finish(response, requestID: requestID, method: head.method, path: head.path, route: route, bytesIn: bytesIn,
               receivedAtNanos: head.receivedAtNanos, tokenName: tokenName)
    }

    /// ``finish(_:requestID:head:route:bytesIn:tokenName:)`` from the parts of the head it reads (nil when the
    /// head was not parsed), so that no head is copied.
    private func finish(_ response: consuming HTTPResponse, requestID: String, method requestMethod: HTTPMethod?, path: String?,
                        route: Route?, bytesIn: Int, receivedAtNanos: UInt64?, tokenName: String? = nil) -> HTTPResponse {
        var response = response
        // Added, not set: no handler path adds its own (`set` compared every field's name first).
        assert(!response.headers.contains("X-Request-Id"), "X-Request-Id is stamped only here")
        response.headers.add("X-Request-Id", requestID)
        let now = DispatchTime.now().uptimeNanoseconds
        let seconds = receivedAtNanos.map { Double(now &- $0) / 1e9 } ?? 0
        let methodSlot = RequestSeries.methodSlot(requestMethod), routeSlot = RequestSeries.routeSlot(route)
        metrics.requests.countRequest(method: methodSlot, route: routeSlot, status: response.status)
        metrics.requests.duration(method: methodSlot, route: routeSlot).observe(seconds)
        if logger.isEnabled(.info) {
            let routeLabel = RequestSeries.routes[routeSlot], method = RequestSeries.methods[methodSlot]
            let bytesOut = requestMethod == .HEAD ? 0 : response.body.count
            logger.log(.info, "request") { line in
                line.string(LogKey.requestID, requestID)
                line.string(LogKey.method, method)
                line.string(LogKey.route, routeLabel)
                line.int(LogKey.status, Int64(response.status))
                line.double(LogKey.durationMS, (seconds * 1e6).rounded() / 1e3)
                line.int(LogKey.bytesIn, Int64(bytesIn))
                line.int(LogKey.bytesOut, Int64(bytesOut))
                if let tokenName { line.string(LogKey.tokenName, tokenName) }
                // IDs only at debug level (DESIGN §6), and only once validated.
                if logger.isEnabled(.debug), let path, let match = RouteMatch(path: path) {
                    if let agent = try? match.agentID() { line.string("agent_id", agent) }
                    if let session = try? match.sessionID() { line.string("session_id", session) }
                }
            }
        }
        return response
    }

    private func recordStore(_ context: RequestContext, status: Int) {
        guard let operation = context.operation else { return }
        countStoreOperation(route: context.match.route, head: context.head, status: status)
        let slot = RequestSeries.operationSlot(operation)
        if let seconds = context.storeSeconds { metrics.requests.storeDuration[slot].observe(seconds) }
        if let bytes = context.payloadBytes { metrics.requests.storePayload[slot].observe(Double(bytes)) }
    }

    /// Counts a request to a store route in `agentstate_store_operations_total`, whatever its outcome.
    private func countStoreOperation(route: Route?, head: HTTPRequestHead, status: Int) {
        guard let route, let operation = StoreOperation(route: route, method: head.method, query: head.query) else { return }
        metrics.requests.countOperation(operation, status: status)
    }
}
