/// The Prometheus metric types this registry exposes, spelled as in a `# TYPE` line.
public enum MetricType: String, Sendable {
    /// A monotonically increasing value, reset only when the process restarts.
    case counter
    /// A value that can go up and down.
    case gauge
    /// Observations counted into cumulative buckets, with their sum and count.
    case histogram
}
