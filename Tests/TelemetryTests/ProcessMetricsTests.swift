import Foundation
import Testing
import TestSupport
@testable import Telemetry

@Suite(.offCooperativePool)
struct ProcessMetricsTests {
    @Test func valuesAreSane() throws {
        let sample = try #require(ProcessMetrics.current())
        let now = Date().timeIntervalSince1970
        #expect(sample.residentMemoryBytes > 0)
        #expect(sample.openFDs > 0)
        #expect(sample.maxFDs >= sample.openFDs)
        #expect(sample.cpuSeconds >= 0)
        #expect(sample.startTimeSeconds <= now + 1)
        #expect(sample.startTimeSeconds > now - 86_400)
    }

    @Test func registersTheStandardNames() {
        let registry = MetricsRegistry()
        ProcessMetrics.register(in: registry)
        let text = registry.exposition()
        for (name, type) in [
            ("process_cpu_seconds_total", "counter"), ("process_resident_memory_bytes", "gauge"),
            ("process_open_fds", "gauge"), ("process_max_fds", "gauge"), ("process_start_time_seconds", "gauge"),
        ] {
            #expect(text.contains("# TYPE \(name) \(type)\n"))
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            let value = line.flatMap { Double($0.split(separator: " ")[1]) }
            #expect(value != nil, "\(name) has a numeric sample")
        }
    }

    @Test func parsesACommandNameWithSpacesAndParentheses() throws {
        // Fields 14, 15, 22 and 24 are utime, stime, starttime and rss.
        var fields = (3...52).map { String($0) }
        fields[0] = "S"
        fields[14 - 3] = "150"
        fields[15 - 3] = "50"
        fields[22 - 3] = "1234"
        fields[24 - 3] = "10"
        let line = "4242 (odd) name (x)) " + fields.joined(separator: " ") + "\n"
        let stat = try #require(ProcessStat.parseStat(line))
        #expect(stat.cpuSeconds == 200 / ProcessStat.clockTicksPerSecond)
        #expect(stat.startTicks == 1234)
        #expect(stat.residentMemoryBytes == 10 * ProcessStat.pageSize)
    }
}
