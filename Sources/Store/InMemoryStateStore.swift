import Synchronization

/// The embedded backend: every session in process memory. The default when no Redis is configured.
///
/// Sessions are striped by agent ID over `shardCount` shards, each behind its own `Mutex`, so
/// unrelated agents do not contend, and every operation (precondition check, idempotency check,
/// write, version bump, TTL refresh) is one critical section. No lock is ever held across an
/// `await`: the operations never suspend.
///
/// Expired sessions vanish lazily on access and are freed by `sweepExpired()`, which a
/// background task runs every `sweepInterval` until `close()` or deinitialisation.
public final class InMemoryStateStore: StateStore {
    /// Number of lock stripes.
    static let shardCount = 16

    /// Limits and defaults applied to every write.
    public let configuration: StoreConfiguration
    /// Milliseconds since the Unix epoch; injectable so tests can move time without sleeping.
    let now: @Sendable () -> Int64
    let shards: [Shard]
    /// The background sweeper, nil once closed or when sweeping is disabled.
    private let sweeper = Mutex<Task<Void, Never>?>(nil)

    /// Creates an empty store.
    /// - Parameters:
    ///   - configuration: message cap, default TTL and idempotency-record lifetime.
    ///   - sweepInterval: how often a background task frees expired sessions; nil disables it
    ///     (expired sessions then stay invisible but in memory until accessed or `sweepExpired()`).
    ///   - now: the clock, in milliseconds since the Unix epoch; the wall clock by default.
    public init(
        configuration: StoreConfiguration = .init(),
        sweepInterval: Duration? = .seconds(5),
        now: @escaping @Sendable () -> Int64 = { WallClock.milliseconds() }
    ) {
        self.configuration = configuration
        self.now = now
        self.shards = (0..<Self.shardCount).map { _ in Shard() }
        if let sweepInterval { startSweeper(every: sweepInterval) }
    }

    deinit {
        sweeper.withLock { $0?.cancel() }
    }

    /// Stops the background sweeper. The store keeps working; expiry stays lazy. Idempotent.
    public func close() {
        sweeper.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// Frees every expired session (and stale idempotency record) in all shards.
    /// - Returns: the number of sessions removed.
    @discardableResult
    public func sweepExpired() -> Int {
        let now = now()
        return shards.reduce(0) { removed, shard in
            removed + shard.state.withLock { $0.sweep(now: now) }
        }
    }

    /// How many session records are held in memory, including expired ones not yet swept.
    /// A diagnostic for tests and metrics, not a count of live sessions.
    public var storedSessionCount: Int {
        shards.reduce(0) { count, shard in count + shard.state.withLock { $0.recordCount } }
    }

    /// The shard that holds every session of `agentID` (FNV-1a, stable across runs).
    func shard(for agentID: String) -> Shard {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in agentID.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return shards[Int(hash % UInt64(shards.count))]
    }

    /// Runs `body` on the live record of `key` under its shard's lock; see `ShardState.withSession`.
    func withSession<R: Sendable>(_ key: SessionKey, _ body: (inout Record?, Int64) throws -> R) throws -> R {
        let now = now()
        return try shard(for: key.agentID).state.withLock { state in
            try state.withSession(key, now: now) { record in try body(&record, now) }
        }
    }

    private func startSweeper(every interval: Duration) {
        let task = Task.detached(priority: .background) { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, let self else { return }
                self.sweepExpired()
            }
        }
        sweeper.withLock { $0 = task }
    }
}
