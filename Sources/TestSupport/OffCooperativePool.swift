import Dispatch
import Testing

/// Runs each test of a suite on a thread of its own instead of Swift Concurrency's cooperative pool.
///
/// The cooperative pool has one thread per core, two on the CI machine. Swift Testing runs every test
/// body on that pool, in parallel, so a few CPU-bound or blocking tests (a long parser loop, a
/// blocking socket read) could hold both threads for seconds; every `Task.sleep` elsewhere then
/// wakes seconds late, and a test that reads a 1 s TTL every 250 ms sees its session expire. Under
/// this trait a test body, and the child tasks it creates with `async let` or task groups, run on
/// a serial `DispatchQueue` of their own (an overcommitting thread), scheduled by the kernel like
/// any other thread. The pool stays free for the code under test: the server's handler tasks, the
/// Redis client's continuations and unstructured `Task`s.
///
/// Apply it to every suite: `@Suite(.offCooperativePool)`.
public struct OffCooperativePoolTrait: SuiteTrait, TestTrait, TestScoping {
    /// Applies to every test and test case in the suite.
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // The suite itself and parameterized tests as a whole are scopes too; only a running case
        // needs the executor.
        guard testCase != nil else { return try await function() }
        try await withTaskExecutorPreference(QueueTaskExecutor(label: test.name)) {
            try await function()
        }
    }

    /// The test name of the queue running the caller, or nil on any other thread (the cooperative pool).
    public static var currentQueueLabel: String? {
        DispatchQueue.getSpecific(key: QueueTaskExecutor.labelKey)
    }
}

extension Trait where Self == OffCooperativePoolTrait {
    /// Runs each test on its own thread rather than the cooperative pool (see ``OffCooperativePoolTrait``).
    public static var offCooperativePool: Self { Self() }
}

/// A task executor that runs jobs on one serial dispatch queue.
final class QueueTaskExecutor: TaskExecutor {
    /// Tags each executor's queue with its test's name.
    static let labelKey = DispatchSpecificKey<String>()
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: "test." + label)
        queue.setSpecific(key: Self.labelKey, value: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
