import Dispatch
import HTTPServer
import Store

extension APIHandler {
    /// Routes under `/agents/{agent_id}/sessions`.
    func sessionRoute(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let method = context.head.method
        switch (context.match.route, method) {
        case (.session, .PUT): return try await saveSession(&context)
        case (.session, .GET), (.session, .HEAD): return try await loadSession(&context)
        case (.session, .DELETE): return try await deleteSession(&context)
        case (.sessions, .GET), (.sessions, .HEAD): return try await listSessions(&context)
        case (.sessions, .DELETE): return try await deleteAllSessions(&context)
        case (.messages, .POST): return try await appendMessages(&context)
        case (.messages, .GET), (.messages, .HEAD): return try await readMessages(&context)
        case (.messages, .DELETE): return try await clearMessages(&context)
        case (.messages, .PUT): return try await replaceMessages(&context)
        case (.message, .DELETE): return try await deleteMessage(&context)
        case (.lastMessage, .DELETE): return try await popMessage(&context)
        default: throw APIError.methodNotAllowed(allow: context.match.route.allowHeader)
        }
    }

    /// `PUT /agents/{a}/sessions/{s}`: 201 + Location when created, 200 when replaced.
    private func saveSession(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let save = try saveArguments(context)
        let store = self.store
        let result = try await context.store { try await store.save(save.key, state: save.state, options: save.options) }
        return saved(result, stateBytes: save.state.count, &context)
    }

    /// `saveSession` on an ``InlineStateStore``, without suspending.
    func saveSession(_ context: inout RequestContext, inline store: any InlineStateStore) throws(APIError) -> HTTPResponse {
        let save = try saveArguments(context)
        let result = try context.storeInline { try store.save(save.key, state: save.state, options: save.options) }
        return saved(result, stateBytes: save.state.count, &context)
    }

    /// `saveSession` on a ``CallbackStateStore``: the response (or the error) goes to `responder` through
    /// ``answer(_:_:_:)`` when the store completes, on whichever thread it completes. The store's callback
    /// calls `answer` itself: one closure per request, not one wrapping another.
    func saveSession(_ context: RequestContext, callback store: any CallbackStateStore, answering responder: HTTPResponder) throws(APIError) {
        let save = try saveArguments(context)
        let stateBytes = save.state.count
        let start = DispatchTime.now().uptimeNanoseconds
        store.save(save.key, state: save.state, options: save.options) { [self] result in
            var context = context
            let outcome = Result { () throws(APIError) in saved(try context.stored(result, since: start), stateBytes: stateBytes, &context) }
            answer(context, outcome, responder)
        }
    }

    /// The key, state and write options of a save, from the path, the body and the headers.
    private func saveArguments(_ context: RequestContext) throws(APIError) -> (key: SessionKey, state: [UInt8], options: WriteOptions) {
        let key = try context.sessionKey()
        let body = try SaveBody(context.request.body, maxTTL: configuration.maxTTLSeconds)
        // Both headers are validated, even though If-Match wins when both are sent.
        let ifMatch = try HeaderRules.entityTags(context.head.headers.values("If-Match"), allowWeak: false, header: "If-Match")
        let ifNoneMatch = try HeaderRules.entityTags(context.head.headers.values("If-None-Match"), allowWeak: true, header: "If-None-Match")
        let precondition = (ifMatch.map(Precondition.ifMatch) ?? ifNoneMatch.map(Precondition.ifNoneMatch) ?? .none)
            .fenced(by: try fencingToken(context))
        let options = WriteOptions(ttl: body.ttl, slidingTTL: body.slidingTTL, precondition: precondition, labels: body.labels)
        return (key, body.state, options)
    }

    /// The response to a save.
    private func saved(_ result: SaveResult, stateBytes: Int, _ context: inout RequestContext) -> HTTPResponse {
        context.payloadBytes = stateBytes
        let etag = HeaderRules.etag(result.metadata.version)
        guard result.created else { return json(200, ResourceJSON.session(result.metadata), etag: etag) }
        return json(201, ResourceJSON.session(result.metadata), headers: [("ETag", etag), ("Location", context.head.path)])
    }

    /// `GET`/`HEAD /agents/{a}/sessions/{s}`: 200 with ETag, or 304 for a matching `If-None-Match`.
    private func loadSession(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let store = self.store
        let session = try await context.store { try await store.load(key) }
        return try loaded(session, &context)
    }

