import Testing
import TestSupport
@testable import Telemetry

@Suite(.offCooperativePool)
struct SeriesTableTests {
    /// A slot's series is made on first use only, is the family's own series for its labels, and appears in the
    /// exposition from then on; untouched slots never do.
    @Test func slotsAreMadeOnFirstUseAndAreTheFamilysSeries() {
        let registry = MetricsRegistry()
        let family = registry.counter("t_total", help: "t", labelNames: ["slot"])
        let table = SeriesTable(count: 4) { family.labels("s\($0)") }
        #expect(!registry.exposition().contains("t_total{"))
        table[2].increment(by: 5)
        #expect(table[2] === family.labels("s2"))
        #expect(table[2].value == 5)
        let exposition = registry.exposition()
        #expect(exposition.contains(#"t_total{slot="s2"} 5"#))
        #expect(!exposition.contains(#"slot="s0""#) && !exposition.contains(#"slot="s3""#))
    }

    /// Threads that reach a new slot at once all end up with one series, and no increment is lost.
    @Test func concurrentFirstUseSharesOneSeries() async {
        let family = MetricsRegistry().counter("r_total", help: "r", labelNames: ["slot"])
        let table = SeriesTable(count: 64) { family.labels(String($0)) }
        let tasks = 8, iterations = 2_000
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    for i in 0..<iterations { table[i % table.count].increment() }
                }
            }
        }
        let total = (0..<table.count).reduce(Int64(0)) { $0 + family.labels(String($1)).value }
        #expect(total == Int64(tasks * iterations))
        #expect((0..<table.count).allSatisfy { table[$0] === family.labels(String($0)) })
    }
}
