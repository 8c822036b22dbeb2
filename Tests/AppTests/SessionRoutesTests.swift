import Foundation
import Testing
import TestSupport

/// The session routes, driven over real sockets against the real binary.
@Suite(.offCooperativePool)
struct SessionRoutesTests {
    @Test func createReplaceLoadDelete() async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/user-42"
        let state = #"{"n": 9007199254740993, "big": 12345678901234567890, "f": 0.1, "s": "h\u00e9"}"#

        let created = try await server.call("PUT", path, body: #"{"state": \#(state), "ttl_seconds": 3600}"#)
        #expect(created.status == 201)
        #expect(created.header("Location") == path)
        #expect(created.header("ETag") == #""1""#)
        #expect(created.header("Content-Type") == "application/json")
        #expect(created.json["version"] as? Int == 1)
        #expect(created.json["state"] == nil)
        #expect(created.json["state_bytes"] as? Int == state.utf8.count)
        #expect(created.json["ttl_seconds"] as? Int == 3600)
        #expect((created.json["expires_at"] as? String)?.hasSuffix("Z") == true)

        let replaced = try await server.call("PUT", path, body: #"{"state": \#(state)}"#)
        #expect(replaced.status == 200)
        #expect(replaced.header("ETag") == #""2""#)
        #expect(replaced.header("Location") == nil)
        #expect(replaced.json["ttl_seconds"] as? Int == 3600, "ttl_seconds left out keeps the policy")

        let loaded = try await server.call("GET", path)
        #expect(loaded.status == 200)
        #expect(loaded.header("ETag") == #""2""#)
        #expect(loaded.text.hasSuffix(#","state":\#(state)}"#), "state must round-trip byte for byte")

        let notModified = try await server.call("GET", path, headers: [("If-None-Match", #"W/"2""#)])
        #expect(notModified.status == 304)
        #expect(notModified.body.isEmpty)
        #expect(notModified.header("ETag") == #""2""#)
        #expect(try await server.call("GET", path, headers: [("If-None-Match", #""1""#)]).status == 200)

        let head = try await server.call("HEAD", path)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.header("Content-Length") == String(loaded.body.count))

        #expect(try await server.call("DELETE", path).status == 204)
        let gone = try await server.call("GET", path)
        #expect(gone.status == 404)
        #expect(gone.header("Content-Type") == "application/problem+json")
        #expect(gone.json["code"] as? String == "not_found")
        #expect(try await server.call("DELETE", path).status == 404)
    }

    @Test func preconditions() async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/s"
        let missing = try await server.call("PUT", path, headers: [("If-Match", #""1""#)], body: #"{"state":1}"#)
        #expect(missing.status == 412)
        #expect(missing.json["current_version"] is NSNull)
        #expect(try await server.call("PUT", path, headers: [("If-None-Match", "*")], body: #"{"state":1}"#).status == 201)
        let exists = try await server.call("PUT", path, headers: [("If-None-Match", "*")], body: #"{"state":2}"#)
        #expect(exists.status == 412)
        #expect(exists.json["current_version"] as? Int == 1)
        let stale = try await server.call("PUT", path, headers: [("If-Match", #""7", W/"1""#)], body: #"{"state":2}"#)
        #expect(stale.status == 412, "weak tags never match If-Match")
        #expect(stale.json["current_version"] as? Int == 1)
        #expect(try await server.call("PUT", path, headers: [("If-Match", #""3", "1""#)], body: #"{"state":2}"#).status == 200)
        #expect(try await server.call("DELETE", path, headers: [("If-Match", #""1""#)]).status == 412)
        #expect(try await server.call("DELETE", path, headers: [("If-Match", "*")]).status == 204)
    }

    @Test func listOrdersAndPages() async throws {
        let server = try await service()
        let agent = uniqueAgent()
        for index in 0..<7 {
            #expect(try await server.call("PUT", "/agents/\(agent)/sessions/s\(index)", body: #"{"state":\#(index)}"#).status == 201)
            try await Task.sleep(for: .milliseconds(3))
        }
        // Touching s2 moves it to the top.
        #expect(try await server.call("POST", "/agents/\(agent)/sessions/s2/messages", body: #"{"messages":[1]}"#).status == 201)
        var seen: [String] = []
        var cursor: String?
        for _ in 0..<10 {
            let query = cursor.map { "?limit=3&cursor=\($0)" } ?? "?limit=3"
            let page = try await server.call("GET", "/agents/\(agent)/sessions\(query)")
            #expect(page.status == 200)
            let sessions = try #require(page.json["sessions"] as? [[String: Any]])
            #expect(sessions.allSatisfy { $0["state"] == nil })
            seen += sessions.compactMap { $0["session_id"] as? String }
            cursor = page.json["next_cursor"] as? String
            if cursor == nil { break }
        }
        #expect(seen == ["s2", "s6", "s5", "s4", "s3", "s1", "s0"])
        #expect(try await server.call("GET", "/agents/\(agent)/sessions?cursor=bogus").status == 400)
        #expect(try await server.call("GET", "/agents/\(agent)/sessions?limit=0").status == 400)

        let deleted = try await server.call("DELETE", "/agents/\(agent)/sessions")
        #expect(deleted.status == 200)
        #expect(deleted.json["deleted"] as? Int == 7)
        let empty = try await server.call("GET", "/agents/\(agent)/sessions")
        #expect((empty.json["sessions"] as? [Any])?.isEmpty == true)
        #expect(empty.json["next_cursor"] is NSNull)
    }

    @Test func expiredSessionIsGoneEverywhere() async throws {
        let server = try await service()
        let agent = uniqueAgent()
        #expect(try await server.call("PUT", "/agents/\(agent)/sessions/brief", body: #"{"state":1,"ttl_seconds":1}"#).status == 201)
        try await Task.sleep(for: .milliseconds(1300))
        #expect(try await server.call("GET", "/agents/\(agent)/sessions/brief").status == 404)
        let list = try await server.call("GET", "/agents/\(agent)/sessions")
        #expect((list.json["sessions"] as? [Any])?.isEmpty == true)
    }

    @Test func malformedIfNoneMatchIsRefusedEvenBesideIfMatch() async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/s"
        #expect(try await server.call("PUT", path, body: #"{"state":1}"#).status == 201)
        for value in ["", "3", #""1"x"#] {
            let response = try await server.call("PUT", path, headers: [("If-Match", "*"), ("If-None-Match", value)], body: #"{"state":2}"#)
            #expect(response.status == 400, "If-None-Match '\(value)'")
            #expect(response.json["code"] as? String == "invalid_request")
        }
        #expect(try await server.call("GET", path).json["version"] as? Int == 1, "nothing was written")
    }
}
