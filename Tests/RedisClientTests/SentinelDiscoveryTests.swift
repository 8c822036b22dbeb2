import Foundation
import Testing
import TestSupport
@testable import RedisClient

/// Sentinel discovery against a real primary, replica and redis-sentinel on loopback ports.
@Suite(.offCooperativePool)
struct SentinelDiscoveryTests {
    /// Also: after `kill -9` of the primary, the pool's writes go to the promoted replica (bounded wait).
    @Test func aDeadSentinelFirstInTheListDoesNotBlockDiscovery() async throws {
        let primary = try await RedisServerProcess(arguments: ["--repl-diskless-sync-delay", "0"])
        let replica = try await RedisServerProcess(arguments: ["--replicaof", "127.0.0.1", String(primary.port)])
        let sentinel = try await RedisSentinelProcess(monitoring: primary.port)
        let sentinelPort = sentinel.port
        let deadPort = try FreePort.allocate()

        let configuration = SentinelEndpointProvider.Configuration(
            masterName: RedisSentinelProcess.masterName,
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
