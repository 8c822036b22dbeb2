import Synchronization

/// A fixed number of series, each created on first use and then reached by its index with one
/// atomic load: no label array, no hashing, no lock on the hot path.
///
/// Callers number their label combinations themselves (a route and a method, an operation and an
/// outcome) and give `make` the family lookup for an index. Two threads that reach a new slot at
/// once both call `make`; the family hands both the same series, and the slot keeps the first.
/// A series appears in the exposition only once something has used its slot.
public final class SeriesTable<Series: AnyObject & Sendable>: @unchecked Sendable {
    // Unchecked: `slots` is written only through its atomics, and freed in deinit.
    /// Per slot: 0, or the address of its `Series`, retained once by the table for as long as it lives.
    ///
    /// One allocation of atomics rather than an array of slot objects: reading a slot object out of an array
    /// retained and released it, on every lookup. Not `AtomicLazyReference`, which is generic: reached from
    /// another module without specialization, it looked up type metadata on every access (about 650
    /// instructions a load, measured with callgrind).
    private let slots: UnsafeMutablePointer<Atomic<UInt>>
    private let make: @Sendable (Int) -> Series
    /// The number of slots.
    public let count: Int

    /// - Parameters:
    ///   - count: The number of slots, `0..<count`.
    ///   - make: The series for a slot, usually `family.labels(…)` with the slot's label values.
    public init(count: Int, make: @escaping @Sendable (Int) -> Series) {
        self.count = count
        slots = .allocate(capacity: Swift.max(count, 1))
        for index in 0..<count { (slots + index).initialize(to: Atomic(0)) }
        self.make = make
    }

    deinit {
        for index in 0..<count {
            if let pointer = UnsafeRawPointer(bitPattern: slots[index].load(ordering: .acquiring)) {
                Unmanaged<AnyObject>.fromOpaque(pointer).release()
            }
        }
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// The series of slot `index`, made on first use. An index out of `0..<count` is a precondition failure.
    public subscript(index: Int) -> Series {
        precondition(index >= 0 && index < count, "series slot out of range")
        if let pointer = UnsafeRawPointer(bitPattern: slots[index].load(ordering: .acquiring)) {
            return unsafeDowncast(Unmanaged<AnyObject>.fromOpaque(pointer).takeUnretainedValue(), to: Series.self)
        }
        return unsafeDowncast(storeIfNil(make(index), at: index), to: Series.self)
    }

    /// Stores `series` in slot `index` unless a series is there already; returns the one the slot keeps.
    private func storeIfNil(_ series: AnyObject, at index: Int) -> AnyObject {
        let retained = Unmanaged<AnyObject>.passRetained(series)
        let bits = UInt(bitPattern: retained.toOpaque())
        let (exchanged, original) = slots[index].compareExchange(expected: 0, desired: bits, ordering: .acquiringAndReleasing)
        if exchanged { return series }
        retained.release()
        return Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(bitPattern: original)!).takeUnretainedValue()
    }
}
