@testable import Telemetry

/// A registry with one of every kind of family, shaped like the app's catalog (DESIGN §6).
/// Its exposition is committed as `deploy/testdata/exposition.prom` and linted by promtool.
enum SampleExposition {
    static func make() -> MetricsRegistry {
        let registry = MetricsRegistry()
        let requests = registry.counter(
            "agentstate_http_requests_total", help: "HTTP requests by method, route template and status.",
            labelNames: ["method", "route", "status"])
        requests.labels("GET", "/agents/{agent_id}/sessions/{session_id}", "200").increment(by: 7)
        requests.labels("GET", "unmatched", "404").increment()
        let duration = registry.histogram(
            "agentstate_http_request_duration_seconds", help: "HTTP request latency in seconds.",
            labelNames: ["method", "route"], buckets: Buckets.latency)
        for value in [0.0002, 0.0009, 0.004, 0.3] {
            duration.labels("GET", "/agents/{agent_id}/sessions/{session_id}").observe(value)
        }
        registry.gauge("agentstate_http_requests_in_flight", help: "HTTP requests being served.").labels().set(2)
        registry.gauge("agentstate_http_connections_open", help: "Open HTTP connections.") { [([], 5)] }
        registry.histogram(
            "agentstate_store_payload_bytes", help: "Size of stored payloads in bytes.",
            labelNames: ["operation"], buckets: Buckets.payloadBytes
        ).labels("save").observe(1500)
        registry.gauge("agentstate_redis_connections", help: "Redis connections by state.", labelNames: ["state"]) {
            [(["connected"], 4), (["connecting"], 0)]
        }
        _ = registry.counter("agentstate_redis_reconnects_total", help: "Redis reconnects.")
        registry.gauge("agentstate_build_info", help: "Build information.", labelNames: ["version"]).labels("0.1.0")
            .set(1)
        registry.counter("escaping_total", help: "Help with a \\ backslash\nand a newline.", labelNames: ["v"])
            .labels("a \"quoted\" \\ value\nwith newline").increment()
        return registry
    }
}
