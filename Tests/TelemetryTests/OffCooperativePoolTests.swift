import Dispatch
import Foundation
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

/// Guards the rule above for suites added later: every suite in `Tests/` declares the trait.
@Suite(.offCooperativePool)
struct EverySuiteIsOffThePoolTests {
    @Test func everySuiteDeclarationCarriesTheTrait() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let files = try #require(FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        #expect(files.count > 20, "found the test sources under \(tests.path)")
        var suites = 0
        for file in files {
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() where line.contains("struct ") && line.hasSuffix("Tests {") {
                suites += 1
                let attributes = line.contains("@Suite") ? line : (index > 0 ? lines[index - 1] : "")
                #expect(attributes.contains(".offCooperativePool"), "\(file.lastPathComponent): \(line)")
            }
        }
        #expect(suites >= 39)
    }
}
