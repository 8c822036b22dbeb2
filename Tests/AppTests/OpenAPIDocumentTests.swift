import Foundation
import Testing
import TestSupport
@testable import App

@Suite(.offCooperativePool)
struct OpenAPIDocumentTests {
    /// The copy compiled into the binary must be the committed `openapi.yaml` (run scripts/embed-openapi).
    @Test func embeddedCopyMatchesTheFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        #expect(OpenAPIDocument.yaml + "\n" == file, "openapi.yaml changed: run scripts/embed-openapi")
    }

    /// Every problem code the handlers can produce is listed in the spec's enum.
    @Test func problemCodesAreDocumented() {
        for code in ["invalid_id", "invalid_json", "invalid_request", "not_found", "route_not_found", "method_not_allowed",
                     "request_timeout", "too_many_messages", "precondition_failed", "payload_too_large", "uri_too_long",
                     "unsupported_media_type", "idempotency_key_reused", "header_too_large", "internal", "backend_unavailable",
                     "stale_fencing_token", "lease_held"] {
            #expect(OpenAPIDocument.yaml.contains(code))
        }
    }
}
