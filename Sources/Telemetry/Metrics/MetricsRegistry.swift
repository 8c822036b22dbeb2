import Synchronization

/// Every metric family of a process, rendered for Prometheus on `/metrics`.
///
/// Registering a family takes the registry's lock; recording on a series never does.
/// Registering the same name again with the same type and label names (and buckets) returns the
/// existing family, so independent components can ask for a shared metric; registering it with a
/// different shape is a precondition failure.
public final class MetricsRegistry: Sendable {
    private struct State {
        var families: [any MetricFamily] = []
        var byName: [String: any MetricFamily] = [:]
    }

    private let state = Mutex(State())

    /// The `Content-Type` of ``exposition()``: Prometheus text format 0.0.4.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Creates an empty registry.
    public init() {}

    /// Registers (or returns the existing) counter family.
    ///
    /// - Parameters:
    ///   - name: The metric name, ideally ending in `_total`.
    ///   - help: The `# HELP` text.
    ///   - labelNames: Label names; `labels(...)` takes one value per name, in this order.
    /// - Returns: The family; an unlabelled family's single series exists (as 0) at once.
    public func counter(_ name: String, help: String, labelNames: [String] = []) -> CounterFamily {
        register(name, type: .counter, labelNames: labelNames) {
            CounterFamily(name: name, help: help, labelNames: labelNames)
        }
    }

    /// Registers (or returns the existing) gauge family.
    ///
    /// - Parameters:
    ///   - name: The metric name.
    ///   - help: The `# HELP` text.
    ///   - labelNames: Label names; `labels(...)` takes one value per name, in this order.
    /// - Returns: The family; an unlabelled family's single series exists (as 0) at once.
    public func gauge(_ name: String, help: String, labelNames: [String] = []) -> GaugeFamily {
        register(name, type: .gauge, labelNames: labelNames) {
            GaugeFamily(name: name, help: help, labelNames: labelNames)
        }
    }

    /// Registers (or returns the existing) histogram family.
    ///
    /// - Parameters:
    ///   - name: The metric name, ideally ending in the unit (`_seconds`, `_bytes`).
    ///   - help: The `# HELP` text.
    ///   - labelNames: Label names; must not include `le`.
    ///   - buckets: Finite upper bounds, strictly increasing (see ``Buckets``); `+Inf` is added.
    /// - Returns: The family.
    public func histogram(_ name: String, help: String, labelNames: [String] = [], buckets: [Double]) -> HistogramFamily {
        let family = register(name, type: .histogram, labelNames: labelNames) {
            HistogramFamily(name: name, help: help, labelNames: labelNames, buckets: buckets)
        }
        let requested = buckets.last == .infinity ? Array(buckets.dropLast()) : buckets
        precondition(family.upperBounds == requested, "\(name) is already registered with other buckets")
        return family
    }

    /// Registers a gauge (or counter) whose samples are read at scrape time, such as open
    /// connections or process metrics.
    ///
    /// Unlike the other registrations, a name can be collected only once: registering it again
    /// is a precondition failure.
    ///
    /// - Parameters:
    ///   - name: The metric name.
    ///   - help: The `# HELP` text.
    ///   - labelNames: Label names; every collected sample must carry one value per name
    ///     (a precondition failure at scrape time otherwise).
    ///   - type: `.gauge` or `.counter`; `.histogram` is a precondition failure.
    ///   - collect: Called on every ``exposition()``, from the scraping thread; keep it quick.
    public func gauge(
        _ name: String, help: String, labelNames: [String] = [], type: MetricType = .gauge,
        collect: @escaping @Sendable () -> [(labels: [String], value: Double)]
    ) {
        let family = CallbackFamily(name: name, help: help, labelNames: labelNames, type: type, collect: collect)
        state.withLock { state in
            precondition(state.byName[name] == nil, "metric \(name) is already registered")
            state.byName[name] = family
            state.families.append(family)
        }
    }

    /// The Prometheus text exposition format 0.0.4 of every family, in registration order.
    ///
    /// Collect callbacks run on the calling thread, outside the registry's lock.
    public func exposition() -> String {
        let families = state.withLock { $0.families }
        var out = ""
        out.reserveCapacity(families.count * 256)
        for family in families {
            family.write(to: &out)
        }
        return out
    }

    private func register<Family: MetricFamily>(
        _ name: String, type: MetricType, labelNames: [String], make: () -> Family
    ) -> Family {
        state.withLock { state in
            if let existing = state.byName[name] {
                guard let family = existing as? Family, existing.labelNames == labelNames else {
                    preconditionFailure(
                        "metric \(name) is already registered as \(existing.type.rawValue) \(existing.labelNames)")
                }
                return family
            }
            let family = make()
            state.byName[name] = family
            state.families.append(family)
            return family
        }
    }
}
