#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A `redis-sentinel` started for tests on a free loopback port, monitoring one primary as `mymaster`
/// with `down-after-milliseconds 1000` and a quorum of 1 (or the one given; ``RedisSentinelTopology`` runs three). Stopped by PID on ``stop()`` and on deinit.
/// When `redis-sentinel` is not on `PATH`, starting throws ``RedisServerProcess/Failure``, so tests fail
/// rather than skip.
public final class RedisSentinelProcess: Sendable {
    /// The message thrown when `redis-sentinel` is missing.
    public static let notFoundMessage =
        "redis-sentinel not found on PATH: install it with 'apt-get install -y redis-sentinel' (Debian/Ubuntu)"

    /// The master name the sentinel monitors.
    public static let masterName = "mymaster"

    /// The sentinel's loopback port.
    public let port: Int
    let directory: String
    let child: ChildProcess

    /// Starts a sentinel that monitors `primaryPort` and waits (at most 5 s) until it answers.
    /// - Parameter quorum: How many sentinels must agree that the primary is down.
    public init(monitoring primaryPort: Int, quorum: Int = 1) async throws {
        guard let path = ChildProcess.findExecutable("redis-sentinel") else {
            throw RedisServerProcess.Failure(description: Self.notFoundMessage)
        }
        port = try FreePort.allocate()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentstate-sentinel-\(getpid())-\(port)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configuration = "\(directory)/sentinel.conf"
        try """
        port \(port)
        bind 127.0.0.1
        dir \(directory)
        sentinel monitor \(Self.masterName) 127.0.0.1 \(primaryPort) \(quorum)
        sentinel down-after-milliseconds \(Self.masterName) 1000
        sentinel failover-timeout \(Self.masterName) 10000

        """.write(toFile: configuration, atomically: true, encoding: .utf8)
        child = try ChildProcess(path: path, arguments: [configuration], outputPath: "\(directory)/sentinel.log")
        for _ in 0..<100 {
            if (try? await onDedicatedThread({ [port] in RedisServerProcess.answersPing(port: port) })) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisServerProcess.Failure(description: "redis-sentinel on port \(port) did not answer within 5 s")
    }

    deinit {
        child.send(SIGKILL)
        _ = child.waitForExitSynchronously(timeout: .seconds(5))
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stops the sentinel (SIGTERM, then SIGKILL) and waits for it to exit.
    public func stop() async {
        _ = await child.stop()
    }

    /// Kills the sentinel with SIGKILL, as a crash would, and waits for it to exit.
    public func crash() async {
        child.send(SIGKILL)
        _ = await child.waitForExit(timeout: .seconds(5))
    }

    /// The sentinel's view of the master (`SENTINEL master mymaster`) as field → value, or nil when it does not answer.
    public func masterFields() -> [String: String]? {
        guard let reply = RedisProbe.reply(port: port, ["SENTINEL", "master", Self.masterName]), reply.hasPrefix("*") else { return nil }
        // A flat array of bulk strings: every other line after the header is a value.
        let lines = reply.split(separator: "\r\n", omittingEmptySubsequences: false).dropFirst().map(String.init)
        let values = stride(from: 1, to: lines.count, by: 2).map { lines[$0] }
        var fields: [String: String] = [:]
        var index = 0
        while index + 1 < values.count {
            fields[values[index]] = values[index + 1]
            index += 2
        }
        return fields
    }
}
