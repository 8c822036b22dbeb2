import Testing
import TestSupport
@testable import Telemetry

@Suite(.offCooperativePool)
struct ConcurrencyTests {
    static let tasks = 8
    static let iterations = 10_000

    @Test func counterIncrementsAreExact() async {
        let family = MetricsRegistry().counter("c_total", help: "c", labelNames: ["task"])
        let shared = family.labels("shared")
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<Self.tasks {
                group.addTask {
                    // Half look the series up every time, half keep the handle.
                    for _ in 0..<Self.iterations {
                        if task.isMultiple(of: 2) { family.labels("shared").increment() } else { shared.increment() }
                    }
                }
            }
        }
        #expect(shared.value == Int64(Self.tasks * Self.iterations))
    }

    @Test func gaugeIncrementsAreExact() async {
        let gauge = MetricsRegistry().gauge("g", help: "g").labels()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<Self.tasks {
                group.addTask {
                    for _ in 0..<Self.iterations {
                        gauge.increment()
                        gauge.increment()
                        gauge.decrement()
                    }
                }
            }
        }
        #expect(gauge.value == Double(Self.tasks * Self.iterations))
    }

    @Test func histogramCountAndSumAreExact() async {
        let registry = MetricsRegistry()
        let histogram = registry.histogram("h_seconds", help: "h", buckets: [0.5, 1]).labels()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<Self.tasks {
                group.addTask {
                    // Quarters and whole numbers add exactly in binary floating point.
                    for index in 0..<Self.iterations {
                        histogram.observe(index.isMultiple(of: 2) ? 0.25 : 2)
                    }
                }
                group.addTask { _ = registry.exposition() }
            }
        }
        let total = Self.tasks * Self.iterations
        #expect(histogram.count == UInt64(total))
        #expect(histogram.sum == Double(total / 2) * 0.25 + Double(total / 2) * 2)
        let snapshot = histogram.snapshot()
        #expect(snapshot.cumulative == [UInt64(total / 2), UInt64(total / 2), UInt64(total)])
    }

    @Test func concurrentSeriesCreationYieldsOneHandlePerLabelSet() async {
        let family = MetricsRegistry().counter("c_total", help: "c", labelNames: ["n"])
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<Self.tasks {
                group.addTask {
                    for index in 0..<1000 { family.labels(String(index % 100)).increment() }
                }
            }
        }
        let series = family.series.snapshot()
        #expect(series.count == 100)
        #expect(series.allSatisfy { $0.series.value == Int64(Self.tasks * 10) })
    }
}
