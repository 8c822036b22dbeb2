import Foundation
import Testing
import TestSupport
@testable import Telemetry

@Suite(.offCooperativePool)
struct ExpositionTests {
    @Test func counterWithLabels() {
        let registry = MetricsRegistry()
        let requests = registry.counter(
            "agentstate_http_requests_total", help: "HTTP requests.", labelNames: ["method", "route", "status"])
        requests.labels("GET", "/healthz", "200").increment()
        requests.labels("PUT", "/agents/{agent_id}/sessions/{session_id}", "201").increment(by: 3)
        requests.labels(["GET", "/healthz", "200"]).increment(by: 1_000_000_000_000)
        #expect(registry.exposition() == """
            # HELP agentstate_http_requests_total HTTP requests.
            # TYPE agentstate_http_requests_total counter
            agentstate_http_requests_total{method="GET",route="/healthz",status="200"} 1000000000001
            agentstate_http_requests_total{method="PUT",route="/agents/{agent_id}/sessions/{session_id}",status="201"} 3

            """)
    }

    @Test func labelsReturnsTheCachedSeries() {
        let family = MetricsRegistry().counter("c_total", help: "h", labelNames: ["a"])
        #expect(family.labels("x") === family.labels(["x"]))
        #expect(family.labels("x") !== family.labels("y"))
    }

    @Test func unlabelledGaugeStartsAtZeroAndMoves() {
        let registry = MetricsRegistry()
        let inFlight = registry.gauge("agentstate_http_requests_in_flight", help: "In flight.").labels()
        #expect(registry.exposition().hasSuffix("agentstate_http_requests_in_flight 0\n"))
        inFlight.increment()
        inFlight.increment(by: 2.5)
        inFlight.decrement()
        #expect(inFlight.value == 2.5)
        #expect(registry.exposition() == """
            # HELP agentstate_http_requests_in_flight In flight.
            # TYPE agentstate_http_requests_in_flight gauge
            agentstate_http_requests_in_flight 2.5

            """)
        inFlight.set(-7)
        #expect(registry.exposition().hasSuffix("agentstate_http_requests_in_flight -7\n"))
    }

    @Test func callbackGauge() {
        let registry = MetricsRegistry()
        registry.gauge("agentstate_http_connections_open", help: "Open connections.") { [([], 42)] }
        registry.gauge("agentstate_redis_connections", help: "Redis connections.", labelNames: ["state"]) {
            [(["connected"], 3), (["connecting"], 0)]
        }
        registry.gauge("agentstate_index_pruned_total", help: "Pruned.", type: .counter) { [([], 12)] }
        registry.gauge("nothing_yet", help: "Collects nothing.") { [] }
        #expect(registry.exposition() == """
            # HELP agentstate_http_connections_open Open connections.
            # TYPE agentstate_http_connections_open gauge
            agentstate_http_connections_open 42
            # HELP agentstate_redis_connections Redis connections.
            # TYPE agentstate_redis_connections gauge
            agentstate_redis_connections{state="connected"} 3
            agentstate_redis_connections{state="connecting"} 0
            # HELP agentstate_index_pruned_total Pruned.
            # TYPE agentstate_index_pruned_total counter
            agentstate_index_pruned_total 12
            # HELP nothing_yet Collects nothing.
            # TYPE nothing_yet gauge

            """)
    }

    @Test func histogramIsCumulativeWithInfSumAndCount() {
        let registry = MetricsRegistry()
        let duration = registry.histogram(
            "agentstate_store_operation_duration_seconds", help: "Store operation latency.",
            labelNames: ["operation"], buckets: [0.00025, 0.005, 1, 2.5])
        let save = duration.labels("save")
        save.observe(0.0001)  // first bucket
        save.observe(0.00025)  // bounds are inclusive
        save.observe(0.003)
        save.observe(2)
        save.observe(10)  // only +Inf
        #expect(save.count == 5)
        #expect(save.sum == 0.0001 + 0.00025 + 0.003 + 2 + 10)
        _ = duration.labels("load")
        #expect(registry.exposition() == """
            # HELP agentstate_store_operation_duration_seconds Store operation latency.
            # TYPE agentstate_store_operation_duration_seconds histogram
            agentstate_store_operation_duration_seconds_bucket{operation="save",le="0.00025"} 2
            agentstate_store_operation_duration_seconds_bucket{operation="save",le="0.005"} 3
            agentstate_store_operation_duration_seconds_bucket{operation="save",le="1"} 3
            agentstate_store_operation_duration_seconds_bucket{operation="save",le="2.5"} 4
            agentstate_store_operation_duration_seconds_bucket{operation="save",le="+Inf"} 5
            agentstate_store_operation_duration_seconds_sum{operation="save"} \(Exposition.format(save.sum))
            agentstate_store_operation_duration_seconds_count{operation="save"} 5
            agentstate_store_operation_duration_seconds_bucket{operation="load",le="0.00025"} 0
            agentstate_store_operation_duration_seconds_bucket{operation="load",le="0.005"} 0
            agentstate_store_operation_duration_seconds_bucket{operation="load",le="1"} 0
            agentstate_store_operation_duration_seconds_bucket{operation="load",le="2.5"} 0
            agentstate_store_operation_duration_seconds_bucket{operation="load",le="+Inf"} 0
            agentstate_store_operation_duration_seconds_sum{operation="load"} 0
            agentstate_store_operation_duration_seconds_count{operation="load"} 0

            """)
    }

    @Test func unlabelledHistogramAndTrailingInfBucket() {
        let registry = MetricsRegistry()
        let histogram = registry.histogram("h_seconds", help: "h", buckets: [0.5, .infinity]).labels()
        histogram.observe(0.25)
        #expect(registry.exposition() == """
            # HELP h_seconds h
            # TYPE h_seconds histogram
            h_seconds_bucket{le="0.5"} 1
            h_seconds_bucket{le="+Inf"} 1
            h_seconds_sum 0.25
            h_seconds_count 1

            """)
    }

    @Test func labelValueAndHelpEscaping() {
        let registry = MetricsRegistry()
        registry.counter("escapes_total", help: #"A \ backslash and a"# + "\nnewline; \"quotes\" stay.", labelNames: ["v"])
            .labels(#"back\slash "quoted""# + "\nline").increment()
        #expect(registry.exposition() == #"""
            # HELP escapes_total A \\ backslash and a\nnewline; "quotes" stay.
            # TYPE escapes_total counter
            escapes_total{v="back\\slash \"quoted\"\nline"} 1

            """#)
    }

    @Test func emptyFamiliesPrintOnlyHelpAndType() {
        let registry = MetricsRegistry()
        _ = registry.counter("a_total", help: "A.", labelNames: ["x"])
        _ = registry.gauge("b", help: "B.", labelNames: ["x"])
        _ = registry.histogram("c_seconds", help: "C.", labelNames: ["x"], buckets: Buckets.latency)
        #expect(registry.exposition() == """
            # HELP a_total A.
            # TYPE a_total counter
            # HELP b B.
            # TYPE b gauge
            # HELP c_seconds C.
            # TYPE c_seconds histogram

            """)
        #expect(MetricsRegistry().exposition() == "")
    }

    @Test func registeringTheSameMetricAgainReturnsIt() {
        let registry = MetricsRegistry()
        let first = registry.counter("x_total", help: "X.", labelNames: ["a"])
        let second = registry.counter("x_total", help: "X.", labelNames: ["a"])
        #expect(first === second)
        let h1 = registry.histogram("y_seconds", help: "Y.", buckets: Buckets.latency)
        #expect(h1 === registry.histogram("y_seconds", help: "Y.", buckets: Buckets.latency))
        #expect(registry.exposition().components(separatedBy: "# TYPE x_total").count == 2)
    }

    @Test(arguments: [
        (0.0, "0"), (1.0, "1"), (-3.0, "-3"), (1_048_576.0, "1048576"), (0.0001, "0.0001"), (0.00025, "0.00025"),
        (2.5, "2.5"), (0.00001, "1e-05"), (1e20, "1e+20"), (0.1 + 0.2, "0.30000000000000004"),
        (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (Double.nan, "NaN"), (-0.0, "0"),
    ])
    func doubleFormatting(value: Double, expected: String) {
        #expect(Exposition.format(value) == expected)
    }

    @Test func latencyBucketBoundsPrintCanonically() {
        #expect(Buckets.latency.map(Exposition.format) == [
            "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
            "1", "2.5", "5",
        ])
        #expect(Buckets.payloadBytes.map(Exposition.format) == [
            "64", "256", "1024", "4096", "16384", "65536", "262144", "1048576", "4194304",
        ])
    }

    @Test func contentType() {
        #expect(MetricsRegistry.contentType == "text/plain; version=0.0.4; charset=utf-8")
    }

    @Test func wrongLabelCountIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            _ = MetricsRegistry().counter("c_total", help: "c", labelNames: ["a", "b"]).labels("only one")
        }
    }

    /// The sample the monitoring check lints with `promtool check metrics` must be what the
    /// registry renders today.
    @Test func sampleExpositionFileMatches() throws {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/testdata/exposition.prom")
        let rendered = SampleExposition.make().exposition()
        if ProcessInfo.processInfo.environment["TELEMETRY_WRITE_SAMPLE"] == "1" {
            try rendered.write(to: url, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == rendered)
    }
}
