import Synchronization

/// One histogram series: a name plus one set of label values.
///
/// Each series has its own small lock box (bucket counts, sum, count), so an observation never
/// contends with other series and a scrape always sees a consistent sum and count.
public final class Histogram: Sendable {
    private struct State {
        /// Non-cumulative counts; the last slot is the `+Inf` bucket.
        var bucketCounts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    /// Upper bounds, strictly increasing, without `+Inf`.
    let upperBounds: [Double]
    private let state: Mutex<State>

    init(upperBounds: [Double]) {
        self.upperBounds = upperBounds
        state = Mutex(State(bucketCounts: Array(repeating: 0, count: upperBounds.count + 1)))
    }

    /// Records one observation in the first bucket whose upper bound is `>= value`.
    ///
    /// - Parameter value: The observed value, such as a duration in seconds.
    public func observe(_ value: Double) {
        // Binary search for the first bound >= value; NaN lands in +Inf only.
        var low = 0
        var high = upperBounds.count
        while low < high {
            let mid = (low + high) / 2
            if value <= upperBounds[mid] { high = mid } else { low = mid + 1 }
        }
        let index = value.isNaN ? upperBounds.count : low
        state.withLock { state in
            state.bucketCounts[index] += 1
            state.sum += value
            state.count += 1
        }
    }

    /// How many observations were recorded.
    public var count: UInt64 {
        state.withLock { $0.count }
    }

    /// The sum of every observation.
    public var sum: Double {
        state.withLock { $0.sum }
    }

    /// A consistent copy: cumulative counts per bucket (the last is `+Inf`), sum and count.
    func snapshot() -> (cumulative: [UInt64], sum: Double, count: UInt64) {
        let (counts, sum, count) = state.withLock { ($0.bucketCounts, $0.sum, $0.count) }
        var running: UInt64 = 0
        let cumulative = counts.map { running += $0; return running }
        return (cumulative, sum, count)
    }
}

/// A histogram metric: every series sharing one name, `# HELP`, label names and buckets.
///
/// Get a series with ``labels(_:)-(String...)`` once and keep the handle; the lookup takes one
/// shard lock of the family, observing on the handle takes only that series' lock.
public final class HistogramFamily: Sendable {
    let series: SeriesSet<Histogram>
    /// Upper bounds without `+Inf`.
    let upperBounds: [Double]

    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        var bounds = buckets
        if bounds.last == .infinity { bounds.removeLast() }
        precondition(!bounds.contains { $0.isNaN || $0.isInfinite }, "\(name): bucket bounds must be finite")
        precondition(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "\(name): buckets must increase strictly")
        precondition(!labelNames.contains("le"), "\(name): a histogram cannot have a label named le")
        let upperBounds = bounds
        self.upperBounds = upperBounds
        series = SeriesSet(name: name, help: help, labelNames: labelNames) { Histogram(upperBounds: upperBounds) }
    }

    /// The series for these label values, created on first use and cached.
    ///
    /// - Parameter values: One value per label name, in the order the names were registered.
    ///   A different count is a precondition failure.
    public func labels(_ values: String...) -> Histogram {
        series.series(for: values)
    }

    /// The series for these label values, created on first use and cached.
    ///
    /// - Parameter values: One value per label name, in the order the names were registered.
    ///   A different count is a precondition failure.
    public func labels(_ values: [String]) -> Histogram {
        series.series(for: values)
    }
}

extension HistogramFamily: MetricFamily {
    var name: String { series.name }
    var type: MetricType { .histogram }
    var labelNames: [String] { series.labelNames }

    func write(to out: inout String) {
        let name = series.name
        let labelNames = series.labelNames
        Exposition.writeHeader(name: name, help: series.help, type: .histogram, to: &out)
        let bounds = upperBounds.map(Exposition.format) + ["+Inf"]
        for (labels, histogram) in series.snapshot() {
            let (cumulative, sum, count) = histogram.snapshot()
            for (bound, bucketCount) in zip(bounds, cumulative) {
                Exposition.writeSample(
                    name: name + "_bucket", labelNames: labelNames, labelValues: labels,
                    extraLabel: ("le", bound), value: String(bucketCount), to: &out)
            }
            Exposition.writeSample(
                name: name + "_sum", labelNames: labelNames, labelValues: labels,
                value: Exposition.format(sum), to: &out)
            Exposition.writeSample(
                name: name + "_count", labelNames: labelNames, labelValues: labels,
                value: String(count), to: &out)
        }
    }
}
