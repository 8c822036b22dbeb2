#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A Redis Cluster for tests: `primaries` `redis-server` processes (plus `replicasPerPrimary` replicas
/// each) in cluster mode on free loopback ports, joined with `redis-cli --cluster create … --cluster-yes`.
///
/// Every node is a private ``RedisServerProcess``, stopped by PID on ``stop()`` or deinit. The
/// initializer returns once `CLUSTER INFO` reports `cluster_state:ok` on every node (at most 30 s).
public final class RedisClusterProcess: Sendable {
    /// The message thrown when `redis-cli` is missing.
    public static let cliNotFoundMessage =
        "redis-cli not found on PATH: install it with 'apt-get install -y redis-tools' (Debian/Ubuntu; redis-server depends on it)"

    /// Every node, primaries first (the order `--cluster create` was given).
    public let nodes: [RedisServerProcess]
    /// The number of primaries.
    public let primaryCount: Int
    private let cli: String

    /// Starts and joins the cluster.
    /// - Parameters:
    ///   - primaries: Number of primaries (at least 3, as `redis-cli --cluster create` requires).
    ///   - replicasPerPrimary: Replicas per primary (`--cluster-replicas`).
    ///   - arguments: Extra `redis-server` arguments for every node.
    /// - Throws: ``RedisServerProcess/Failure`` when a tool is missing or the cluster does not form.
    public init(primaries: Int = 3, replicasPerPrimary: Int = 0, arguments: [String] = []) async throws {
        guard let cli = ChildProcess.findExecutable("redis-cli") else {
            throw RedisServerProcess.Failure(description: Self.cliNotFoundMessage)
        }
        self.cli = cli
        primaryCount = primaries
        var nodes: [RedisServerProcess] = []
        for _ in 0..<(primaries * (1 + replicasPerPrimary)) {
            // The bus port defaults to port + 10000, which FreePort does not reserve: allocate it explicitly.
            let bus = try FreePort.allocate()
            nodes.append(try await RedisServerProcess(arguments: Self.nodeArguments + ["--cluster-port", String(bus)] + arguments))
        }
        self.nodes = nodes
        let addresses = nodes.map { "127.0.0.1:\($0.port)" }
        let output = try await Self.run(cli, ["--cluster", "create"] + addresses
            + ["--cluster-replicas", String(replicasPerPrimary), "--cluster-yes"])
        guard output.status == 0 else {
            throw RedisServerProcess.Failure(description: "redis-cli --cluster create failed (\(output.status)): \(output.text.suffix(400))")
        }
        try await waitUntilHealthy(timeout: .seconds(30))
    }

    /// The process-wide shared 3-primary cluster, started on first use and stopped (by PID) when the
    /// test process exits. Tests using it must use unique key prefixes and must not stop, kill,
    /// reshard or reconfigure any of it.
    /// - Throws: ``RedisServerProcess/Failure`` when it cannot be started.
    public static func shared() async throws -> RedisClusterProcess {
        try await sharedCluster.value
    }

    private static let sharedCluster = Task<RedisClusterProcess, any Error> {
        let cluster = try await RedisClusterProcess(primaries: 3)
        sharedClusterCleanup.withLock { cleanup in
            cleanup.pids = cluster.nodes.map(\.pid)
            cleanup.directories = cluster.nodes.map(\.directory)
        }
        atexit {
            let (pids, directories) = sharedClusterCleanup.withLock { ($0.pids, $0.directories) }
            for pid in pids where pid > 0 { kill(pid, SIGTERM) }
            for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
        }
        return cluster
    }

    /// Node settings: cluster mode, a short node timeout, and immediate replica sync.
    public static let nodeArguments = [
        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", "2000", "--repl-diskless-sync-delay", "0",
    ]

