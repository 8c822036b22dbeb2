import RedisClient
import Synchronization

/// Verifies a live keyspace against the Redis layout (DESIGN §4, `RedisStateStore`), and with
/// `repair` fixes what is safely fixable: `agentstate check`.
///
/// Two passes, each rate-limited to `maxOpsPerSecond` Redis commands:
/// 1. [`SCAN`](https://redis.io/docs/latest/commands/scan/) in batches of `scanCount` over
///    `<prefix>*` (or one agent's keys). Every session record gets one `check_session` script
///    (message count, same expiry on every key, index entry and score, expiry-set entry, index not
///    expiring first, idempotency records in bounds); a messages, idempotency or keys key gets an
///    `EXISTS` of its record, and a `check_session` when that is missing (an orphan).
/// 2. Every index found: `check_index` over its entries and its expiry set in batches of
///    `scanCount` ranks (an entry without a record, an expiry entry without an index entry), then
///    its TTL (`PERSIST` while a session is persistent, else the longest expiry).
///
/// Each check and its repair is one atomic script, so a concurrent write cannot be half-seen or
/// overwritten by a stale repair; a repair re-checks before it writes. Entries of sessions that
/// expired and await pruning are counted, not reported.
public final class RedisLayoutChecker: Sendable {
    /// One broken invariant.
    public struct Violation: Sendable, Equatable {
        public var agentID: String
        /// nil for an index-wide violation.
        public var sessionID: String?
        /// A short stable code, e.g. `message_count`, `not_in_index`, `index_ttl`.
        public var invariant: String
        public var detail: String
        /// Whether `--repair` fixed it.
        public var repaired: Bool
    }

    /// What a run saw.
    public struct Summary: Sendable, Equatable {
        public var keysScanned = 0
        public var sessions = 0
        public var indexes = 0
        public var awaitingPrune = 0
        public var violations = 0
        public var repaired = 0
        public var operations = 0
        public var seconds = 0.0
    }

    let store: RedisStateStore
    let client: any RedisClient
    let prefix: String
    let agentID: String?
    let repair: Bool
    let limiter: RateLimiter
    /// `SCAN … COUNT` and the ranks per `check_index` batch.
    let scanCount: Int

    /// - Parameters:
    ///   - client: the Redis connection (standalone).
    ///   - keyPrefix: the deployment's `--key-prefix`.
    ///   - agentID: check only this agent, or nil for every agent.
    ///   - repair: fix what is safely fixable.
    ///   - maxOpsPerSecond: the most Redis commands per second (nil: unlimited).
    ///   - checksDeclaredKeys: for tests, as `RedisStateStore.init(checksDeclaredKeys:)`.
    public init(client: any RedisClient, keyPrefix: String, agentID: String? = nil, repair: Bool = false,
                maxOpsPerSecond: Int? = nil, scanCount: Int = 200, checksDeclaredKeys: Bool = false) {
        self.client = client
        self.store = RedisStateStore(client: client, keyPrefix: keyPrefix, checksDeclaredKeys: checksDeclaredKeys)
        self.prefix = keyPrefix
        self.agentID = agentID
        self.repair = repair
        self.limiter = RateLimiter(perSecond: maxOpsPerSecond)
        self.scanCount = scanCount
    }

    /// Runs both passes, telling `report` each violation as it is found.
    /// - Throws: `StoreError.unavailable` and the like when Redis fails.
    public func run(report: @Sendable (Violation) -> Void) async throws -> Summary {
        let started = ContinuousClock.now
        var summary = Summary()
        var agents = Set<String>()
        var orphansSeen = Set<String>()
        func tally(_ summary: inout Summary, _ violation: Violation) {
            summary.violations += 1
            if violation.repaired { summary.repaired += 1 }
            report(violation)
        }

        var cursor = "0"
        let pattern = Self.globEscaped(prefix) + (agentID.map { Self.globEscaped($0) + "*" } ?? "*")
        repeat {
            let reply = try await send(["SCAN", cursor, "MATCH", pattern, "COUNT", String(scanCount)])
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
                throw StoreError.internalError(reason: "redis SCAN: unexpected reply \(reply)")
            }
            cursor = next
            for key in keys.compactMap(\.string) {
                summary.keysScanned += 1
                guard let kind = classify(key), agentID == nil || kind.agent == agentID else { continue }
                switch kind.role {
                case .index, .expirySet:
                    agents.insert(kind.agent)
                case .record:
                    summary.sessions += 1
                    agents.insert(kind.agent)
                    for violation in try await checkSession(kind.agent, kind.session!) { tally(&summary, violation) }
                case .part:
                    let record = "\(prefix)\(kind.agent):\(kind.session!)"
                    guard !orphansSeen.contains(record), try await send(["EXISTS", record]).int == 0 else { continue }
                    orphansSeen.insert(record)
                    for violation in try await checkSession(kind.agent, kind.session!) { tally(&summary, violation) }
                }
            }
        } while cursor != "0"

