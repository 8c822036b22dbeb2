import Synchronization

/// One gauge series: a name plus one set of label values.
///
/// The value is a `Double` kept as its bit pattern in an atomic; recording never takes a lock.
public final class Gauge: Sendable {
    private let bits = Atomic<UInt64>(0.0.bitPattern)

    init() {}

    /// Replaces the value.
    ///
    /// - Parameter value: The new value.
    public func set(_ value: Double) {
        bits.store(value.bitPattern, ordering: .relaxed)
    }

    /// Adds `amount` to the value.
    ///
    /// - Parameter amount: How much to add; may be negative.
    public func increment(by amount: Double = 1) {
        var current = bits.load(ordering: .relaxed)
        while true {
            let next = (Double(bitPattern: current) + amount).bitPattern
            let (exchanged, original) = bits.weakCompareExchange(
                expected: current, desired: next, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// Subtracts `amount` from the value.
    ///
    /// - Parameter amount: How much to subtract; may be negative.
    public func decrement(by amount: Double = 1) {
        increment(by: -amount)
    }

    /// The current value.
    public var value: Double {
        Double(bitPattern: bits.load(ordering: .relaxed))
    }
}

/// A gauge metric: every series sharing one name, `# HELP` and label names.
///
/// Get a series with ``labels(_:)-(String...)`` once and keep the handle; the lookup takes one
/// shard lock of the family, recording on the handle takes none.
public final class GaugeFamily: Sendable {
    let series: SeriesSet<Gauge>

    init(name: String, help: String, labelNames: [String]) {
        series = SeriesSet(name: name, help: help, labelNames: labelNames, make: Gauge.init)
    }

    /// The series for these label values, created on first use and cached.
    ///
    /// - Parameter values: One value per label name, in the order the names were registered.
    ///   A different count is a precondition failure.
    public func labels(_ values: String...) -> Gauge {
        series.series(for: values)
    }

    /// The series for these label values, created on first use and cached.
    ///
    /// - Parameter values: One value per label name, in the order the names were registered.
    ///   A different count is a precondition failure.
    public func labels(_ values: [String]) -> Gauge {
        series.series(for: values)
    }
}

extension GaugeFamily: MetricFamily {
    var name: String { series.name }
    var type: MetricType { .gauge }
    var labelNames: [String] { series.labelNames }

    func write(to out: inout String) {
        Exposition.writeHeader(name: series.name, help: series.help, type: .gauge, to: &out)
        for (labels, gauge) in series.snapshot() {
            Exposition.writeSample(
                name: series.name, labelNames: series.labelNames, labelValues: labels,
                value: Exposition.format(gauge.value), to: &out)
        }
    }
}
