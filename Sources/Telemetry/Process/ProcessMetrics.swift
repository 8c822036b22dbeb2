/// The standard Prometheus process metrics, read from Linux `/proc` at scrape time.
///
/// See https://prometheus.io/docs/instrumenting/writing_clientlibs/#process-metrics.
public enum ProcessMetrics {
    /// One reading of the process metrics.
    public struct Sample: Sendable, Equatable {
        /// User plus system CPU time, in seconds.
        public var cpuSeconds: Double
        /// Resident set size, in bytes.
        public var residentMemoryBytes: Double
        /// Open file descriptors (including the one used to count them).
        public var openFDs: Double
        /// The soft limit on open file descriptors (`RLIMIT_NOFILE`).
        public var maxFDs: Double
        /// When the process started, in seconds since 1970.
        public var startTimeSeconds: Double
    }

    /// Registers `process_cpu_seconds_total` (counter), `process_resident_memory_bytes`,
    /// `process_open_fds`, `process_max_fds` and `process_start_time_seconds` (gauges).
    ///
    /// Each is read when scraped. A value that cannot be read (no `/proc`) is left out of the
    /// exposition rather than reported as 0.
    ///
    /// - Parameter registry: The registry to register in; call once per registry.
    public static func register(in registry: MetricsRegistry) {
        let startTime = ProcessStat.startTimeSeconds()
        registry.gauge(
            "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", type: .counter
        ) { sample(ProcessStat.read()?.cpuSeconds) }
        registry.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes.") {
            sample(ProcessStat.read()?.residentMemoryBytes)
        }
        registry.gauge("process_open_fds", help: "Number of open file descriptors.") {
            sample(ProcessStat.openFileDescriptors())
        }
        registry.gauge("process_max_fds", help: "Maximum number of open file descriptors.") {
            sample(ProcessStat.maxFileDescriptors())
        }
        registry.gauge(
            "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds."
        ) { sample(startTime) }
    }

    /// Reads every process metric now.
    ///
    /// - Returns: The reading, or nil when `/proc` is not available.
    public static func current() -> Sample? {
        guard let stat = ProcessStat.read(),
              let openFDs = ProcessStat.openFileDescriptors(),
              let maxFDs = ProcessStat.maxFileDescriptors(),
              let startTime = ProcessStat.startTimeSeconds()
        else { return nil }
        return Sample(
            cpuSeconds: stat.cpuSeconds, residentMemoryBytes: stat.residentMemoryBytes,
            openFDs: openFDs, maxFDs: maxFDs, startTimeSeconds: startTime)
    }

    private static func sample(_ value: Double?) -> [(labels: [String], value: Double)] {
        value.map { [([], $0)] } ?? []
    }
}
