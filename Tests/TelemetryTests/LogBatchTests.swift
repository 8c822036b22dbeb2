import Glibc
import Testing
import TestSupport
@testable import Telemetry

@Suite(.offCooperativePool)
struct LogBatchTests {
    /// A pipe whose read end is non-blocking, so `drain` returns what was written so far.
    final class Pipe: Sendable {
        let readFD: Int32, writeFD: Int32
        init() throws {
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0)
            readFD = fds[0]
            writeFD = fds[1]
            _ = fcntl(readFD, F_SETFL, fcntl(readFD, F_GETFL) | O_NONBLOCK)
        }
        deinit {
            close(readFD)
            close(writeFD)
        }
        func drain() -> String {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(readFD, &chunk, chunk.count)
                guard count > 0 else { break }
                bytes += chunk[..<count]
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Each test collects on a thread of its own, so its thread-local batch cannot reach other tests.
    @Test func linesWaitUntilFlushOnlyOnACollectingThread() async throws {
        let pipe = try Pipe()
        try await onDedicatedThread {
            let logger = Logger(level: .info, format: .json, sink: nil, clock: { 0 })
            #expect(LogBatch.waiting == nil, "a thread collects only after begin()")
            LogBatch.begin(fd: pipe.writeFD, limit: 1024)
            logger.info("batched one")
            logger.info("batched two")
            let lines = #"{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"batched one"}"# + "\n"
                + #"{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"batched two"}"# + "\n"
            #expect(LogBatch.waiting == Array(lines.utf8))
            #expect(pipe.drain() == "", "nothing is written before flush()")
            LogBatch.flush()
            #expect(LogBatch.waiting == [])
            #expect(pipe.drain() == lines, "flush() wrote both lines")
            Logger.standardError("three\n")
            #expect(pipe.drain() == "")
            LogBatch.end()
            #expect(LogBatch.waiting == nil)
            #expect(pipe.drain() == "three\n", "end() wrote what waited")
        }
    }

    @Test func aLineThatWouldPassTheLimitFlushesFirst() async throws {
        let pipe = try Pipe()
        try await onDedicatedThread {
            LogBatch.begin(fd: pipe.writeFD, limit: 100)
            let line = String(repeating: "x", count: 59) + "\n"
            Logger.standardError(line)
            Logger.standardError(line)
            #expect(LogBatch.waiting == Array(line.utf8), "the first line was written when the second came")
            #expect(pipe.drain() == line)
            let long = String(repeating: "y", count: 100) + "\n"
            Logger.standardError(long)
            #expect(LogBatch.waiting == [], "a line longer than the limit is written at once, after what waited")
            #expect(pipe.drain() == line + long)
            LogBatch.end()
        }
    }
}
