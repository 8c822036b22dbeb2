#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// One primary, one replica and three `redis-sentinel`s (quorum 2, `down-after-milliseconds 1000`) on free
/// loopback ports, started by ``RedisServerProcess`` and ``RedisSentinelProcess``.
///
/// The data nodes run with `repl-diskless-sync-delay 0`. The initializer returns only once the replica reports
/// `master_link_status:up` and every sentinel knows the replica and the two other sentinels, so a `kill -9`
/// of the primary right after leads to a failover. Use ``shared()`` for tests that never kill or pause
/// anything (they share it by key prefix), and a private instance for fault tests.
public final class RedisSentinelTopology: Sendable {
    /// The node that was primary at start (after a failover, the roles may have swapped).
    public let primary: RedisServerProcess
    /// The node that was replica at start.
    public let replica: RedisServerProcess
    /// The three sentinels.
    public let sentinels: [RedisSentinelProcess]

    /// How many sentinels must agree that the primary is down.
    public static let quorum = 2
    /// The data nodes' extra arguments.
    static let nodeArguments = ["--repl-diskless-sync-delay", "0"]

    /// Starts the five processes and waits (bounded) until replication and the sentinels are settled.
    /// - Throws: ``RedisServerProcess/Failure`` when a tool is missing or the topology does not settle within 30 s.
    public init() async throws {
        primary = try await RedisServerProcess(arguments: Self.nodeArguments)
        replica = try await RedisServerProcess(arguments: ["--replicaof", "127.0.0.1", String(primary.port)] + Self.nodeArguments)
        // Sentinels started after the link is up see the replica in their first INFO of the primary.
        try await Self.waitForReplicationLink(on: replica)
        var sentinels: [RedisSentinelProcess] = []
        for _ in 0..<3 { sentinels.append(try await RedisSentinelProcess(monitoring: primary.port, quorum: Self.quorum)) }
        self.sentinels = sentinels
        try await waitUntilSentinelsKnowEachOther()
    }

    /// The sentinels' ports, in start order.
    public var sentinelPorts: [Int] { sentinels.map(\.port) }

    /// `127.0.0.1:<port>,…` for every sentinel: the host list of a `--redis-url` in sentinel mode.
    public var sentinelHostList: String { sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    /// Waits (at most `timeout`) until `server` reports `master_link_status:up`.
    /// - Throws: ``RedisServerProcess/Failure`` when it does not.
    public static func waitForReplicationLink(on server: RedisServerProcess, timeout: Duration = .seconds(30)) async throws {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            let info = try await onDedicatedThread { [port = server.port] in RedisProbe.reply(port: port, ["INFO", "replication"]) }
            if info?.contains("master_link_status:up") == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisServerProcess.Failure(description: "the replica on port \(server.port) did not report master_link_status:up within \(timeout)")
    }

    /// Waits (at most 30 s) until every sentinel that answers sees one replica and as many other sentinels as answer, minus itself.
    private func waitUntilSentinelsKnowEachOther() async throws {
        let start = ContinuousClock.now
        var views: [[String: String]?] = []
        while ContinuousClock.now - start < .seconds(30) {
            views = try await onDedicatedThread { [sentinels] in sentinels.map { $0.masterFields() } }
            let settled = views.allSatisfy { fields in
                fields?["num-other-sentinels"] == String(sentinels.count - 1) && fields?["num-slaves"] == "1"
                    && fields?["flags"] == "master"
            }
            if settled { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let summary = views.map { "\($0?["num-other-sentinels"] ?? "?") others, \($0?["num-slaves"] ?? "?") replicas, \($0?["flags"] ?? "?")" }
        throw RedisServerProcess.Failure(description: "the sentinels did not find each other and the replica within 30 s: \(summary)")
    }

    /// The process-wide shared topology, started on first use and stopped (by PID) when the test process
    /// exits. Tests using it must use unique key prefixes and must not stop, kill or reconfigure any of it.
    /// - Returns: The shared topology.
    /// - Throws: ``RedisServerProcess/Failure`` when it cannot be started.
    public static func shared() async throws -> RedisSentinelTopology {
        try await sharedTopology.value
    }

    private static let sharedTopology = Task<RedisSentinelTopology, any Error> {
        let topology = try await RedisSentinelTopology()
        sharedTopologyCleanup.withLock { cleanup in
            cleanup.pids = [topology.primary.pid, topology.replica.pid] + topology.sentinels.map(\.child.pid)
            cleanup.directories = [topology.primary.directory, topology.replica.directory] + topology.sentinels.map(\.directory)
        }
        atexit {
            let (pids, directories) = sharedTopologyCleanup.withLock { ($0.pids, $0.directories) }
            for pid in pids where pid > 0 { kill(pid, SIGTERM) }
            for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
        }
        return topology
    }
}

/// The shared topology's PIDs and directories, read by the `atexit` handler (which cannot capture context).
private let sharedTopologyCleanup = Mutex<(pids: [pid_t], directories: [String])>(([], []))
