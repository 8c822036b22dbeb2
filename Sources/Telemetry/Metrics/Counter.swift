import Synchronization

/// One counter series: a name plus one set of label values.
///
/// Recording is a single relaxed atomic add; it never takes a lock.
public final class Counter: Sendable {
    private let storage = Atomic<Int64>(0)

    init() {}

    /// Adds `amount` to the counter.
    ///
    /// - Parameter amount: How much to add. Must not be negative: a counter only goes up
    ///   (a precondition failure otherwise).
    public func increment(by amount: Int64 = 1) {
        precondition(amount >= 0, "Counter.increment(by:) needs a non-negative amount, got \(amount)")
        storage.add(amount, ordering: .relaxed)
    }

    /// The current value.
    public var value: Int64 {
        storage.load(ordering: .relaxed)
    }
}

/// A counter metric: every series sharing one name, `# HELP` and label names.
///
/// Get a series with ``labels(_:)-(String...)`` once and keep the handle; the lookup takes one
/// shard lock of the family, recording on the handle takes none.
public final class CounterFamily: Sendable {
    let series: SeriesSet<Counter>

    init(name: String, help: String, labelNames: [String]) {
        series = SeriesSet(name: name, help: help, labelNames: labelNames, make: Counter.init)
    }

    /// The series for these label values, created on first use and cached.
    ///
    /// - Parameter values: One value per label name, in the order the names were registered.
    ///   A different count is a precondition failure.
    public func labels(_ values: String...) -> Counter {
        series.series(for: values)
    }

    /// The series for these label values, created on first use and cached.
    ///
    /// - Parameter values: One value per label name, in the order the names were registered.
    ///   A different count is a precondition failure.
    public func labels(_ values: [String]) -> Counter {
        series.series(for: values)
    }
}

extension CounterFamily: MetricFamily {
    var name: String { series.name }
    var type: MetricType { .counter }
    var labelNames: [String] { series.labelNames }

    func write(to out: inout String) {
        Exposition.writeHeader(name: series.name, help: series.help, type: .counter, to: &out)
        for (labels, counter) in series.snapshot() {
            Exposition.writeSample(
                name: series.name, labelNames: series.labelNames, labelValues: labels,
                value: String(counter.value), to: &out)
        }
    }
}
