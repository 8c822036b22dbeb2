import Synchronization

/// The series of one family, in creation order, keyed by their label values.
///
/// Looking up a series takes one of the family's 16 shard locks (never a registry-wide or
/// family-wide one); the returned handle records without any lock.
final class SeriesSet<Series: AnyObject & Sendable>: Sendable {
    /// One slice of the label-values → series index, with its own lock.
    private final class Shard: Sendable {
        let index = Mutex<[[String]: Series]>([:])
    }

    /// Lookups are spread over this many locks by the hash of the label values, so concurrent
    /// requests recording different (or even the same) series rarely wait for each other.
    private static var shardCount: Int { 16 }

    let name: String
    let help: String
    let labelNames: [String]
    private let make: @Sendable () -> Series
    private let shards: [Shard]
    /// Every series in creation order, for the exposition; touched only when a series is created or scraped.
    private let ordered = Mutex<[(labels: [String], series: Series)]>([])

    init(name: String, help: String, labelNames: [String], make: @escaping @Sendable () -> Series) {
        MetricName.validate(name: name, labelNames: labelNames)
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.make = make
        self.shards = (0..<Self.shardCount).map { _ in Shard() }
        // An unlabelled family has exactly one series; expose it (as 0) from the start.
        if labelNames.isEmpty {
            _ = series(for: [])
        }
    }

    /// The series for `values`, created on first use.
    func series(for values: [String]) -> Series {
        precondition(
            values.count == labelNames.count,
            "\(name) takes \(labelNames.count) label value(s) \(labelNames), got \(values.count)")
        let shard = shards[Int(UInt(bitPattern: values.hashValue) % UInt(Self.shardCount))]
        return shard.index.withLock { index in
            if let existing = index[values] {
                return existing
            }
            let created = make()
            index[values] = created
            // Lock order is always shard, then `ordered`.
            ordered.withLock { $0.append((values, created)) }
            return created
        }
    }

    /// Every series so far, in creation order.
    func snapshot() -> [(labels: [String], series: Series)] {
        ordered.withLock { $0 }
    }
}
