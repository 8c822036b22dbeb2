import Synchronization

/// A fixed number of series, each created on first use and then reached by its index with one
/// atomic load: no label array, no hashing, no lock on the hot path.
///
/// Callers number their label combinations themselves (a route and a method, an operation and an
/// outcome) and give `make` the family lookup for an index. Two threads that reach a new slot at
/// once both call `make`; the family hands both the same series, and the slot keeps the first.
/// A series appears in the exposition only once something has used its slot.
public final class SeriesTable<Series: AnyObject & Sendable>: Sendable {
    private final class Slot: Sendable {
        let series = AtomicLazyReference<Series>()
    }

    private let slots: [Slot]
    private let make: @Sendable (Int) -> Series

    /// - Parameters:
    ///   - count: The number of slots, `0..<count`.
    ///   - make: The series for a slot, usually `family.labels(…)` with the slot's label values.
    public init(count: Int, make: @escaping @Sendable (Int) -> Series) {
        slots = (0..<count).map { _ in Slot() }
        self.make = make
    }

    /// The number of slots.
    public var count: Int { slots.count }

    /// The series of slot `index`, made on first use. An index out of `0..<count` is a precondition failure.
    public subscript(index: Int) -> Series {
        let slot = slots[index]
        if let series = slot.series.load() { return series }
        return slot.series.storeIfNil(make(index))
    }
}
