import Foundation
import Testing
import TestSupport

/// Failover under load with the real binary and three sentinels (`FailoverUnderLoad`): `kill -9` of the
/// primary while writers PUT distinct sessions, and sentinels dead at startup or during the failover.
/// Serialized: each test runs five servers and the service on a machine with two busy cores.
@Suite(.offCooperativePool, .serialized)
struct RedisSentinelFailoverTests {
    @Test func withWaitReplicasEveryAcknowledgedWriteSurvivesAKill9OfThePrimary() async throws {
        let outcome = try await FailoverUnderLoad.run(.init(waitReplicas: true))
        outcome.expectRecovered()
        #expect(outcome.lost == 0, "acknowledged writes missing on the new primary: \(outcome)")
        #expect(outcome.unavailableAfterKill > 0, "no write waited for the missing replica: \(outcome)")
    }

    /// The number of lost acknowledged writes is printed (asynchronous replication may lose the last ones), not asserted.
    @Test func withoutWaitReplicasWritesResumeAndLostWritesAreCounted() async throws {
        let outcome = try await FailoverUnderLoad.run(.init())
        outcome.expectRecovered()
        #expect(outcome.acknowledged > outcome.lost)
    }

    @Test func aSentinelKilledDuringTheFailoverDoesNotStopRediscovery() async throws {
        let outcome = try await FailoverUnderLoad.run(.init(killSentinelDuringFailover: true))
        outcome.expectRecovered()
    }

    @Test func aSentinelDeadAtStartupFirstInTheListDoesNotBlockDiscovery() async throws {
        let topology = try await RedisSentinelTopology()
        await topology.sentinels[0].crash()
        let service = try await AgentStateProcess([
            "--store", "redis", "--redis-mode", "sentinel", "--redis-sentinel-master", RedisSentinelProcess.masterName,
            "--redis-url", "redis://\(topology.sentinelHostList)",
        ])
        let agent = uniqueAgent()
        var status = 0
        for attempt in 0..<100 where status != 201 {
            status = (try? await service.call("PUT", "/agents/\(agent)/sessions/s\(attempt)", body: #"{"state": 1}"#))?.status ?? -1
            if status != 201 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status == 201, "no write within 10 s; log: \(service.log().suffix(800))")
        #expect(try await service.call("GET", "/readyz").status == 200)
        let metrics = try await service.call("GET", "/metrics").text
        #expect(metrics.contains(#"agentstate_redis_primary_info{address="127.0.0.1:\#(topology.primary.port)"} 1"#))
    }
}
