import Foundation
import Testing
import TestSupport
@testable import RedisClient

/// Sentinel discovery against a real primary, replica and redis-sentinel on loopback ports.
@Suite(.offCooperativePool)
struct SentinelDiscoveryTests {
    /// Also: after `kill -9` of the primary, the pool's writes go to the promoted replica (bounded wait).
    @Test func aDeadSentinelFirstInTheListDoesNotBlockDiscovery() async throws {
        guard let sentinelPath = ChildProcess.findExecutable("redis-sentinel") else {
            Issue.record("redis-sentinel not found on PATH: install it with 'apt-get install -y redis-sentinel'")
            return
        }
        let primary = try await RedisServerProcess(arguments: ["--repl-diskless-sync-delay", "0"])
        let replica = try await RedisServerProcess(arguments: ["--replicaof", "127.0.0.1", String(primary.port)])
        let sentinelPort = try FreePort.allocate()
        let deadPort = try FreePort.allocate()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentstate-sentinel-\(sentinelPort)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let conf = "\(directory)/sentinel.conf"
        try """
        port \(sentinelPort)
        bind 127.0.0.1
        dir \(directory)
        sentinel monitor mymaster 127.0.0.1 \(primary.port) 1
        sentinel down-after-milliseconds mymaster 1000

        """.write(toFile: conf, atomically: true, encoding: .utf8)
        let sentinel = try ChildProcess(path: sentinelPath, arguments: [conf], outputPath: "\(directory)/sentinel.log")
        defer { sentinel.send(SIGKILL) }

        var configuration = SentinelEndpointProvider.Configuration(
            masterName: "mymaster",
            sentinels: [RedisEndpoint(host: "127.0.0.1", port: deadPort), RedisEndpoint(host: "127.0.0.1", port: sentinelPort)],
            dataURL: RedisURL(host: "127.0.0.1"))
        let provider = SentinelEndpointProvider(configuration: configuration)
        defer { Task { await provider.close() } }
        // Eventually (the sentinel needs a moment to start): the primary, never the replica.
        var found: RedisEndpoint?
        for _ in 0..<100 where found == nil {
            found = try? await provider.endpoint()
            if found == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(found == RedisEndpoint(host: "127.0.0.1", port: primary.port))
        #expect(found?.port != replica.port)

        var poolConfiguration = RedisConnectionPool.Configuration(url: RedisURL(host: "127.0.0.1", port: deadPort))
        poolConfiguration.endpointProvider = provider
        let pool = RedisConnectionPool(configuration: poolConfiguration)
        _ = try await pool.send("SET", "sentinel-test", "1")
        let value = try await RedisConnection.connect(to: RedisURL(host: "127.0.0.1", port: primary.port)).send("GET", "sentinel-test")
        #expect(value.string == "1")

        // Wait for the replica's link, then crash the primary: writes must resume on the replica.
        let replicaConnection = try await RedisConnection.connect(to: RedisURL(host: "127.0.0.1", port: replica.port))
        for _ in 0..<100 {
            if (try await replicaConnection.send("INFO", "replication")).string?.contains("master_link_status:up") == true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await primary.crash()
        var resumed = false
        for attempt in 0..<300 where !resumed {
            if (try? await pool.send("SET", "sentinel-test", "after-\(attempt)")) != nil { resumed = true } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(resumed, "writes did not resume within 30 s of the crash")
        #expect(provider.currentPrimary?.port == replica.port)
        // A fresh connection: the sentinel kills the promoted replica's clients during the failover.
        let promoted = try await RedisConnection.connect(to: RedisURL(host: "127.0.0.1", port: replica.port))
        #expect((try await promoted.send("GET", "sentinel-test")).string?.hasPrefix("after-") == true)
        await pool.close()
    }
}
