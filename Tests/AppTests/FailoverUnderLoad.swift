import Foundation
import RedisClient
import Synchronization
import Testing
import TestSupport

/// One failover under load against the real binary in sentinel mode: writers PUT distinct sessions, the
/// primary is killed with SIGKILL, and the outcome records every answer, when writes resumed (from the kill
/// and from the first `+switch-master`), and which acknowledged writes the new primary lacks.
struct FailoverUnderLoad {
    /// What to do besides killing the primary.
    struct Options: Sendable {
        /// `--redis-wait-replicas 1`; the old primary is then restarted and re-attached as a replica after the switch.
        var waitReplicas = false
        /// Kill one sentinel (the first of the service's list) right after the primary.
        var killSentinelDuringFailover = false
        /// Concurrent writers.
        var writers = 4
    }

    /// What one run saw.
    struct Outcome: CustomStringConvertible {
        var statuses: [Int: Int] = [:]
        var unavailableAfterKill = 0
        var acknowledged = 0
        var lost = 0
        var killToFirstWrite: Duration?
        var switchToFirstWrite: Duration?
        var switchAnnouncement: String?
        var serviceLog = ""
        var options = Options()

        /// One line that scripts/sentinel-failover-bench parses.
        var description: String {
            func milliseconds(_ duration: Duration?) -> String {
                guard let duration else { return "none" }
                let (seconds, attoseconds) = duration.components
                return String(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
            }
            return "sentinel-failover-result wait_replicas=\(options.waitReplicas ? 1 : 0)"
                + " sentinel_killed=\(options.killSentinelDuringFailover ? 1 : 0)"
                + " kill_to_first_write_ms=\(milliseconds(killToFirstWrite))"
                + " switch_to_first_write_ms=\(milliseconds(switchToFirstWrite))"
                + " status_503_after_kill=\(unavailableAfterKill) status_500=\(statuses[500] ?? 0)"
                + " acknowledged=\(acknowledged) lost=\(lost) statuses=\(statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))"
        }
    }

    private struct Answer: Sendable {
        let session: String
        let status: Int
        let started: ContinuousClock.Instant
        let finished: ContinuousClock.Instant
    }

