import Foundation
import RedisClient
import Store
import Synchronization
import TestSupport

/// A bounded write load against the real binary in cluster mode, while a disruption (a reshard, a
/// kill) runs: each writer alternates a PUT of a new session `w<writer>-<n>` with an append to its
/// own log session `log<writer>`, and every answer is recorded.
///
/// The writers stop `tail` after the disruption returns, and never run longer than `limit`.
final class ClusterWriteLoad: Sendable {
    /// One answer.
    struct Answer: Sendable {
        let session: String
        let isAppend: Bool
        let status: Int
        let started: ContinuousClock.Instant
        let finished: ContinuousClock.Instant
        /// The body of an answer other than 201 and 503.
        var detail = ""
    }

    let service: AgentStateProcess
    let agent: String
    let writers: Int
    private let recorded = Mutex<[Answer]>([])
    private let disruptionEnded = Moment()

    /// The key layout the binary uses by default in cluster mode (16 buckets).
    static let layout = RedisKeyLayout.cluster(buckets: 16)

    init(service: AgentStateProcess, agent: String, writers: Int = 4) {
        self.service = service
        self.agent = agent
        self.writers = writers
    }

    /// Every answer so far.
    var answers: [Answer] { recorded.withLock { $0 } }

    /// The hash slot of every key of `session`.
    func slot(of session: String) -> HashSlot {
        HashSlot(key: Self.layout.agentPart(agent, bucket: Self.layout.bucket(of: session)))
    }

    /// Creates the log sessions, then runs the writers beside `disruption`.
    /// - Throws: when a log session cannot be created or the disruption throws.
    func run(limit: Duration = .seconds(30), tail: Duration = .seconds(2),
             disruption: @escaping @Sendable () async throws -> Void) async throws {
        for writer in 0..<writers {
            let created = try await service.call("PUT", "/agents/\(agent)/sessions/log\(writer)", body: #"{"state": {}}"#)
            guard created.status == 201 else {
                throw ChildProcess.Failure(description: "log\(writer) not created: \(created.status) \(created.text)")
            }
        }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask { [self] in
                    var index = 0
                    while ContinuousClock.now - start < limit, index < 100_000 {
                        if let ended = disruptionEnded.value, ContinuousClock.now - ended > tail { break }
                        index += 1
                        let append = index % 2 == 0
                        let session = append ? "log\(writer)" : "w\(writer)-\(index)"
                        let path = "/agents/\(agent)/sessions/\(session)" + (append ? "/messages" : "")
                        let body = append ? #"{"messages": [{"n": \#(index)}]}"# : #"{"state": {"n": \#(index)}}"#
                        let started = ContinuousClock.now
                        let response = try? await service.call(append ? "POST" : "PUT", path, body: body)
                        let status = response?.status ?? -1
                        var answer = Answer(session: session, isAppend: append, status: status, started: started, finished: .now)
                        if status != 201 && status != 503 { answer.detail = response?.text ?? "no answer" }
                        recorded.withLock { $0.append(answer) }
                        if status != 201 { try? await Task.sleep(for: .milliseconds(20)) }
                    }
                }
            }
            group.addTask { [disruptionEnded] in
                defer { disruptionEnded.record() }
                try await disruption()
            }
            try await group.waitForAll()
        }
    }

    /// How many answers had each status.
    var statusCounts: [Int: Int] {
        answers.reduce(into: [:]) { $0[$1.status, default: 0] += 1 }
    }

    /// The acknowledged writes the service no longer has: PUT sessions that are gone, and per log
    /// session the appends acknowledged beyond its `message_count`.
    func missingAcknowledgedWrites() async throws -> [String] {
        var missing: [String] = []
        let acknowledged = answers.filter { $0.status == 201 }
        for answer in acknowledged where !answer.isAppend {
            let status = try await service.call("GET", "/agents/\(agent)/sessions/\(answer.session)").status
            if status != 200 { missing.append("\(answer.session): GET answered \(status)") }
        }
        for writer in 0..<writers {
            let appended = acknowledged.filter { $0.isAppend && $0.session == "log\(writer)" }.count
            let record = try await service.call("GET", "/agents/\(agent)/sessions/log\(writer)")
            let count = record.json["message_count"] as? Int ?? -1
            if count < appended { missing.append("log\(writer): \(appended) appends acknowledged, message_count \(count)") }
        }
        return missing
    }

    /// `agentstate_redis_redirects_total{kind="<kind>"}` from /metrics (0 when absent).
    func redirects(_ kind: String) async throws -> Int {
        let metrics = try await service.call("GET", "/metrics").text
        let prefix = #"agentstate_redis_redirects_total{kind="\#(kind)"} "#
        guard let line = metrics.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return 0 }
        return Int(Double(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)) ?? -1)
    }
}

extension RedisClusterProcess {
    /// The node ID and port of every node, from `CLUSTER NODES` as `node` sees it, with each
    /// primary's slot ranges.
    func topology(from node: RedisServerProcess) async throws -> [(id: String, port: Int, isPrimary: Bool, primaryID: String, slots: [ClosedRange<Int>])] {
        let text = try await cli(node, ["CLUSTER", "NODES"])
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 8, let colon = fields[1].firstIndex(of: ":") else { return nil }
            let portText = fields[1][fields[1].index(after: colon)...].prefix { $0.isNumber }
            guard let port = Int(portText) else { return nil }
            let slots: [ClosedRange<Int>] = fields.dropFirst(8).compactMap { range in
                guard !range.hasPrefix("[") else { return nil }
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                return bounds.count == 2 ? bounds[0]...bounds[1] : bounds.first.map { $0...$0 }
            }
            return (fields[0], port, fields[2].contains("master") && !fields[2].contains("fail"), fields[3], slots)
        }
    }
}

/// An instant set once by one task and read by others.
final class Moment: Sendable {
    private let instant = Mutex<ContinuousClock.Instant?>(nil)
    /// The recorded instant, if any.
    var value: ContinuousClock.Instant? { instant.withLock { $0 } }
    /// Records now (the first call wins).
    func record() { instant.withLock { if $0 == nil { $0 = .now } } }
}
