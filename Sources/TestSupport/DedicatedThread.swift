import Foundation

/// Runs blocking work (socket I/O, process waits) on a new thread and awaits its result, so the
/// awaiting task's executor, whether a test's queue or the cooperative pool, is never blocked by it.
/// - Parameter work: The blocking work.
/// - Returns: What `work` returns.
/// - Throws: What `work` throws.
public func onDedicatedThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try work() })
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
