import Foundation
import Store
import Testing
import TestSupport
@testable import App

/// The session resource byte for byte: its writer splices constant member names and punctuation.
@Suite(.offCooperativePool)
struct ResourceJSONTests {
    static let created: Int64 = 1_795_341_600_123  // 2026-11-22T10:00:00.123Z

    @Test func bareSessionHasEveryMemberInOrder() throws {
        let metadata = SessionMetadata(agentID: "a", sessionID: "s", version: 3, createdAt: Self.created, updatedAt: Self.created + 1000,
                                       expiresAt: nil, ttlSeconds: nil, slidingTTL: false, messageCount: 0, stateBytes: 2)
        let text = String(decoding: ResourceJSON.session(metadata), as: UTF8.self)
        #expect(text == #"{"agent_id":"a","session_id":"s","version":3,"created_at":"2026-11-22T10:00:00.123Z","#
            + #""updated_at":"2026-11-22T10:00:01.123Z","expires_at":null,"ttl_seconds":null,"sliding_ttl":false,"#
            + #""message_count":0,"state_bytes":2,"message_bytes":0,"labels":{},"lease":null}"#)
    }

    @Test func fullSessionWithLabelsLeaseAndState() throws {
        let lease = Lease(holder: "worker \"1\"", fencingToken: 7, acquiredAt: Self.created, expiresAt: Self.created + 30_000)
        let metadata = SessionMetadata(agentID: "a", sessionID: "s", version: 9, createdAt: Self.created, updatedAt: Self.created,
                                       expiresAt: Self.created + 3_600_000, ttlSeconds: 3600, slidingTTL: true, messageCount: 4,
                                       stateBytes: 11, messageBytes: 20, labels: ["team": "ops", "user": "u:1"], lease: lease)
        let text = String(decoding: ResourceJSON.session(metadata, state: Array(#"{"k":[1,2]}"#.utf8)), as: UTF8.self)
        #expect(text == #"{"agent_id":"a","session_id":"s","version":9,"created_at":"2026-11-22T10:00:00.123Z","#
            + #""updated_at":"2026-11-22T10:00:00.123Z","expires_at":"2026-11-22T11:00:00.123Z","ttl_seconds":3600,"#
            + #""sliding_ttl":true,"message_count":4,"state_bytes":11,"message_bytes":20,"labels":{"team":"ops","user":"u:1"},"#
            + #""lease":{"holder":"worker \"1\"","fencing_token":7,"expires_at":"2026-11-22T10:00:30.123Z"},"state":{"k":[1,2]}}"#)
        // And it is JSON.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect((object["lease"] as? [String: Any])?["holder"] as? String == #"worker "1""#)
    }

    /// A body longer than the writer's first guess (many labels, escaped) moves to a buffer of its own and is
    /// still written whole: every label, the state after them, valid JSON.
    @Test func bodyLongerThanItsFirstBufferIsWrittenWhole() throws {
        var labels: [String: String] = [:]
        for index in 0..<40 { labels["label\(index)"] = String(repeating: "\"", count: 20) }
        let metadata = SessionMetadata(agentID: "a", sessionID: "s", version: 1, createdAt: 0, updatedAt: 0, expiresAt: nil, ttlSeconds: nil,
                                       slidingTTL: false, messageCount: 0, stateBytes: 2, labels: labels)
        let body = ResourceJSON.session(metadata, state: Array("{}".utf8))
        #expect(body.count > 320 + 2, "the case needs a body beyond the first buffer")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let written = try #require(object["labels"] as? [String: String])
        #expect(written == labels)
        #expect(String(decoding: body, as: UTF8.self).hasSuffix(#","state":{}}"#))
    }

    @Test func nullStateIsWrittenWhenAsked() {
        let metadata = SessionMetadata(agentID: "a", sessionID: "s", version: 1, createdAt: 0, updatedAt: 0,
                                       expiresAt: nil, ttlSeconds: nil, slidingTTL: false, messageCount: 0, stateBytes: 0)
        let text = String(decoding: ResourceJSON.session(metadata, state: .some(nil)), as: UTF8.self)
        #expect(text.hasSuffix(#""lease":null,"state":null}"#))
        #expect(text.contains(#""created_at":"1970-01-01T00:00:00.000Z""#))
    }
}
