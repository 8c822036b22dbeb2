import Foundation
import RedisClient
import Testing
import TestSupport

/// `agentstate check` as an operator runs it: the real binary against a live Redis keyspace
/// written by the real service.
@Suite(.offCooperativePool) struct CheckCommandTests {
    @Test func findsACorruptionExitsOneRepairsItThenExitsZero() async throws {
        let redis = try await RedisServerProcess.shared()
        let prefix = "check-\(UUID().uuidString.prefix(8)):"
        let server = try await AgentStateProcess(["--store", "redis", "--redis-url", redis.url, "--key-prefix", prefix])
        let agent = uniqueAgent()
        #expect(try await server.call("PUT", "/agents/\(agent)/sessions/s1", body: #"{"state":{"a":1},"ttl_seconds":600}"#).status == 201)
        #expect(try await server.call("POST", "/agents/\(agent)/sessions/s1/messages", body: #"{"messages":[1,2]}"#).status == 201)
        let base = ["check", "--redis-url", redis.url, "--key-prefix", prefix]

        var (status, output) = try await AgentStateProcess.run(base)
        #expect(status == 0, "clean: \(output)")
        #expect(output.contains("0 violations"))

        let raw = try await RedisConnection.connect(to: try RedisURL(parsing: redis.url))
        _ = try await raw.send(["HSET", "\(prefix)\(agent):s1", "mc", "5"])
        (status, output) = try await AgentStateProcess.run(base)
        #expect(status == 1)
        #expect(output.contains("violation agent=\(agent) session=s1 invariant=message_count"), "\(output)")
        #expect(output.contains("1 violations, 0 repaired"))

        (status, output) = try await AgentStateProcess.run(base + ["--repair", "--json", "--agent", agent])
        #expect(status == 0, "\(output)")
        #expect(output.contains(#"{"agent":"\#(agent)","session":"s1","invariant":"message_count""#), "\(output)")
        #expect(output.contains(#""repaired":true"#))
        #expect(try await raw.send(["HGET", "\(prefix)\(agent):s1", "mc"]).string == "2")
        #expect(try await AgentStateProcess.run(base).status == 0)

        #expect(try await AgentStateProcess.run(base + ["--max-ops-per-second", "-1"]).status == 2)
        #expect(try await AgentStateProcess.run(base + ["--redis-mode", "cluster"]).status == 2)
        #expect(try await AgentStateProcess.run(base + ["--agent", "bad:id"]).status == 2)
        _ = server
    }
}
