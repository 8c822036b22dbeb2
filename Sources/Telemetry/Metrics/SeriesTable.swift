import Synchronization

/// A fixed number of series, each created on first use and then reached by its index with one
/// atomic load: no label array, no hashing, no lock on the hot path.
///
/// Callers number their label combinations themselves (a route and a method, an operation and an
/// outcome) and give `make` the family lookup for an index. Two threads that reach a new slot at
/// once both call `make`; the family hands both the same series, and the slot keeps the first.
/// A series appears in the exposition only once something has used its slot.
public final class SeriesTable<Series: AnyObject & Sendable>: Sendable {
    private let slots: [SeriesSlot]
    private let make: @Sendable (Int) -> Series

    /// - Parameters:
    ///   - count: The number of slots, `0..<count`.
    ///   - make: The series for a slot, usually `family.labels(…)` with the slot's label values.
    public init(count: Int, make: @escaping @Sendable (Int) -> Series) {
        slots = (0..<count).map { _ in SeriesSlot() }
        self.make = make
    }

    /// The number of slots.
    public var count: Int { slots.count }

    /// The series of slot `index`, made on first use. An index out of `0..<count` is a precondition failure.
    public subscript(index: Int) -> Series {
        let slot = slots[index]
        if let series = slot.load() { return unsafeDowncast(series, to: Series.self) }
        return unsafeDowncast(slot.storeIfNil(make(index)), to: Series.self)
    }
}

/// One slot of a ``SeriesTable``: an object reference published once, read with one atomic load.
///
/// Not generic on purpose, and not `AtomicLazyReference`: both are reached from another module without
/// specialization, which looked up type metadata on every access (about 650 instructions a load, measured
/// with callgrind). The slot holds the address of an object it retained, as a plain integer.
private final class SeriesSlot: @unchecked Sendable {
    /// 0, or the address of the `Series` (retained once by the slot, for as long as the slot lives).
    private let address = Atomic<UInt>(0)

    /// The series, if one was stored.
    func load() -> AnyObject? {
        let bits = address.load(ordering: .acquiring)
        guard let pointer = UnsafeRawPointer(bitPattern: bits) else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Stores `series` unless a series is there already; returns the one the slot keeps.
    func storeIfNil(_ series: AnyObject) -> AnyObject {
        let retained = Unmanaged<AnyObject>.passRetained(series)
        let bits = UInt(bitPattern: retained.toOpaque())
        let (exchanged, original) = address.compareExchange(expected: 0, desired: bits, ordering: .acquiringAndReleasing)
        if exchanged { return series }
        retained.release()
        return Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(bitPattern: original)!).takeUnretainedValue()
    }

    deinit {
        if let pointer = UnsafeRawPointer(bitPattern: address.load(ordering: .acquiring)) {
            Unmanaged<AnyObject>.fromOpaque(pointer).release()
        }
    }
}
