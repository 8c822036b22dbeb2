import Foundation
import RedisClient
@testable import Store
import Synchronization
import Testing
import TestSupport

/// `RedisLayoutChecker` (`agentstate check`) on a live keyspace: clean data passes, every kind of
/// corruption is found, `repair` fixes it, and a second run finds nothing.
@Suite(.offCooperativePool) struct RedisLayoutCheckerTests {
    @Test func findsAndRepairsEveryCorruption() async throws {
        let fixture = try await RedisFixture.make()
        let store = fixture.store
        let prefix = fixture.prefix
        // One agent per corruption, each with a healthy neighbour session of every kind.
        let cases = [
            "entry_without_record", "not_in_index", "index_score", "expiry_set", "message_count", "key_expiry",
            "index_ttl", "idempotency_record", "orphan_key", "expiry_entry_not_in_index", "not_in_id_set",
        ]
        let agents = Dictionary(uniqueKeysWithValues: cases.map { ($0, "a-\($0.replacingOccurrences(of: "_", with: "-"))") })
        for agent in agents.values {
            _ = try await store.save(Fixtures.key(agent, "persistent"), state: Fixtures.json("{}"), options: .init())
            try await Fixtures.tick()
            _ = try await store.append(
                Fixtures.key(agent, "mortal"), messages: [Fixtures.json("1"), Fixtures.json("2")], keys: ["k1", nil],
                options: .init(ttl: .seconds(600)), idempotency: IdempotencyToken(key: "i1", bodyDigest: "d"))
            try await Fixtures.tick()
            _ = try await store.save(Fixtures.key(agent, "slide"), state: Fixtures.json("1"), options: .init(ttl: .seconds(300), slidingTTL: true))
            _ = try await store.load(Fixtures.key(agent, "slide"))
        }

        let clean = try await runCheck(fixture, repair: false)
        #expect(clean.violations.isEmpty, "a healthy keyspace: \(clean.violations)")
        #expect(clean.summary.sessions == 3 * cases.count)
        #expect(clean.summary.indexes == cases.count)

        func record(_ agent: String, _ session: String) -> String { "\(prefix)\(agent):\(session)" }
        func index(_ agent: String) -> String { "\(prefix)\(agent)" }
        let mortal = record(agents["expiry_set"]!, "mortal")
        let updated = try #require(try await fixture.hash(record(agents["index_score"]!, "mortal"))["u"])

        try await fixture.send("ZADD", index(agents["entry_without_record"]!), "1700000000000", "ghost")
        try await fixture.send("ZREM", index(agents["not_in_index"]!), "mortal")
        try await fixture.send("ZREM", index(agents["not_in_index"]!) + "::expiry", "mortal")
        try await fixture.send("ZADD", index(agents["index_score"]!), "-" + updated, "mortal")
        try await fixture.send("ZREM", index(agents["expiry_set"]!) + "::expiry", "mortal")
        try await fixture.send("HSET", record(agents["message_count"]!, "mortal"), "mc", "99")
        try await fixture.send("PEXPIRE", record(agents["key_expiry"]!, "mortal") + ":messages", "200000")  // far from the session's 600 s, and never expiring during a slow run (5 s once did)
        try await fixture.send("PEXPIRE", index(agents["index_ttl"]!), "100000")
        try await fixture.send("PEXPIRE", index(agents["index_ttl"]!) + "::expiry", "100000")
        try await fixture.send("HSET", record(agents["idempotency_record"]!, "mortal") + ":idem", "forged", "garbage")
        try await fixture.send("ZADD", record(agents["orphan_key"]!, "lost") + ":messages", "1", "1:x")
        try await fixture.send("ZADD", index(agents["expiry_entry_not_in_index"]!) + "::expiry", "4000000000000", "phantom")
        try await fixture.send("ZREM", index(agents["not_in_id_set"]!) + "::ids", "persistent")

        let broken = try await runCheck(fixture, repair: false)
        let found = Set(broken.violations.map { "\($0.agentID) \($0.invariant)" })
        for name in cases {
            #expect(found.contains("\(agents[name]!) \(name)"), "\(name) not found in \(broken.violations)")
        }
        // Each corruption is reported under its own agent, never spilling over to the others.
        for violation in broken.violations {
            let expected = agents.first { $0.value == violation.agentID }?.key
            let related: Set<String> = switch expected {
            // An index TTL wrong for its persistent session breaks both index-TTL invariants; an entry
            // removed from the index also left the expiry set; a far-future phantom in the expiry
            // set is also the index's longest expiry.
            case "index_ttl": ["index_ttl", "index_expires_early"]
            case "not_in_index": ["not_in_index", "expiry_set"]
            case "expiry_entry_not_in_index": ["expiry_entry_not_in_index", "index_ttl"]
            default: [expected ?? "?"]
            }
            #expect(related.contains(violation.invariant), "unexpected \(violation)")
            #expect(!violation.repaired)
        }
        #expect(broken.violations.first { $0.invariant == "orphan_key" }?.sessionID == "lost")
        #expect(broken.violations.first { $0.invariant == "entry_without_record" }?.sessionID == "ghost")

        let repaired = try await runCheck(fixture, repair: true)
        // A repair can make a later check of the same run moot (the phantom's removal fixes the TTL).
        let fixed = Set(repaired.violations.map { "\($0.agentID) \($0.invariant)" })
        #expect(fixed.isSubset(of: found))
        for name in cases where name != "index_ttl" {
            #expect(fixed.contains("\(agents[name]!) \(name)"), "\(name) not repaired: \(repaired.violations)")
        }
        #expect(fixed.contains("\(agents["index_ttl"]!) index_expires_early"))
        #expect(repaired.violations.allSatisfy { $0.repaired })
        #expect(repaired.summary.repaired == repaired.summary.violations)

        let after = try await runCheck(fixture, repair: false)
        #expect(after.violations.isEmpty, "still broken after repair: \(after.violations)")
        // The repairs put the data right, not just quiet.
        #expect(try await fixture.send("ZSCORE", index(agents["entry_without_record"]!), "ghost").isNull)
        #expect(try await fixture.send("ZSCORE", index(agents["index_score"]!), "mortal").string == updated)
        let mortalExpiry = try #require(try await fixture.hash(mortal)["e"])
        #expect(try await fixture.send("ZSCORE", index(agents["expiry_set"]!) + "::expiry", "mortal").string == mortalExpiry)
        #expect(try await fixture.hash(record(agents["message_count"]!, "mortal"))["mc"] == "2")
        #expect(try await fixture.pttl(record(agents["key_expiry"]!, "mortal") + ":messages") > 500_000)
        #expect(try await fixture.pttl(index(agents["index_ttl"]!)) == -1)
        #expect(try await fixture.send("HEXISTS", record(agents["idempotency_record"]!, "mortal") + ":idem", "forged").int == 0)
        #expect(try await fixture.send("HEXISTS", record(agents["idempotency_record"]!, "mortal") + ":idem", "i1").int == 1)
        #expect(try await fixture.send("EXISTS", record(agents["orphan_key"]!, "lost") + ":messages").int == 0)
        #expect(try await fixture.send("ZSCORE", index(agents["expiry_entry_not_in_index"]!) + "::expiry", "phantom").isNull)
        #expect(try await fixture.send("ZSCORE", index(agents["not_in_id_set"]!) + "::ids", "persistent").string == "0")
        // And the store still serves every session, in list order.
        for agent in agents.values {
            #expect(try await Fixtures.listAll(agent, in: store).map(\.sessionID) == ["slide", "mortal", "persistent"])
        }
    }

