import Dispatch
import Testing
import TestSupport

/// The trait every suite uses: test bodies run on a queue of their own, off the cooperative pool.
@Suite(.offCooperativePool)
struct OffCooperativePoolTests {
    /// The test whose queue runs the caller ("" off every test queue).
    private static func currentQueueLabel() -> String {
        OffCooperativePoolTrait.currentQueueLabel ?? ""
    }

    @Test func synchronousBodyRunsOnItsOwnQueue() {
        #expect(Self.currentQueueLabel() == "synchronousBodyRunsOnItsOwnQueue()")
    }

    @Test func asynchronousBodyAndItsChildTasksStayThereAcrossSuspensions() async throws {
        try await Task.sleep(for: .milliseconds(5))
        #expect(Self.currentQueueLabel().hasPrefix("asynchronousBody"))
        async let child = Self.currentQueueLabel()
        let labels = await withTaskGroup(of: String.self) { group in
            group.addTask { Self.currentQueueLabel() }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(await child.hasPrefix("asynchronousBody"))
        #expect(labels.allSatisfy { $0.hasPrefix("asynchronousBody") })
    }

    @Test(arguments: [1, 2])
    func everyCaseOfAParameterizedTestToo(_ value: Int) {
        #expect(Self.currentQueueLabel().hasPrefix("everyCaseOfAParameterizedTestToo"), "case \(value)")
    }
}
