/// A gauge or counter family whose samples are read from a closure at scrape time.
final class CallbackFamily: MetricFamily {
    let name: String
    let help: String
    let type: MetricType
    let labelNames: [String]
    private let collect: @Sendable () -> [(labels: [String], value: Double)]

    init(
        name: String, help: String, labelNames: [String], type: MetricType,
        collect: @escaping @Sendable () -> [(labels: [String], value: Double)]
    ) {
        MetricName.validate(name: name, labelNames: labelNames)
        precondition(type != .histogram, "\(name): a collected metric must be a gauge or a counter")
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
        self.collect = collect
    }

    func write(to out: inout String) {
        Exposition.writeHeader(name: name, help: help, type: type, to: &out)
        for sample in collect() {
            precondition(
                sample.labels.count == labelNames.count,
                "\(name) takes \(labelNames.count) label value(s) \(labelNames), collected \(sample.labels.count)")
            Exposition.writeSample(
                name: name, labelNames: labelNames, labelValues: sample.labels,
                value: Exposition.format(sample.value), to: &out)
        }
    }
}