    @Test func oneAgentOnlyAndRateLimited() async throws {
        let fixture = try await RedisFixture.make()
        for agent in ["x1", "x10"] {
            for index in 0..<5 {
                _ = try await fixture.store.save(Fixtures.key(agent, "s\(index)"), state: Fixtures.json("1"), options: .init())
            }
            try await fixture.send("HSET", "\(fixture.prefix)\(agent):s0", "mc", "7")
        }
        let started = ContinuousClock.now
        let checker = RedisLayoutChecker(client: fixture.raw, keyPrefix: fixture.prefix, agentID: "x1", maxOpsPerSecond: 20, checksDeclaredKeys: true)
        let seen = Mutex<[RedisLayoutChecker.Violation]>([])
        let summary = try await checker.run { violation in seen.withLock { $0.append(violation) } }
        #expect(seen.withLock { $0.map(\.agentID) } == ["x1"], "x10 shares x1's prefix but is another agent")
        #expect(summary.sessions == 5)
        #expect(summary.operations >= 8)
        // 20 ops/s: the run cannot be faster than its operations allow (a lower bound, never a speed claim).
        #expect(ContinuousClock.now - started >= .milliseconds((summary.operations - 1) * 50 - 50))
    }

    private func runCheck(_ fixture: RedisFixture, repair: Bool) async throws
        -> (violations: [RedisLayoutChecker.Violation], summary: RedisLayoutChecker.Summary) {
        let checker = RedisLayoutChecker(client: fixture.raw, keyPrefix: fixture.prefix, repair: repair, scanCount: 7, checksDeclaredKeys: true)
        let seen = Mutex<[RedisLayoutChecker.Violation]>([])
        let summary = try await checker.run { violation in seen.withLock { $0.append(violation) } }
        return (seen.withLock { $0 }, summary)
    }
}
