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
        let options = WriteOptions(ttl: body.ttl, slidingTTL: body.slidingTTL, precondition: ifMatch(context))
        let store = self.store
        let result = try await context.store {
            try await store.append(key, messages: body.messages, options: options, idempotency: idempotency)
        }
        context.payloadBytes = body.messages.reduce(0) { $0 + $1.count }
        return json(201, ResourceJSON.appendResult(result), headers: [("ETag", HeaderRules.etag(result.version))])
    }

    /// `GET /agents/{a}/sessions/{s}/messages?limit=&after=`.
    func readMessages(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let query = try QueryParameters(context.head.query)
        let limit = Int(try query.integer("limit", in: 1...1000, default: 100) ?? 100)
        let after = try query.integer("after", in: 0...Int64.max, default: nil)
        let store = self.store
        let page = try await context.store { try await store.readMessages(key, limit: limit, after: after) }
        context.payloadBytes = page.messages.reduce(0) { $0 + $1.data.count }
        return json(200, ResourceJSON.messagePage(page))
    }

    /// `DELETE /agents/{a}/sessions/{s}/messages/last`: 200 with the removed message.
    func popMessage(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let precondition = ifMatch(context)
        let store = self.store
        let result = try await context.store { try await store.popMessage(key, precondition: precondition) }
        context.payloadBytes = result.message.data.count
        return json(200, ResourceJSON.message(result.message), headers: [("ETag", HeaderRules.etag(result.version))])
    }

    /// `DELETE /agents/{a}/sessions/{s}/messages`: 204, the state is kept.
    func clearMessages(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let precondition = ifMatch(context)
        let store = self.store
        let metadata = try await context.store { try await store.clearMessages(key, precondition: precondition) }
        return HTTPResponse(status: 204, headers: HTTPHeaders([("ETag", HeaderRules.etag(metadata.version))]))
    }
}
