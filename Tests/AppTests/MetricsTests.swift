import Foundation
import Testing
import TestSupport

/// `/metrics` counts exactly, and never carries IDs.
@Suite(.offCooperativePool)
struct MetricsTests {
    /// The value of one series in an exposition, or 0 when it is absent.
    private func value(_ exposition: String, _ series: String) -> Double {
        for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1)) ?? -1
        }
        return 0
    }

    @Test func countersGrowByExactlyTheRequestsMade() async throws {
        let server = try await AgentStateProcess(["--log-level", "error"])
        let before = try await server.call("GET", "/metrics").text
        let (saves, misses, conflicts) = (4, 3, 2)
        for index in 0..<saves {
            #expect(try await server.call("PUT", "/agents/metric-agent/sessions/s\(index)", body: #"{"state":1}"#).status == 201)
        }
        for index in 0..<misses {
            #expect(try await server.call("GET", "/agents/metric-agent/sessions/missing\(index)").status == 404)
        }
        for _ in 0..<conflicts {
            #expect(try await server.call("PUT", "/agents/metric-agent/sessions/s0", headers: [("If-Match", #""9""#)], body: #"{"state":2}"#).status == 412)
        }
        let after = try await server.call("GET", "/metrics").text
        let route = "/agents/{agent_id}/sessions/{session_id}"
        func delta(_ series: String) -> Double { value(after, series) - value(before, series) }
        #expect(delta(#"agentstate_http_requests_total{method="PUT",route="\#(route)",status="201"}"#) == Double(saves))
        #expect(delta(#"agentstate_http_requests_total{method="GET",route="\#(route)",status="404"}"#) == Double(misses))
        #expect(delta(#"agentstate_http_requests_total{method="PUT",route="\#(route)",status="412"}"#) == Double(conflicts))
        #expect(delta(#"agentstate_store_operations_total{operation="save",outcome="ok"}"#) == Double(saves))
        #expect(delta(#"agentstate_store_operations_total{operation="load",outcome="not_found"}"#) == Double(misses))
        #expect(delta(#"agentstate_store_operations_total{operation="save",outcome="conflict"}"#) == Double(conflicts))
        #expect(delta(#"agentstate_http_request_duration_seconds_count{method="PUT",route="\#(route)"}"#) == Double(saves + conflicts))
        #expect(value(after, #"agentstate_build_info{version="0.1.0"}"#) == 1)
        #expect(value(after, "agentstate_http_connections_open") >= 1)
        #expect(value(after, "process_resident_memory_bytes") > 0)

        _ = try await server.call("GET", "/nope")
        let unmatched = try await server.call("GET", "/metrics").text
        #expect(value(unmatched, #"agentstate_http_requests_total{method="GET",route="unmatched",status="404"}"#) == 1)
        for id in ["metric-agent", "missing0", "s0", "/nope"] {
            #expect(!unmatched.contains("\"\(id)\""), "label values must never carry IDs or raw paths")
        }
    }

    @Test func requestLogLinesHaveTheContractKeys() async throws {
        let server = try await AgentStateProcess()
        #expect(try await server.call("PUT", "/agents/log-agent/sessions/secret-session", body: #"{"state":1}"#).status == 201)
        try await Task.sleep(for: .milliseconds(100))
        let line = try #require(server.log().split(separator: "\n").first { $0.contains(#""msg":"request""#) && $0.contains(#""method":"PUT""#) })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        for key in ["time", "level", "msg", "request_id", "method", "route", "status", "duration_ms", "bytes_in", "bytes_out"] {
            #expect(object[key] != nil, "missing log key \(key)")
        }
        #expect(object["route"] as? String == "/agents/{agent_id}/sessions/{session_id}")
        #expect(!server.log().contains("secret-session"), "IDs appear in logs only at debug level")
    }

    @Test func idsAreLoggedAtDebugLevel() async throws {
        let server = try await AgentStateProcess(["--log-level", "debug"])
        #expect(try await server.call("PUT", "/agents/debug-agent/sessions/debug-session", body: #"{"state":1}"#).status == 201)
        try await Task.sleep(for: .milliseconds(100))
        let line = try #require(server.log().split(separator: "\n").first { $0.contains(#""method":"PUT""#) })
        #expect(line.contains(#""agent_id":"debug-agent""#))
        #expect(line.contains(#""session_id":"debug-session""#))
    }
}
