import HTTPServer
import Store

extension APIHandler {
    /// How long `/readyz` waits for the store's ping.
    static let readinessTimeout: Duration = .seconds(1)

    /// `GET /readyz`: 200 when the store answers a ping within 1 s and the server is not draining.
    /// Plain JSON, not problem+json: it is a probe, not an error.
    func readiness() async -> HTTPResponse {
        if draining.load(ordering: .relaxed) {
            return json(503, Array(#"{"status":"unavailable","reason":"draining"}"#.utf8))
        }
        let store = self.store
        let answered = await Deadline.race(APIHandler.readinessTimeout, otherwise: false) {
            (try? await store.ping()) != nil
        }
        guard answered else {
            return json(503, Array(#"{"status":"unavailable","reason":"store_unreachable"}"#.utf8))
        }
        return json(200, Array(#"{"status":"ready"}"#.utf8))
    }
}
