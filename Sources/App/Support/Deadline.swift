import Synchronization

/// Runs work with a deadline, without waiting for the work to notice cancellation.
enum Deadline {
    /// Returns `work`'s result, or `fallback` when `timeout` passes first. The work keeps running
    /// in the background until it ends on its own (the Redis client bounds every command).
    static func race<T: Sendable>(_ timeout: Duration, otherwise fallback: T, _ work: @escaping @Sendable () async -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let resumed = Mutex(false)
            let finish: @Sendable (T) -> Void = { value in
                let first = resumed.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            let worker = Task { finish(await work()) }
            Task {
                try? await Task.sleep(for: timeout)
                worker.cancel()
                finish(fallback)
            }
        }
    }
}
