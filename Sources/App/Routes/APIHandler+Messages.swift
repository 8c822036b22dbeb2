import HTTPServer
import Store

extension APIHandler {
    /// `POST /agents/{a}/sessions/{s}/messages`: 201 with the appended range.
    func appendMessages(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        var idempotency: IdempotencyToken?
        if let keyValue = context.head.headers["Idempotency-Key"] {
            guard HeaderRules.isValidIdempotencyKey(keyValue) else {
                throw APIError.invalidRequest("Idempotency-Key must be 1 to 128 visible ASCII characters.")
            }
            idempotency = IdempotencyToken(key: keyValue, bodyDigest: SHA256.hexDigest(context.request.body))
        }
        let body = try AppendBody(context.request.body, maxTTL: configuration.maxTTLSeconds)
        let options = WriteOptions(ttl: body.ttl, slidingTTL: body.slidingTTL, precondition: try mutationPrecondition(context), labels: body.labels)
        let store = self.store
        let result = try await context.store {
            try await store.append(key, messages: body.messages, keys: body.keys, options: options, idempotency: idempotency)
        }
        context.payloadBytes = body.messages.reduce(0) { $0 + $1.count }
        return json(201, ResourceJSON.appendResult(result), etag: HeaderRules.etag(result.version))
    }

    /// `PUT /agents/{a}/sessions/{s}/messages`: replaces the whole log; 201 when it created the
    /// session, else 200.
    func replaceMessages(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let body = try AppendBody(context.request.body, maxTTL: configuration.maxTTLSeconds, allowEmpty: true)
        let options = WriteOptions(ttl: body.ttl, slidingTTL: body.slidingTTL, precondition: try mutationPrecondition(context), labels: body.labels)
        let store = self.store
        let result = try await context.store {
            try await store.replaceMessages(key, messages: body.messages, keys: body.keys, options: options)
        }
        context.payloadBytes = body.messages.reduce(0) { $0 + $1.count }
        return json(result.created ? 201 : 200, ResourceJSON.replaceResult(result), etag: HeaderRules.etag(result.version))
    }

    /// `GET /agents/{a}/sessions/{s}/messages?limit=&after=|before=|key=`, with the session's
    /// ETag; 304 for a matching `If-None-Match`.
    func readMessages(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let query = try QueryParameters(context.head.query)
        let limit = Int(try query.integer("limit", in: 1...1000, default: 100) ?? 100)
        let after = try query.integer("after", in: 0...Int64.max, default: nil)
        let before = try query.integer("before", in: 0...Int64.max, default: nil)
        let messageKey = try query.single("key")
        if after != nil, before != nil {
            throw APIError.invalidRequest("Query parameters 'after' and 'before' are exclusive.")
        }
        if let messageKey {
            guard after == nil, before == nil else {
                throw APIError.invalidRequest("Query parameter 'key' is exclusive with 'after' and 'before'.")
            }
            guard HeaderRules.isValidIdempotencyKey(messageKey) else {
                throw APIError.invalidRequest("Query parameter 'key' must be 1 to 128 visible ASCII characters.")
            }
        }
        let store = self.store
        let page = try await context.store {
            if let messageKey { return try await store.message(key, withKey: messageKey) }
            let form: MessageQuery = if let after { .after(after) } else if let before { .before(before) } else { .recent }
            return try await store.readMessages(key, limit: limit, query: form)
        }
        let etag = HeaderRules.etag(page.version)
        if let tags = try HeaderRules.entityTags(context.head.headers.values("If-None-Match"), allowWeak: true, header: "If-None-Match"),
           tags.matches(version: page.version) {
            return HTTPResponse(status: 304, headers: HTTPHeaders([("ETag", etag)]))
        }
        context.payloadBytes = page.messages.reduce(0) { $0 + $1.data.count }
        return json(200, ResourceJSON.messagePage(page), etag: etag)
    }

    /// `DELETE /agents/{a}/sessions/{s}/messages/last`: 200 with the removed message.
    func popMessage(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let precondition = try mutationPrecondition(context)
        let store = self.store
        let result = try await context.store { try await store.popMessage(key, precondition: precondition) }
        context.payloadBytes = result.message.data.count
        return json(200, ResourceJSON.message(result.message), etag: HeaderRules.etag(result.version))
    }

    /// `DELETE /agents/{a}/sessions/{s}/messages/{seq}`: 200 with the removed message.
    func deleteMessage(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let seq = try context.match.seq()
        let precondition = try mutationPrecondition(context)
        let store = self.store
        let result = try await context.store { try await store.deleteMessage(key, seq: seq, precondition: precondition) }
        context.payloadBytes = result.message.data.count
        return json(200, ResourceJSON.message(result.message), etag: HeaderRules.etag(result.version))
    }

    /// `DELETE /agents/{a}/sessions/{s}/messages`: 204, the state is kept. With `?before=S`, a
    /// trim: 200 `{"deleted", "version"}`.
    func clearMessages(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let query = try QueryParameters(context.head.query)
        let before = try query.integer("before", in: 0...Int64.max, default: nil)
        let precondition = try mutationPrecondition(context)
        let store = self.store
        if let before {
            let result = try await context.store { try await store.trimMessages(key, before: before, precondition: precondition) }
            return json(200, ResourceJSON.trimResult(result), etag: HeaderRules.etag(result.version))
        }
        let metadata = try await context.store { try await store.clearMessages(key, precondition: precondition) }
        return HTTPResponse(status: 204, headers: HTTPHeaders([("ETag", HeaderRules.etag(metadata.version))]))
    }
}