    /// `loadSession` on an ``InlineStateStore``, without suspending.
    func loadSession(_ context: inout RequestContext, inline store: any InlineStateStore) throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let session = try context.storeInline { try store.load(key) }
        return try loaded(session, &context)
    }

    /// `loadSession` on a ``CallbackStateStore``, as ``saveSession(_:callback:answering:)``.
    func loadSession(_ context: RequestContext, callback store: any CallbackStateStore, answering responder: HTTPResponder) throws(APIError) {
        let key = try context.sessionKey()
        let start = DispatchTime.now().uptimeNanoseconds
        store.load(key) { [self] result in
            var context = context
            let outcome = Result { () throws(APIError) in try loaded(context.stored(result, since: start), &context) }
            answer(context, outcome, responder)
        }
    }

    /// The response to a load: 304 for a matching `If-None-Match`, else the session.
    private func loaded(_ session: Session, _ context: inout RequestContext) throws(APIError) -> HTTPResponse {
        let etag = HeaderRules.etag(session.metadata.version)
        if let tags = try HeaderRules.entityTags(context.head.headers.values("If-None-Match"), allowWeak: true, header: "If-None-Match"),
           tags.matches(version: session.metadata.version) {
            return HTTPResponse(status: 304, headers: HTTPHeaders([("ETag", etag)]))
        }
        context.payloadBytes = session.state?.count ?? 0
        return json(200, ResourceJSON.session(session.metadata, state: .some(session.state)), etag: etag)
    }

    /// `DELETE /agents/{a}/sessions/{s}`: 204.
    private func deleteSession(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let precondition = try mutationPrecondition(context)
        let store = self.store
        try await context.store { try await store.delete(key, precondition: precondition) }
        return HTTPResponse(status: 204)
    }

    /// `GET /agents/{a}/sessions?limit=&cursor=[&label=k:v | &prefix=P]`.
    private func listSessions(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let agentID = try context.agentID()
        let query = try QueryParameters(context.head.query)
        let limit = Int(try query.integer("limit", in: 1...1000, default: 50) ?? 50)
        var cursor: ListCursor?
        if let encoded = try query.single("cursor") {
            guard let decoded = ListCursor(encoded: encoded) else { throw APIError.invalidRequest("The cursor is malformed.") }
            cursor = decoded
        }
        let filter = try SessionFilter(query)
        let store = self.store
        let page = try await context.store {
            switch filter {
            case .all: return try await store.list(agentID: agentID, limit: limit, cursor: cursor, label: nil)
            case .label(let label): return try await store.list(agentID: agentID, limit: limit, cursor: cursor, label: label)
            case .prefix(let prefix): return try await store.list(agentID: agentID, prefix: prefix, limit: limit, after: cursor?.sessionID)
            }
        }
        return json(200, ResourceJSON.sessionPage(page))
    }

    /// `DELETE /agents/{a}/sessions[?prefix=P]`: 200 `{"deleted": n}`.
    private func deleteAllSessions(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let agentID = try context.agentID()
        let filter = try SessionFilter(try QueryParameters(context.head.query))
        let store = self.store
        let count: Int
        switch filter {
        case .all: count = try await context.store { try await store.deleteAll(agentID: agentID) }
        case .prefix(let prefix): count = try await context.store { try await store.deleteAll(agentID: agentID, prefix: prefix) }
        case .label: throw APIError.invalidRequest("DELETE of the session list takes 'prefix', not 'label'.")
        }
        return json(200, Array("{\"deleted\":\(count)}".utf8))
    }

    /// The precondition of a mutation: `If-Match` (or `.none`) and `Fencing-Token`.
    /// - Throws: `invalid_request` for a malformed header.
    func mutationPrecondition(_ context: RequestContext) throws(APIError) -> Precondition {
        let tags = try HeaderRules.entityTags(context.head.headers.values("If-Match"), allowWeak: false, header: "If-Match")
        return (tags.map(Precondition.ifMatch) ?? .none).fenced(by: try fencingToken(context))
    }

    /// The request's `Fencing-Token`, or nil.
    /// - Throws: `invalid_request` for a malformed header.
    func fencingToken(_ context: RequestContext) throws(APIError) -> Int64? {
        try HeaderRules.fencingToken(context.head.headers.values("Fencing-Token"))
    }
}
