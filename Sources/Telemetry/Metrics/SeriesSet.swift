import Synchronization

/// The series of one family, in creation order, keyed by their label values.
///
/// Creating or looking up a series takes this family's lock (never a registry-wide one);
/// the returned handle records without any lock.
final class SeriesSet<Series: AnyObject & Sendable>: Sendable {
    private struct State {
        var index: [[String]: Series] = [:]
        var ordered: [(labels: [String], series: Series)] = []
    }

    let name: String
    let help: String
    let labelNames: [String]
    private let make: @Sendable () -> Series
    private let state = Mutex(State())

    init(name: String, help: String, labelNames: [String], make: @escaping @Sendable () -> Series) {
        MetricName.validate(name: name, labelNames: labelNames)
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.make = make
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
        return state.withLock { state in
            if let existing = state.index[values] {
                return existing
            }
            let created = make()
            state.index[values] = created
            state.ordered.append((values, created))
            return created
        }
    }

    /// Every series so far, in creation order.
    func snapshot() -> [(labels: [String], series: Series)] {
        state.withLock { $0.ordered }
    }
}
