import HTTPServer
import Store

extension APIHandler {
    /// `/agents/{a}/sessions/{s}/lease` (DESIGN §11).
    func leaseRoute(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        switch context.head.method {
        case .PUT: return try await acquireLease(&context)
        case .GET, .HEAD: return try await getLease(&context)
        case .DELETE: return try await releaseLease(&context)
        default: throw APIError.methodNotAllowed(allow: context.match.route.allowHeader)
        }
    }

    /// `PUT …/lease` `{"holder", "ttl_ms"}`: 201 when acquired (a new fencing token), 200 when the
    /// holder renewed its live lease; 409 `lease_held` for another holder's.
    private func acquireLease(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let body = try LeaseBody(context.request.body)
        let store = self.store
        let result = try await context.store {
            try await store.acquireLease(key, holder: body.holder, ttlMilliseconds: body.ttlMilliseconds)
        }
        return json(result.acquired ? 201 : 200, ResourceJSON.lease(result.lease))
    }

    /// `GET …/lease`: 200 with the live lease, 404 when there is none.
    private func getLease(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let store = self.store
        let lease = try await context.store { try await store.lease(key) }
        return json(200, ResourceJSON.lease(lease))
    }

    /// `DELETE …/lease` with `Lease-Holder`: 204; 409 `lease_held` for another holder's lease.
    private func releaseLease(_ context: inout RequestContext) async throws(APIError) -> HTTPResponse {
        let key = try context.sessionKey()
        let values = context.head.headers.values("Lease-Holder")
        guard values.count == 1, HeaderRules.isValidIdempotencyKey(values[0]) else {
            throw APIError.invalidRequest("DELETE of a lease needs one Lease-Holder header of 1 to 128 visible ASCII characters.")
        }
        let holder = values[0]
        let store = self.store
        try await context.store { try await store.releaseLease(key, holder: holder) }
        return HTTPResponse(status: 204)
    }
}
