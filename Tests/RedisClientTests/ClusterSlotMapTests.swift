import Testing
import TestSupport
@testable import RedisClient

@Suite(.offCooperativePool)
struct HashSlotTests {
    @Test func crc16MatchesTheSpecificationsCheckValue() {
        // The cluster specification's reference: CRC16-XMODEM("123456789") = 0x31C3.
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(HashSlot(key: "123456789").value == 0x31C3 & 0x3FFF)
    }

    @Test func hashTagsFollowTheSpecificationsExamples() {
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "{user1000}.followers"))
        #expect(HashSlot(key: "{user1000}.following") == HashSlot(key: "user1000"))
        // An empty tag hashes the whole key; only the first `{` counts; the first `}` after it closes.
        #expect(HashSlot(key: "foo{}{bar}") != HashSlot(key: "bar"))
        #expect(Array(HashSlot.hashTag(of: Array("foo{}{bar}".utf8))) == Array("foo{}{bar}".utf8))
        #expect(Array(HashSlot.hashTag(of: Array("foo{{bar}}zap".utf8))) == Array("{bar".utf8))
        #expect(Array(HashSlot.hashTag(of: Array("foo{bar}{zap}".utf8))) == Array("bar".utf8))
        #expect(Array(HashSlot.hashTag(of: Array("no-tag}{".utf8))) == Array("no-tag}{".utf8))
        #expect(HashSlot(16384) == nil && HashSlot(-1) == nil && HashSlot(16383)?.value == 16383)
    }

    @Test func redirectsParseMovedAndAskAndRejectOtherErrors() {
        let moved = ClusterRedirect(errorMessage: "MOVED 3999 127.0.0.1:6381")
        #expect(moved == ClusterRedirect(errorMessage: "MOVED 3999 127.0.0.1:6381"))
        #expect(moved?.kind == .moved && moved?.slot.value == 3999 && moved?.host == "127.0.0.1" && moved?.port == 6381)
        let ask = ClusterRedirect(errorMessage: "ASK 12182 [::1]:7000")
        #expect(ask?.kind == .ask && ask?.host == "::1" && ask?.port == 7000)
        #expect(ClusterRedirect(errorMessage: "MOVED 3999 :6380")?.host == "")
        for bad in ["ERR unknown", "MOVED 16384 127.0.0.1:1", "MOVED x 127.0.0.1:1", "ASK 1 127.0.0.1", "MOVED 1 h:0", "TRYAGAIN Multiple keys"] {
            #expect(ClusterRedirect(errorMessage: bad) == nil, "\(bad)")
        }
    }

    @Test func slotsReplyMapsRangesAndRejectsMalformedShapes() {
        func range(_ start: Int64, _ end: Int64, _ port: Int64) -> RESPValue {
            .array([.integer(start), .integer(end), .array([.bulkString(Array("10.0.0.1".utf8)), .integer(port), .bulkString(Array("id".utf8))])])
        }
        let map = ClusterSlotMap(slotsReply: .array([range(0, 8191, 7000), range(8192, 16382, 7001)]), defaultHost: "h")
        #expect(map?.primary(for: HashSlot(0)!) == RedisEndpoint(host: "10.0.0.1", port: 7000))
        #expect(map?.primary(for: HashSlot(16382)!) == RedisEndpoint(host: "10.0.0.1", port: 7001))
        #expect(map?.primary(for: HashSlot(16383)!) == nil)
        #expect(map?.isComplete == false && map?.uncoveredSlotCount == 1 && map?.primaries.count == 2)
        #expect(ClusterSlotMap(slotsReply: .array([range(5, 4, 7000)]), defaultHost: "h") == nil)
        #expect(ClusterSlotMap(slotsReply: .array([range(0, 16384, 7000)]), defaultHost: "h") == nil)
        #expect(ClusterSlotMap(slotsReply: .integer(1), defaultHost: "h") == nil)
        let unknownHost = RESPValue.array([.array([.integer(0), .integer(16383), .array([.bulkString([]), .integer(7002)])])])
        #expect(ClusterSlotMap(slotsReply: unknownHost, defaultHost: "seed")?.primary(for: HashSlot(5)!) == RedisEndpoint(host: "seed", port: 7002))
    }
}

/// Against a real 3-primary cluster started by the harness.
@Suite(.offCooperativePool)
struct ClusterSlotMapTests {
    @Test func hashSlotAgreesWithClusterKeyslotAndBothMapRepliesCoverEverySlot() async throws {
        let cluster = try await RedisClusterProcess(primaries: 3)
        defer { Task { await cluster.stop() } }
        let seed = cluster.nodes[0]
        let connection = try await RedisConnection.connect(to: try seed.redisURL())
        defer { connection.close() }

        var keys = ["agentstate:{a1:b3}:s1", "{}", "{", "}{x}", "a{b}c{d}"]
        for index in 0..<300 {
            let random = String((0..<Int.random(in: 1...24)).map { _ in "abcXYZ019{}:._~@-".randomElement()! })
            keys.append(index.isMultiple(of: 3) ? "p:{agent-\(index)}:\(random)" : random)
        }
        for key in keys {
            let slot = try await connection.send("CLUSTER", "KEYSLOT", key).int
            #expect(slot == Int64(HashSlot(key: key).value), "\(key)")
        }

        let shards = try #require(ClusterSlotMap(shardsReply: try await connection.send("CLUSTER", "SHARDS"), defaultHost: "127.0.0.1"))
        let slots = try #require(ClusterSlotMap(slotsReply: try await connection.send("CLUSTER", "SLOTS"), defaultHost: "127.0.0.1"))
        #expect(shards.isComplete && slots.isComplete)
        #expect(shards == slots)
        let ports = Set(cluster.nodes.map(\.port))
        #expect(Set(shards.primaries.map(\.port)) == ports)

        // Each key lives where the map says: a write sent to its primary is accepted (no MOVED).
        for key in keys.prefix(40) {
            let owner = try #require(shards.primary(for: HashSlot(key: key)))
            let node = try #require(cluster.nodes.first { $0.port == owner.port })
            let direct = try await RedisConnection.connect(to: try node.redisURL())
            #expect(try await direct.send("SET", key, "v") == .simpleString("OK"))
            direct.close()
        }
        // A node that does not own a key answers MOVED naming the owner.
        let key = keys[0]
        let owner = try #require(shards.primary(for: HashSlot(key: key)))
        let other = try #require(cluster.nodes.first { $0.port != owner.port })
        let wrong = try await RedisConnection.connect(to: try other.redisURL())
        defer { wrong.close() }
        do {
            _ = try await wrong.send("GET", key)
            Issue.record("expected MOVED")
        } catch let error as RedisError {
            let redirect = ClusterRedirect(errorMessage: error.message)
            #expect(redirect?.kind == .moved && redirect?.port == owner.port && redirect?.slot == HashSlot(key: key))
        }
    }
}
