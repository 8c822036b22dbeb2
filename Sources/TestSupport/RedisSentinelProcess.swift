#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A `redis-sentinel` started for tests on a free loopback port, monitoring one primary as `mymaster`
/// with `down-after-milliseconds 1000` and a quorum of 1. Stopped by PID on ``stop()`` and on deinit.
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
    private let directory: String
    private let child: ChildProcess

    /// Starts a sentinel that monitors `primaryPort` and waits (at most 5 s) until it answers.
    public init(monitoring primaryPort: Int) async throws {
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
        sentinel monitor \(Self.masterName) 127.0.0.1 \(primaryPort) 1
        sentinel down-after-milliseconds \(Self.masterName) 1000
        sentinel failover-timeout \(Self.masterName) 10000

        """.write(toFile: configuration, atomically: true, encoding: .utf8)
        child = try ChildProcess(path: path, arguments: [configuration], outputPath: "\(directory)/sentinel.log")
        for _ in 0..<100 {
            if (try? await answersPing(port: port)) == true { return }
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
}

/// Whether something on 127.0.0.1:`port` answers an inline `PING` with a RESP reply.
private func answersPing(port: Int) async throws -> Bool {
    try await onDedicatedThread {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        let ping = Array("PING\r\n".utf8)
        guard send(fd, ping, ping.count, Int32(MSG_NOSIGNAL)) == ping.count else { return false }
        var reply = [UInt8](repeating: 0, count: 16)
        return recv(fd, &reply, reply.count, 0) > 0 && reply[0] == UInt8(ascii: "+")
    }
}
