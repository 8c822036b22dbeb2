import Foundation
import TestSupport
import Testing
@testable import App

/// `--redis-mode` and the `--redis-sentinel-*` flags: parsing and the exit-2 rules (DESIGN §8).
@Suite(.offCooperativePool)
struct RedisSentinelConfigurationTests {
    private static func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws(ConfigurationError) -> AppConfiguration {
        try ServeConfiguration.parse(arguments, environment)
    }

    private static func error(_ arguments: [String], _ environment: [String: String] = [:]) -> String? {
        ServeConfiguration.error(arguments, environment)
    }

    @Test func sentinelModeTakesSeveralHostsAndTheMasterName() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agentstate-sentinel-\(UUID().uuidString)").path
        try "s3ntinel\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try Self.parse([], [
            "AGENTSTATE_REDIS_URL": "redis://:data@127.0.0.1:26379,127.0.0.1:26380", "AGENTSTATE_REDIS_MODE": "sentinel",
            "AGENTSTATE_REDIS_SENTINEL_MASTER": "mymaster", "AGENTSTATE_REDIS_SENTINEL_PASSWORD_FILE": path,
        ])
        #expect(configuration.redisMode == .sentinel)
        #expect(configuration.redisSentinelMaster == "mymaster")
        #expect(configuration.redisSentinelPassword == "s3ntinel")
        #expect(!configuration.logMetadata.contains { "\($0.1)".contains("s3ntinel") })
        let both = Self.error(["--redis-mode", "sentinel", "--redis-sentinel-master", "m", "--redis-url", "redis://h:1",
                               "--redis-sentinel-password", "x", "--redis-sentinel-password-file", path])
        #expect(both?.contains("both") == true)
    }

    @Test(arguments: [
        (["--redis-url", "redis://a:1,b:2"], "takes one"),
        (["--redis-url", "redis://a:1", "--redis-mode", "sentinel"], "needs --redis-sentinel-master"),
        (["--redis-url", "redis://a:1", "--redis-sentinel-master", "m"], "needs --redis-mode sentinel"),
        (["--redis-url", "redis://a:1", "--redis-sentinel-username", "u"], "needs --redis-mode sentinel"),
        (["--redis-url", "redis://a:1,b:2/1", "--redis-mode", "cluster"], "database 0 only"),
        (["--redis-url", "redis://a:1", "--redis-mode", "cluster", "--key-prefix", "{x}:"], "must not contain '{' or '}'"),
        (["--redis-url", "redis://a:1", "--redis-mode", "cluster", "--redis-wait-replicas", "1"], "not supported in cluster mode"),
        (["--redis-url", "redis://a:1", "--redis-mode", "cluster", "--redis-sentinel-master", "m"], "need --redis-mode sentinel"),
        (["--redis-url", "redis://a:1", "--redis-index-buckets", "4"], "needs --redis-mode cluster"),
        (["--redis-url", "redis://a:1", "--redis-mode", "cluster", "--redis-index-buckets", "0"], "--redis-index-buckets"),
        (["--redis-url", "redis://a:1", "--redis-mode", "ring"], "must be standalone, sentinel or cluster"),
    ])
    func mistakesAreOneLineErrors(_ arguments: [String], _ expected: String) {
        let message = Self.error(arguments)
        #expect(message?.contains(expected) == true, "\(message ?? "accepted")")
        #expect(message?.contains("\n") != true)
    }

    @Test func clusterModeTakesSeedHostsAndIndexBuckets() throws {
        let configuration = try Self.parse(["--redis-url", "redis://a:1,b:2,c:3", "--redis-mode", "cluster", "--redis-index-buckets", "32"])
        #expect(configuration.redisMode == .cluster)
        #expect(configuration.redisIndexBuckets == 32)
        #expect(try Self.parse(["--redis-url", "redis://a:1", "--redis-mode", "cluster"]).redisIndexBuckets == nil)
        #expect(try Self.parse(["--redis-url", "redis://a:1", "--redis-index-buckets", "1"]).redisIndexBuckets == 1)
    }

    @Test func commandTimeoutParsesWithinItsBounds() throws {
        #expect(try Self.parse([]).redisCommandTimeoutMilliseconds == 2000)
        #expect(try Self.parse(["--redis-command-timeout-ms", "100"]).redisCommandTimeoutMilliseconds == 100)
        #expect(try Self.parse([], ["AGENTSTATE_REDIS_COMMAND_TIMEOUT_MS": "60000"]).redisCommandTimeoutMilliseconds == 60000)
        #expect(Self.error(["--redis-command-timeout-ms", "99"]) != nil)
        #expect(Self.error(["--redis-command-timeout-ms", "60001"]) != nil)
    }

    @Test func waitReplicasAndTimeoutParseWithinTheirBounds() throws {
        let configuration = try Self.parse(["--redis-wait-replicas", "1", "--redis-wait-timeout-ms", "500"])
        #expect(configuration.redisWaitReplicas == 1 && configuration.redisWaitTimeoutMilliseconds == 500)
        #expect(try Self.parse([], ["AGENTSTATE_REDIS_WAIT_REPLICAS": "2"]).redisWaitReplicas == 2)
        #expect(Self.error(["--redis-wait-replicas", "17"]) != nil)
        #expect(Self.error(["--redis-wait-timeout-ms", "0"]) != nil)
    }
}