    /// A seed URL naming every node: `redis://127.0.0.1:p1,127.0.0.1:p2,…`.
    public var url: String { "redis://" + nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    /// Runs `redis-cli -p <port> <arguments>` against `node` and returns its output (trimmed).
    /// - Throws: ``RedisServerProcess/Failure`` when redis-cli exits non-zero.
    public func cli(_ node: RedisServerProcess, _ arguments: [String]) async throws -> String {
        let output = try await Self.run(cli, ["-h", "127.0.0.1", "-p", String(node.port)] + arguments)
        guard output.status == 0 else {
            throw RedisServerProcess.Failure(description: "redis-cli \(arguments.joined(separator: " ")) exited \(output.status): \(output.text.suffix(300))")
        }
        return output.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `redis-cli --cluster <arguments>` (e.g. `add-node`, `reshard`) and returns its output.
    /// - Throws: ``RedisServerProcess/Failure`` when redis-cli exits non-zero.
    public func clusterCommand(_ arguments: [String]) async throws -> String {
        let output = try await Self.run(cli, ["--cluster"] + arguments)
        guard output.status == 0 else {
            throw RedisServerProcess.Failure(description: "redis-cli --cluster \(arguments.prefix(2).joined(separator: " ")) exited \(output.status): \(output.text.suffix(400))")
        }
        return output.text
    }

    /// Starts an empty primary in cluster mode (no slots) and joins it with `redis-cli --cluster add-node`.
    /// The caller owns it (it is not in ``nodes``) and waits until it reports `cluster_state:ok`.
    /// - Throws: ``RedisServerProcess/Failure`` when it cannot be started or joined.
    public func addEmptyPrimary() async throws -> RedisServerProcess {
        let bus = try FreePort.allocate()
        let node = try await RedisServerProcess(arguments: Self.nodeArguments + ["--cluster-port", String(bus)])
        _ = try await clusterCommand(["add-node", "127.0.0.1:\(node.port)", "127.0.0.1:\(nodes[0].port)"])
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let info = try? await cli(node, ["CLUSTER", "INFO"]), info.contains("cluster_state:ok") { return node }
            try await Task.sleep(for: .milliseconds(100))
        }
        await node.stop()
        throw RedisServerProcess.Failure(description: "the added node on port \(node.port) did not reach cluster_state:ok within 30 s")
    }

    /// Waits until every running node reports `cluster_state:ok`.
    /// - Throws: ``RedisServerProcess/Failure`` when that does not happen within `timeout`.
    public func waitUntilHealthy(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            var healthy = true
            for node in nodes {
                last = (try? await cli(node, ["CLUSTER", "INFO"])) ?? "unreachable"
                if !last.contains("cluster_state:ok") { healthy = false; break }
            }
            if healthy { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw RedisServerProcess.Failure(description: "the cluster did not reach cluster_state:ok within \(timeout): \(last.prefix(300))")
    }

    /// Waits until every replica reports `master_link_status:up`.
    /// - Throws: ``RedisServerProcess/Failure`` when that does not happen within `timeout`.
    public func waitUntilReplicasAreInSync(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        for node in nodes.dropFirst(primaryCount) {
            while true {
                let info = (try? await cli(node, ["INFO", "replication"])) ?? ""
                if info.contains("master_link_status:up") { break }
                guard ContinuousClock.now < deadline else {
                    throw RedisServerProcess.Failure(description: "replica on port \(node.port) not in sync within \(timeout): \(info.prefix(200))")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Stops every node.
    public func stop() async {
        for node in nodes { await node.stop() }
    }

    /// Runs a program to completion on a dedicated thread, capturing stdout and stderr together.
    private static func run(_ path: String, _ arguments: [String]) async throws -> (status: Int32, text: String) {
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("agentstate-cli-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let child = try ChildProcess(path: path, arguments: arguments, outputPath: output)
        guard let status = await child.waitForExit(timeout: .seconds(60)) else {
            child.send(SIGKILL)
            _ = await child.waitForExit(timeout: .seconds(5))
            throw RedisServerProcess.Failure(description: "\(path) \(arguments.prefix(3).joined(separator: " ")) did not finish within 60 s")
        }
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}

/// The shared cluster's PIDs and directories, read by the `atexit` handler (which cannot capture context).
private let sharedClusterCleanup = Mutex<(pids: [pid_t], directories: [String])>(([], []))