    /// Runs one failover on a private topology.
    /// - Throws: when the topology or the service cannot be started, or writes never start.
    static func run(_ options: Options) async throws -> Outcome {
        let topology = try await RedisSentinelTopology()
        var arguments = [
            "--store", "redis", "--redis-mode", "sentinel", "--redis-sentinel-master", RedisSentinelProcess.masterName,
            "--redis-url", "redis://\(topology.sentinelHostList)",
        ]
        if options.waitReplicas { arguments += ["--redis-wait-replicas", "1", "--redis-wait-timeout-ms", "300"] }
        let service = try await AgentStateProcess(arguments)
        let watcher = try await SwitchMasterWatcher(sentinelPorts: topology.sentinelPorts)
        let agent = uniqueAgent()
        let body = #"{"state": {"n": 1}}"#

        var ready = false
        for attempt in 0..<300 where !ready {
            ready = (try? await service.call("PUT", "/agents/\(agent)/sessions/ready\(attempt)", body: body))?.status == 201
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard ready else { throw ChildProcess.Failure(description: "no write succeeded within 30 s; log: \(service.log().suffix(800))") }

        // Writers run until 3 s after writes resume following the kill, and never longer than 30 s.
        let start = ContinuousClock.now
        let progress = Progress()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<options.writers {
                group.addTask {
                    var index = 0
                    while ContinuousClock.now - start < .seconds(30) {
                        if let resumed = progress.resumedAt.withLock({ $0 }), ContinuousClock.now - resumed > .seconds(3) { break }
                        index += 1
                        let session = "w\(writer)-\(index)"
                        let started = ContinuousClock.now
                        let status = (try? await service.call("PUT", "/agents/\(agent)/sessions/\(session)", body: body))?.status ?? -1
                        let finished = ContinuousClock.now
                        progress.answers.withLock { $0.append(Answer(session: session, status: status, started: started, finished: finished)) }
                        if status == 201, let killed = progress.killedAt.withLock({ $0 }), started > killed {
                            progress.resumedAt.withLock { if $0 == nil { $0 = finished } }
                        }
                        if status != 201 { try? await Task.sleep(for: .milliseconds(20)) }
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(2))
                progress.killedAt.withLock { $0 = ContinuousClock.now }
                await topology.primary.crash()
                if options.killSentinelDuringFailover { await topology.sentinels[0].crash() }
                guard options.waitReplicas else { return }
                // With one replica, WAIT 1 holds every write until a replica is back: restart the old primary
                // and attach it to the promoted one (what the sentinels would do too, after their 8 s+ role check).
                for _ in 0..<400 where watcher.announcement == nil { try await Task.sleep(for: .milliseconds(50)) }
                guard watcher.announcement != nil else { return }
                try await topology.primary.restart()
                let old = try await RedisConnection.connect(to: RedisURL(host: "127.0.0.1", port: topology.primary.port))
                defer { old.close() }
                _ = try await old.send("REPLICAOF", "127.0.0.1", String(topology.replica.port))
            }
            try await group.waitForAll()
        }

        var outcome = Outcome(options: options)
        let all = progress.answers.withLock { $0 }
        let killed = progress.killedAt.withLock { $0 } ?? start
        let switched = watcher.announcement
        outcome.switchAnnouncement = switched?.payload
        for answer in all { outcome.statuses[answer.status, default: 0] += 1 }
        outcome.unavailableAfterKill = all.filter { $0.status == 503 && $0.finished > killed }.count
        if let firstWrite = all.filter({ $0.status == 201 && $0.started > killed }).map(\.finished).min() {
            outcome.killToFirstWrite = firstWrite - killed
            if let switched { outcome.switchToFirstWrite = firstWrite - switched.at }
        }

        // Every acknowledged write must be on the promoted replica.
        let acknowledged = all.filter { $0.status == 201 }.map(\.session)
        outcome.acknowledged = acknowledged.count
        let promoted = try await RedisConnection.connect(to: RedisURL(host: "127.0.0.1", port: topology.replica.port))
        defer { promoted.close() }
        #expect(try await promoted.send("ROLE").array?.first?.string == "master", "the replica was not promoted")
        for session in acknowledged where try await promoted.send("EXISTS", "agentstate:\(agent):\(session)").int != 1 {
            outcome.lost += 1
        }
        outcome.serviceLog = String(service.log().suffix(1500))
        print(outcome)
        return outcome
    }
}

extension FailoverUnderLoad {
    /// What the writers and the killer share.
    private final class Progress: Sendable {
        let killedAt = Mutex<ContinuousClock.Instant?>(nil)
        let resumedAt = Mutex<ContinuousClock.Instant?>(nil)
        let answers = Mutex<[Answer]>([])
    }
}

extension FailoverUnderLoad.Outcome {
    /// The assertions every failover run shares: no 500 (nor anything but 201 and 503), a `+switch-master`,
    /// and writes again within 10 s of it.
    func expectRecovered(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(statuses[500] == nil, "answers of 500: \(self)\n\(serviceLog)", sourceLocation: sourceLocation)
        #expect(Set(statuses.keys).isSubset(of: [201, 503]), "\(self)\n\(serviceLog)", sourceLocation: sourceLocation)
        #expect(switchAnnouncement != nil, "no +switch-master within 20 s: \(self)", sourceLocation: sourceLocation)
        #expect(killToFirstWrite != nil, "writes never resumed: \(self)\n\(serviceLog)", sourceLocation: sourceLocation)
        if let switchToFirstWrite {
            #expect(switchToFirstWrite < .seconds(10), "writes resumed \(switchToFirstWrite) after +switch-master: \(self)", sourceLocation: sourceLocation)
        }
    }
}
