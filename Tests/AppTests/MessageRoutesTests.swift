import Foundation
import Testing
import TestSupport

/// The message routes over real sockets.
@Suite(.offCooperativePool)
struct MessageRoutesTests {
    @Test func appendReadPopClear() async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/chat/messages"
        let appended = try await server.call("POST", path, body: #"{"messages":[{"role":"user","n":9007199254740993},"two",3]}"#)
        #expect(appended.status == 201)
        #expect(appended.header("ETag") == #""1""#)
        #expect(appended.json["first_seq"] as? Int == 1 && appended.json["last_seq"] as? Int == 3)
        #expect(appended.json["message_count"] as? Int == 3 && appended.json["version"] as? Int == 1)

        let session = try await server.call("GET", String(path.dropLast("/messages".count)))
        #expect(session.text.hasSuffix(#""state":null}"#), "append creates the session with null state")

        let recent = try await server.call("GET", path + "?limit=2")
        #expect(recent.text == #"{"messages":[{"seq":2,"data":"two"},{"seq":3,"data":3}],"next_after":null,"next_before":null}"#)
        let after = try await server.call("GET", path + "?after=0&limit=2")
        #expect(after.text == #"{"messages":[{"seq":1,"data":{"role":"user","n":9007199254740993}},{"seq":2,"data":"two"}],"next_after":2,"next_before":null}"#)

        let popped = try await server.call("DELETE", path + "/last")
        #expect(popped.status == 200)
        #expect(popped.text == #"{"seq":3,"data":3}"#)
        #expect(popped.header("ETag") == #""2""#)

        let next = try await server.call("POST", path, body: #"{"messages":["four"]}"#)
        #expect(next.json["first_seq"] as? Int == 4, "a seq is never reused after a pop")

        let cleared = try await server.call("DELETE", path, headers: [("If-Match", #""3""#)])
        #expect(cleared.status == 204)
        #expect(cleared.header("ETag") == #""4""#)
        #expect(try await server.call("GET", path).text == #"{"messages":[],"next_after":null,"next_before":null}"#)
        #expect(try await server.call("DELETE", path + "/last").json["code"] as? String == "not_found")
        #expect(try await server.call("DELETE", path + "/last", headers: [("If-Match", #""1""#)]).status == 412,
                "a failed precondition wins over an empty log")
        #expect(try await server.call("POST", path, body: #"{"messages":[5]}"#).json["first_seq"] as? Int == 5)
        #expect(try await server.call("GET", "/agents/\(uniqueAgent())/sessions/none/messages").status == 404)
    }

    @Test func idempotentAppend() async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/s/messages"
        let body = #"{"messages":["a","b"]}"#
        let first = try await server.call("POST", path, headers: [("Idempotency-Key", "k-1")], body: body)
        let retry = try await server.call("POST", path, headers: [("Idempotency-Key", "k-1"), ("If-Match", #""99""#)], body: body)
        #expect(first.status == 201 && retry.status == 201)
        #expect(first.text == retry.text)
        #expect(retry.header("ETag") == first.header("ETag"))
        let reused = try await server.call("POST", path, headers: [("Idempotency-Key", "k-1")], body: #"{"messages":["c"]}"#)
        #expect(reused.status == 422)
        #expect(reused.json["code"] as? String == "idempotency_key_reused")
        #expect(try await server.call("POST", path, headers: [("Idempotency-Key", "bad key")], body: body).status == 400)
        let log = try await server.call("GET", path)
        #expect((log.json["messages"] as? [Any])?.count == 2)
    }

    @Test func messageCapIsEnforcedWithoutTrimming() async throws {
        let server = try await AgentStateProcess(["--max-messages", "3", "--log-level", "error"])
        let path = "/agents/capped/sessions/s/messages"
        #expect(try await server.call("POST", path, body: #"{"messages":[1,2]}"#).status == 201)
        let over = try await server.call("POST", path, body: #"{"messages":[3,4]}"#)
        #expect(over.status == 409)
        #expect(over.json["code"] as? String == "too_many_messages")
        #expect(try await server.call("POST", path, body: #"{"messages":[3]}"#).status == 201)
        #expect((try await server.call("GET", path).json["messages"] as? [Any])?.count == 3)
    }
}
