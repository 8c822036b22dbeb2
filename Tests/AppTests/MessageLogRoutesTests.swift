import Foundation
import TestSupport
import Testing

/// API v1.1's message-log routes (DESIGN §10) over real sockets, on the embedded store and on Redis.
@Suite(.offCooperativePool)
struct MessageLogRoutesTests {
    @Test func routesOnTheMemoryStore() async throws {
        try await exerciseMessageLogRoutes(try await service())
    }

    @Test func routesOnTheRedisStore() async throws {
        let redis = try await RedisServerProcess.shared()
        let server = try await AgentStateProcess(["--redis-url", redis.url, "--key-prefix", "e2e-\(UUID().uuidString):", "--log-level", "warning"])
        try await exerciseMessageLogRoutes(server)
        try await exerciseSizeCap(try await AgentStateProcess([
            "--redis-url", redis.url, "--key-prefix", "e2e-\(UUID().uuidString):", "--log-level", "warning", "--max-session-bytes", "100",
        ]))
    }

    @Test func sizeCapOnTheMemoryStore() async throws {
        try await exerciseSizeCap(try await AgentStateProcess(["--log-level", "warning", "--max-session-bytes", "100"]))
    }

    @Test func badInputIsRefusedWithProblems() async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/s/messages"
        #expect(try await server.call("POST", path, body: #"{"messages":[1,2]}"#).status == 201)
        let cases: [(method: String, target: String, body: String?, status: Int, code: String)] = [
            ("GET", path + "?after=1&before=2", nil, 400, "invalid_request"),
            ("GET", path + "?key=a&after=1", nil, 400, "invalid_request"),
            ("GET", path + "?key=a&before=1", nil, 400, "invalid_request"),
            ("GET", path + "?key=", nil, 400, "invalid_request"),
            ("GET", path + "?key=" + String(repeating: "k", count: 129), nil, 400, "invalid_request"),
            ("GET", path + "?key=a%20b", nil, 400, "invalid_request"),
            ("GET", path + "?before=-1", nil, 400, "invalid_request"),
            ("GET", path + "?before=x", nil, 400, "invalid_request"),
            ("GET", path + "?before=1&before=2", nil, 400, "invalid_request"),
            ("DELETE", path + "?before=1.5", nil, 400, "invalid_request"),
            ("DELETE", path + "/abc", nil, 400, "invalid_request"),
            ("DELETE", path + "/0", nil, 400, "invalid_request"),
            ("DELETE", path + "/-3", nil, 400, "invalid_request"),
            ("DELETE", path + "/99999999999999999999", nil, 400, "invalid_request"),
            ("GET", path + "/1", nil, 405, "method_not_allowed"),
            ("PUT", path, #"{"messages":{}}"#, 400, "invalid_request"),
            ("PUT", path, #"{"state":1}"#, 400, "invalid_request"),
            ("PUT", path, #"{"messages":[1]"#, 400, "invalid_json"),
            ("PUT", path, #"[1]"#, 400, "invalid_request"),
            ("PUT", path, #"{"messages":[1],"ttl_seconds":1.5}"#, 400, "invalid_request"),
            ("PUT", path, #"{"messages":[1],"keys":["a","b"]}"#, 400, "invalid_request"),
            ("PUT", path, #"{"messages":[1],"keys":[1]}"#, 400, "invalid_request"),
            ("POST", path, #"{"messages":[1],"keys":"a"}"#, 400, "invalid_request"),
            ("POST", path, #"{"messages":[1],"keys":[""]}"#, 400, "invalid_request"),
            ("POST", path, #"{"messages":[1],"keys":["\u00e9"]}"#, 400, "invalid_request"),
            ("POST", path, #"{"messages":[1,2],"keys":[null]}"#, 400, "invalid_request"),
            ("PUT", path, "{\"messages\":[" + Array(repeating: "1", count: 1001).joined(separator: ",") + "]}", 400, "invalid_request"),
        ]
        for test in cases {
            let response = try await server.call(test.method, test.target, body: test.body)
            #expect(response.status == test.status, "\(test.method) \(test.target.suffix(40)) \(test.body?.prefix(60) ?? "")")
            #expect(response.json["code"] as? String == test.code, "\(test.method) \(test.target.suffix(40))")
            #expect(response.header("Content-Type") == "application/problem+json")
        }
        #expect(try await server.call("GET", path + "/1").header("Allow") == "DELETE")
        // A malformed If-Match / If-None-Match is 400, not a silent mismatch (openapi.yaml gives the pattern).
        for (name, value, method) in [("If-Match", "", "DELETE"), ("If-Match", "ma5'", "DELETE"), ("If-None-Match", "3", "GET")] {
            let response = try await server.call(method, path + "?before=2", headers: [(name, value)])
            #expect(response.status == 400, "\(name): \(value)")
            #expect(response.json["code"] as? String == "invalid_request")
        }
        let unsupported = try await server.call("PUT", path, headers: [("Content-Type", "text/plain")], body: #"{"messages":[]}"#)
        #expect(unsupported.status == 415)
        // Nothing was written by any of them.
        let log = try await server.call("GET", path)
        #expect(log.text == #"{"messages":[{"seq":1,"data":1},{"seq":2,"data":2}],"next_after":null,"next_before":null}"#)
        #expect(log.header("ETag") == #""1""#)
    }

    @Test func ttlSecondsAcceptsIntegralNumbers() async throws {
        let server = try await service()
        let agent = uniqueAgent()
        for (index, literal) in ["3600.0", "3.6e3", "36E+2", "3600.000"].enumerated() {
            let saved = try await server.call("PUT", "/agents/\(agent)/sessions/s\(index)", body: #"{"state":1,"ttl_seconds":\#(literal)}"#)
            #expect(saved.status == 201, "ttl_seconds \(literal)")
            #expect(saved.json["ttl_seconds"] as? Int == 3600, "ttl_seconds \(literal)")
        }
        let appended = try await server.call("POST", "/agents/\(agent)/sessions/m/messages", body: #"{"messages":[1],"ttl_seconds":2916.0}"#)
        #expect(appended.status == 201)
        #expect(try await server.call("GET", "/agents/\(agent)/sessions/m").json["ttl_seconds"] as? Int == 2916)
        for literal in ["1.5", "0.0", "-1.0", "1e-1", "3600.01", "1e30", "\"3600\""] {
            let refused = try await server.call("PUT", "/agents/\(agent)/sessions/bad", body: #"{"state":1,"ttl_seconds":\#(literal)}"#)
            #expect(refused.status == 400, "ttl_seconds \(literal)")
        }
    }

    @Test func newOperationsAreCountedInMetrics() async throws {
        let server = try await AgentStateProcess(["--log-level", "warning"])
        let path = "/agents/metrics/sessions/s/messages"
        #expect(try await server.call("PUT", path, body: #"{"messages":[1,2,3]}"#).status == 201)
        #expect(try await server.call("DELETE", path + "?before=2").status == 200)
        #expect(try await server.call("DELETE", path + "/3").status == 200)
        #expect(try await server.call("DELETE", path + "/3").status == 404)
        #expect(try await server.call("DELETE", path).status == 204)
        let metrics = try await server.call("GET", "/metrics").text
        #expect(metrics.contains(#"agentstate_store_operations_total{operation="replace_messages",outcome="ok"} 1"#))
        #expect(metrics.contains(#"agentstate_store_operations_total{operation="trim_messages",outcome="ok"} 1"#))
        #expect(metrics.contains(#"agentstate_store_operations_total{operation="delete_message",outcome="ok"} 1"#))
        #expect(metrics.contains(#"agentstate_store_operations_total{operation="delete_message",outcome="not_found"} 1"#))
        #expect(metrics.contains(#"agentstate_store_operations_total{operation="clear_messages",outcome="ok"} 1"#))
        #expect(metrics.contains(#"agentstate_store_operation_duration_seconds_count{operation="replace_messages"} 1"#))
    }
}

/// Every v1.1 message route's success and refusal statuses against `server`.
private func exerciseMessageLogRoutes(_ server: AgentStateProcess) async throws {
    let agent = uniqueAgent()
    let path = "/agents/\(agent)/sessions/log/messages"

    // PUT creates (201), then replaces (200); seqs continue; an empty log has null seqs.
    let created = try await server.call("PUT", path, body: #"{"messages":["a","b","c"],"keys":["ka",null,"kc"],"ttl_seconds":3600.0}"#)
    #expect(created.status == 201)
    #expect(created.text == #"{"version":1,"first_seq":1,"last_seq":3,"message_count":3}"#)
    #expect(created.header("ETag") == #""1""#)
    let replaced = try await server.call("PUT", path, headers: [("If-Match", #""1""#)], body: #"{"messages":["d","e"],"keys":["ka","kb"]}"#)
    #expect(replaced.status == 200)
    #expect(replaced.text == #"{"version":2,"first_seq":4,"last_seq":5,"message_count":2}"#)
    let stale = try await server.call("PUT", path, headers: [("If-Match", #""1""#)], body: #"{"messages":[]}"#)
    #expect(stale.status == 412)
    #expect(stale.json["current_version"] as? Int == 2)

    // Keys: returned with their messages, found by key, conflicts refused with nothing written.
    #expect(try await server.call("GET", path).text
        == #"{"messages":[{"seq":4,"data":"d","key":"ka"},{"seq":5,"data":"e","key":"kb"}],"next_after":null,"next_before":null}"#)
    let byKey = try await server.call("GET", path + "?key=kb")
    #expect(byKey.status == 200)
    #expect(byKey.text == #"{"messages":[{"seq":5,"data":"e","key":"kb"}],"next_after":null,"next_before":null}"#)
    #expect(byKey.header("ETag") == #""2""#)
    #expect(try await server.call("GET", path + "?key=kc").status == 404, "the old log's keys went with it")
    let conflict = try await server.call("POST", path, body: #"{"messages":[1,2],"keys":["new","ka"]}"#)
    #expect(conflict.status == 409)
    #expect(conflict.json["code"] as? String == "key_conflict")
    #expect(try await server.call("POST", path, body: #"{"messages":[1,2],"keys":["x","x"]}"#).json["code"] as? String == "key_conflict")
    #expect(try await server.call("GET", path + "?key=new").status == 404)
    let appended = try await server.call("POST", path, body: #"{"messages":[6,7,8,9,10],"keys":["k6",null,null,null,"k10"]}"#)
    #expect(appended.json["first_seq"] as? Int == 6)

    // Read before, with next_before; ETag and 304 on reads.
    let older = try await server.call("GET", path + "?before=9&limit=2")
    #expect(older.text == #"{"messages":[{"seq":7,"data":7},{"seq":8,"data":8}],"next_after":null,"next_before":7}"#)
    #expect(older.header("ETag") == #""3""#)
    let oldest = try await server.call("GET", path + "?before=7&limit=10")
    #expect(oldest.text == #"{"messages":[{"seq":4,"data":"d","key":"ka"},{"seq":5,"data":"e","key":"kb"},{"seq":6,"data":6,"key":"k6"}],"next_after":null,"next_before":null}"#)
    let notModified = try await server.call("GET", path + "?before=9", headers: [("If-None-Match", #"W/"3""#)])
    #expect(notModified.status == 304)
    #expect(notModified.text.isEmpty)
    #expect(notModified.header("ETag") == #""3""#)
    #expect(try await server.call("GET", path, headers: [("If-None-Match", #""2""#)]).status == 200)
    #expect(try await server.call("GET", path + "?key=k6", headers: [("If-None-Match", "*")]).status == 304)

    // Delete one: 200 with the message (and its key); then 404; If-Match honoured.
    #expect(try await server.call("DELETE", path + "/10", headers: [("If-Match", #""2""#)]).status == 412)
    let deleted = try await server.call("DELETE", path + "/10", headers: [("If-Match", #""3""#)])
    #expect(deleted.status == 200)
    #expect(deleted.text == #"{"seq":10,"data":10,"key":"k10"}"#)
    #expect(deleted.header("ETag") == #""4""#)
    let again = try await server.call("DELETE", path + "/10")
    #expect(again.status == 404)
    #expect(again.json["code"] as? String == "not_found")
    #expect(try await server.call("GET", path + "?key=k10").status == 404)

    // Trim: 200 {deleted, version}; a no-op keeps the version; If-Match honoured.
    #expect(try await server.call("DELETE", path + "?before=7", headers: [("If-Match", #""3""#)]).status == 412)
    let trimmed = try await server.call("DELETE", path + "?before=7", headers: [("If-Match", #""4""#)])
    #expect(trimmed.status == 200)
    #expect(trimmed.text == #"{"deleted":3,"version":5}"#)
    #expect(trimmed.header("ETag") == #""5""#)
    #expect(try await server.call("DELETE", path + "?before=7").text == #"{"deleted":0,"version":5}"#)
    #expect(try await server.call("GET", path + "?after=0").json["messages"].map { ($0 as? [Any])?.count } == 3)

    // The session resource carries message_bytes ("7", "8", "9" are one byte each).
    let session = try await server.call("GET", "/agents/\(agent)/sessions/log")
    #expect(session.json["message_bytes"] as? Int == 3)
    #expect(session.json["message_count"] as? Int == 3)
    #expect(session.json["ttl_seconds"] as? Int == 3600)
    #expect(session.json["version"] as? Int == 5)

    // Missing sessions.
    let missing = "/agents/\(agent)/sessions/none/messages"
    #expect(try await server.call("DELETE", missing + "?before=3").status == 404)
    #expect(try await server.call("DELETE", missing + "/1").status == 404)
    #expect(try await server.call("GET", missing + "?key=a").status == 404)
    #expect(try await server.call("GET", missing + "?before=3").status == 404)
    #expect(try await server.call("DELETE", missing + "/1", headers: [("If-Match", "*")]).json["current_version"] is NSNull)
    let empty = try await server.call("PUT", "/agents/\(agent)/sessions/empty/messages", body: #"{"messages":[]}"#)
    #expect(empty.status == 201)
    #expect(empty.text == #"{"version":1,"first_seq":null,"last_seq":null,"message_count":0}"#)

    // Clearing without before keeps its v1 meaning and frees the keys.
    #expect(try await server.call("DELETE", path).status == 204)
    #expect(try await server.call("GET", path + "?key=k6").status == 404)
}

/// `--max-session-bytes 100`: writes past the cap are 409 `session_too_large` and write nothing.
private func exerciseSizeCap(_ server: AgentStateProcess) async throws {
    let path = "/agents/\(uniqueAgent())/sessions/s"
    let text = { (count: Int) in "\"" + String(repeating: "x", count: count - 2) + "\"" }
    #expect(try await server.call("PUT", path, body: #"{"state":\#(text(40))}"#).status == 201)
    #expect(try await server.call("POST", path + "/messages", body: #"{"messages":[\#(text(30)),\#(text(30))]}"#).status == 201)
    for (method, target, body) in [
        ("POST", path + "/messages", #"{"messages":[1]}"#),
        ("PUT", path + "/messages", #"{"messages":[\#(text(61))]}"#),
        ("PUT", path, #"{"state":\#(text(41))}"#),
    ] {
        let refused = try await server.call(method, target, body: body)
        #expect(refused.status == 409, "\(method) \(target)")
        #expect(refused.json["code"] as? String == "session_too_large")
    }
    let session = try await server.call("GET", path)
    #expect(session.json["version"] as? Int == 2)
    #expect(session.json["state_bytes"] as? Int == 40)
    #expect(session.json["message_bytes"] as? Int == 60)
    #expect(try await server.call("PUT", path + "/messages", body: #"{"messages":[\#(text(60))]}"#).status == 200, "exactly at the cap")
}
