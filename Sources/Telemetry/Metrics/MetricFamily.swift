/// What the registry needs from every family to render `/metrics`.
protocol MetricFamily: AnyObject, Sendable {
    /// The metric name, unique within a registry.
    var name: String { get }
    /// The `# TYPE` of the family.
    var type: MetricType { get }
    /// The label names, in the order `labels(...)` takes their values.
    var labelNames: [String] { get }
    /// Appends `# HELP`, `# TYPE` and every series in text format 0.0.4.
    func write(to out: inout String)
}
