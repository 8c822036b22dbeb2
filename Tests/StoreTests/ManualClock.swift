import Synchronization

/// A clock tests move by hand, for `InMemoryStateStore(now:)`: expiry without sleeping.
final class ManualClock: Sendable {
    private let millis: Mutex<Int64>

    /// Starts at `start` milliseconds since the epoch.
    init(start: Int64 = 1_800_000_000_000) {
        millis = Mutex(start)
    }

    /// The current time in milliseconds.
    func now() -> Int64 {
        millis.withLock { $0 }
    }

    /// Moves time forward by `milliseconds`.
    func advance(milliseconds: Int64) {
        millis.withLock { $0 += milliseconds }
    }
}
