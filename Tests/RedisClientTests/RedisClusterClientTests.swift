import Synchronization
import Testing
import TestSupport
@testable import RedisClient

/// Counts redirections, as the app's metrics do.
final class RedirectCounter: RedisClusterObserver {
    let counts = Mutex<[ClusterRedirect.Kind: Int]>([:])
    func redirected(_ kind: ClusterRedirect.Kind) { counts.withLock { $0[kind, default: 0] += 1 } }
    func slotMapRefreshed(primaries: Int, uncovered: Int) {}
    subscript(kind: ClusterRedirect.Kind) -> Int { counts.withLock { $0[kind, default: 0] } }
}

/// The cluster client against a real 3-primary cluster started by the harness.
@Suite(.offCooperativePool)
struct RedisClusterClientTests {
    private static func client(_ cluster: RedisClusterProcess, observer: RedirectCounter? = nil) throws -> RedisClusterClient {
        let seeds = cluster.nodes.map { RedisEndpoint(host: "127.0.0.1", port: $0.port) }
        var pool = RedisConnectionPool.Configuration(url: try cluster.nodes[0].redisURL())
        pool.connectionCount = 1
        return RedisClusterClient(configuration: .init(seeds: seeds, pool: pool), observer: observer)
    }

    @Test func routesEveryKeyToItsPrimaryAndLoadsScriptsOnEveryPrimary() async throws {
        let cluster = try await RedisClusterProcess(primaries: 3)
        defer { Task { await cluster.stop() } }
        let counter = RedirectCounter()
        let client = try Self.client(cluster, observer: counter)
        defer { Task { await client.close() } }

        for index in 0..<300 { #expect(try await client.send("SET", "k\(index)", "v\(index)") == .simpleString("OK")) }
        for index in 0..<300 { #expect(try await client.send("GET", "k\(index)").string == "v\(index)") }
        #expect(counter[.moved] == 0 && counter[.ask] == 0)
        // The keys spread over all three primaries.
        var perNode: [Int] = []
        for node in cluster.nodes { perNode.append(Int(try await cluster.cli(node, ["DBSIZE"])) ?? -1) }
        #expect(perNode.reduce(0, +) == 300 && perNode.allSatisfy { $0 > 50 }, "\(perNode)")

        // A script loaded once runs on any node: EVALSHA routes by its first key.
        let sha = try #require(try await client.send("SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])").string)
        for index in 0..<30 { #expect(try await client.send("EVALSHA", sha, "1", "k\(index)").string == "v\(index)") }
    }

    @Test func followsMovedAfterASlotMigratesAndAskWhileItMigrates() async throws {
        let cluster = try await RedisClusterProcess(primaries: 3)
        defer { Task { await cluster.stop() } }
        let counter = RedirectCounter()
        let client = try Self.client(cluster, observer: counter)
        defer { Task { await client.close() } }

        // Two keys in one slot (hash tag), owned by some primary.
        let moving = "{tag}moving", staying = "{tag}staying"
        #expect(try await client.send("SET", moving, "m") == .simpleString("OK"))
        #expect(try await client.send("SET", staying, "s") == .simpleString("OK"))
        let slot = HashSlot(key: moving)
        let ownerAddress = try #require(client.slotMap.primary(for: slot))
        let source = try #require(cluster.nodes.first { $0.port == ownerAddress.port })
        let target = try #require(cluster.nodes.first { $0.port != ownerAddress.port })
        let sourceID = try await cluster.cli(source, ["CLUSTER", "MYID"])
        let targetID = try await cluster.cli(target, ["CLUSTER", "MYID"])

        // Mid-migration: one key moved, the other not yet. The moved key answers -ASK on the source.
        _ = try await cluster.cli(target, ["CLUSTER", "SETSLOT", String(slot.value), "IMPORTING", sourceID])
        _ = try await cluster.cli(source, ["CLUSTER", "SETSLOT", String(slot.value), "MIGRATING", targetID])
        _ = try await cluster.cli(source, ["MIGRATE", "127.0.0.1", String(target.port), moving, "0", "5000"])
        #expect(try await client.send("GET", moving).string == "m")
        #expect(try await client.send("GET", staying).string == "s")
        #expect(counter[.ask] == 1)
        #expect(client.slotMap.primary(for: slot)?.port == source.port, "ASK must not change the map")

        // Migration finished: the source answers -MOVED; the client retries and remembers.
        _ = try await cluster.cli(source, ["MIGRATE", "127.0.0.1", String(target.port), staying, "0", "5000"])
        for node in cluster.nodes {
            _ = try await cluster.cli(node, ["CLUSTER", "SETSLOT", String(slot.value), "NODE", targetID])
        }
        #expect(try await client.send("GET", staying).string == "s")
        #expect(counter[.moved] >= 1)
        #expect(client.slotMap.primary(for: slot)?.port == target.port)
        let movedBefore = counter[.moved]
        #expect(try await client.send("GET", moving).string == "m")
        #expect(counter[.moved] == movedBefore, "the map learned the new owner")
        #expect(await client.unavailableReason() == nil)
    }

    @Test func keysOfCommandsFollowTheirArgumentLayout() {
        func key(_ words: String...) -> String? {
            RedisClusterClient.key(of: words.map { Array($0.utf8) }).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(key("evalsha", "abc", "2", "k1", "k2", "a") == "k1")
        #expect(key("EVALSHA", "abc", "0", "a") == nil)
        #expect(key("HMGET", "rec", "v") == "rec")
        #expect(key("PING") == nil && key("SCRIPT", "LOAD", "x") == nil && key("CLUSTER", "SHARDS") == nil)
    }
}

/// A primary killed under writes, with a replica per primary (3 + 3).
@Suite(.offCooperativePool)
struct RedisClusterFailoverTests {
    @Test func writesResumeAfterAReplicaIsPromotedAndNoWriteIsResent() async throws {
        let cluster = try await RedisClusterProcess(primaries: 3, replicasPerPrimary: 1)
        defer { Task { await cluster.stop() } }
        try await cluster.waitUntilReplicasAreInSync(timeout: .seconds(30))
        let seeds = cluster.nodes.map { RedisEndpoint(host: "127.0.0.1", port: $0.port) }
        var pool = RedisConnectionPool.Configuration(url: try cluster.nodes[0].redisURL())
        pool.connectionCount = 1
        pool.connectTimeout = .milliseconds(500)
        let client = RedisClusterClient(configuration: .init(seeds: seeds, pool: pool))
        defer { Task { await client.close() } }
        try await client.refreshSlotMap()

        // The victim: the primary of slot 0's key.
        let key = "{victim}"
        let victimPort = try #require(client.slotMap.primary(for: HashSlot(key: key))?.port)
        let victim = try #require(cluster.nodes.first { $0.port == victimPort })

        var acknowledged = 0, unknown = 0, refused = 0, other: [String] = []
        var killedAt: ContinuousClock.Instant?
        var firstSuccessAfterKill: ContinuousClock.Instant?
        let start = ContinuousClock.now
        var index = 0
        // Bounded: at most 40 s and 100,000 writes, and ends 3 s after writes to the victim's slots resume.
        while ContinuousClock.now - start < .seconds(40), index < 100_000 {
            if killedAt == nil, acknowledged >= 200 {
                await victim.crash()
                killedAt = .now
            }
            if let resumed = firstSuccessAfterKill, ContinuousClock.now - resumed > .seconds(3) { break }
            index += 1
            do {
                _ = try await client.send("SET", "{victim}\(index)", "v")
                acknowledged += 1
                if killedAt != nil, firstSuccessAfterKill == nil { firstSuccessAfterKill = .now }
            } catch let error as RedisClientError {
                if error.commandWasSent == true { unknown += 1 } else { refused += 1 }
            } catch let error as RedisError where ["CLUSTERDOWN", "TRYAGAIN", "LOADING"].contains(error.code) {
                refused += 1
            } catch {
                other.append("\(error)")
            }
            if killedAt != nil, firstSuccessAfterKill == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let killed = try #require(killedAt)
        let resumed = try #require(firstSuccessAfterKill, "writes never resumed after the kill")
        #expect(other.isEmpty, "unexpected failures: \(other.prefix(3))")
        // The promotion takes node-timeout (2 s) plus an election; 20 s leaves room for a busy machine.
        #expect(resumed - killed < .seconds(20))
        #expect(client.slotMap.primary(for: HashSlot(key: key))?.port != victimPort)
        print("cluster failover: \(acknowledged) acknowledged, \(refused) refused, \(unknown) outcome unknown; writes resumed \(resumed - killed) after kill -9")
    }
}