        for agent in agents.sorted() {
            summary.indexes += 1
            let waiting = try await checkIndex(agent) { tally(&summary, $0) }
            summary.awaitingPrune += waiting
        }
        summary.operations = limiter.count
        let elapsed = ContinuousClock.now - started
        summary.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return summary
    }

    // MARK: - Steps

    private func checkSession(_ agent: String, _ session: String) async throws -> [Violation] {
        let keys = store.sessionKeys(SessionKey(agentID: agent, sessionID: session))
        // check_session's order: record, messages, idempotency, keys, index, expiry set, ID set.
        let ordered = [keys[0], keys[1], keys[2], keys[4], keys[3], keys[5], keys[6]]
        let reply = try await script(.checkSession, keys: ordered, arguments: [session, repair ? "1" : "0"])
        guard let flat = reply.array else { throw StoreError.internalError(reason: "redis check_session: unexpected reply \(reply)") }
        return pairs(flat).map { Violation(agentID: agent, sessionID: session, invariant: $0, detail: $1, repaired: repair) }
    }

    /// Both phases over the index's ranks, then its TTL. Returns the entries awaiting pruning.
    private func checkIndex(_ agent: String, report: (Violation) -> Void) async throws -> Int {
        let keys = store.indexKeys(agent)
        var waiting = 0
        for phase in ["x", "e"] {
            var start = 0
            // Bounded: far beyond any index (10 million entries per agent at the default batch).
            for _ in 0..<50_000 {
                let (scanned, removed, awaiting, found) = try await indexStep(keys, agent: agent, phase: phase, start: start)
                waiting += awaiting
                for (code, detail) in found { report(split(agent, code, detail)) }
                if scanned < scanCount { break }
                start += scanned - removed
            }
        }
        let (_, _, _, found) = try await indexStep(keys, agent: agent, phase: "t", start: 0)
        for (code, detail) in found { report(Violation(agentID: agent, sessionID: nil, invariant: code, detail: detail, repaired: repair)) }
        return waiting
    }

    private func indexStep(_ keys: [[UInt8]], agent: String, phase: String, start: Int) async throws
        -> (Int, Int, Int, [(String, String)]) {
        let reply = try await script(.checkIndex, keys: keys, arguments: [
            "\(prefix)\(agent):", repair ? "1" : "0", phase, String(start), String(scanCount),
        ])
        guard let parts = reply.array, parts.count == 4, let scanned = parts[0].int, let removed = parts[1].int,
              let waiting = parts[2].int, let flat = parts[3].array else {
            throw StoreError.internalError(reason: "redis check_index: unexpected reply \(reply)")
        }
        return (Int(scanned), Int(removed), Int(waiting), pairs(flat))
    }

    /// An index-batch violation: its detail is `<session ID>\t<text>`.
    private func split(_ agent: String, _ code: String, _ detail: String) -> Violation {
        let parts = detail.split(separator: "\t", maxSplits: 1).map(String.init)
        return Violation(agentID: agent, sessionID: parts.first, invariant: code, detail: parts.last ?? detail, repaired: repair)
    }

    private func pairs(_ flat: [RESPValue]) -> [(String, String)] {
        stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0].string ?? "?", flat[$0 + 1].string ?? "") }
    }

    private func script(_ script: RedisScript, keys: [[UInt8]], arguments: [String]) async throws -> RESPValue {
        await limiter.acquire()
        return try await store.run(script, keys: keys, arguments: arguments.map { Array($0.utf8) })
    }

    private func send(_ command: [String]) async throws -> RESPValue {
        await limiter.acquire()
        do {
            return try await client.send(command.map { Array($0.utf8) })
        } catch {
            throw RedisStateStore.storeError(error, operation: command[0].lowercased())
        }
    }

    // MARK: - Keys

    enum Role { case index, expirySet, record, part }

    /// What a key of the layout is, or nil for a key that is not one (another prefix's, another feature's).
    func classify(_ key: String) -> (role: Role, agent: String, session: String?)? {
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let agent = parts.first, SessionID.isValid(agent.utf8[...]) else { return nil }
        switch parts.count {
        case 1: return (.index, agent, nil)
        case 2 where SessionID.isValid(parts[1].utf8[...]): return (.record, agent, parts[1])
        case 3 where parts[1].isEmpty && parts[2] == "expiry": return (.expirySet, agent, nil)
        case 3 where SessionID.isValid(parts[1].utf8[...]) && ["messages", "idem", "keys"].contains(parts[2]):
            return (.part, agent, parts[1])
        default: return nil
        }
    }

    /// `text` with SCAN's glob characters escaped.
    static func globEscaped(_ text: String) -> String {
        var result = ""
        for character in text {
            if "*?[]\\".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }
}

/// Spaces calls out to at most `perSecond` per second (nil: no limit), and counts them.
final class RateLimiter: Sendable {
    private let interval: Duration?
    private let state = Mutex<(next: ContinuousClock.Instant, count: Int)>((ContinuousClock.now, 0))

    init(perSecond: Int?) {
        interval = perSecond.map { .nanoseconds(1_000_000_000 / Int64(max($0, 1))) }
    }

    var count: Int { state.withLock { $0.count } }

    /// Waits for the next slot.
    func acquire() async {
        let wait: Duration = state.withLock { state in
            state.count += 1
            guard let interval else { return .zero }
            let now = ContinuousClock.now
            let slot = max(state.next, now)
            state.next = slot + interval
            return slot - now
        }
        if wait > .zero { try? await Task.sleep(for: wait) }
    }
}
