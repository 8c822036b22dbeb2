import HTTPServer
import Store

extension APIHandler {
    /// How long `/readyz` waits for the store's ping.
    static let readinessTimeout: Duration = .seconds(1)

    /// `GET /readyz`: 200 when the store answers a ping within 1 s and the server is not draining.
    /// Plain JSON, not problem+json: it is a probe, not an error. When the store is unreachable, `reason`
    /// is `store_unreachable: ` and why (e.g. OpenSSL's reason for a Redis certificate that fails verification).
    func readiness() async -> HTTPResponse {
        if draining.load(ordering: .relaxed) {
            return json(503, Array(#"{"status":"unavailable","reason":"draining"}"#.utf8))
        }
        let store = self.store
        let failure: String? = await Deadline.race(APIHandler.readinessTimeout, otherwise: "no answer within 1 s") {
            do {
                try await store.ping()
                return nil
            } catch StoreError.unavailable(let reason) {
                return reason
            } catch {
                return String(describing: error)
            }
        }
        if let failure {
            var writer = JSONWriter()
            writer.raw(#"{"status":"unavailable","reason":"#)
            writer.string("store_unreachable: " + failure)
            writer.raw("}")
            return json(503, writer.bytes)
        }
        return json(200, Array(#"{"status":"ready"}"#.utf8))
    }
}
