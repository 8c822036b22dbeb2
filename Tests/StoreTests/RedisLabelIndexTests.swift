import RedisClient
@testable import Store
import Testing
import TestSupport

/// The Redis keys behind API v1.1 sessions: the ID set and the label indexes carry TTLs by the
/// agent index's rule, leave with their sessions, and the lease lives in the record.
@Suite(.offCooperativePool) struct RedisLabelIndexTests {
    @Test func labelIndexesAndTheIDSetFollowTheirSessionsTTLsAndDeletes() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let index = fixture.prefix + agent
        let label = index + "::label:user:u:1"
        let labelExpiry = index + "::label-expiry:user:u:1"
        let ids = index + "::ids"
        let short = Fixtures.key(agent, "short")
        let long = Fixtures.key(agent, "long")

        let saved = try await fixture.store.save(short, state: Fixtures.json("1"), options: .init(ttl: .seconds(100), labels: ["user": "u:1"]))
        #expect(try await fixture.send("ZSCORE", label, "short").int == saved.metadata.updatedAt)
        #expect(try await fixture.send("ZSCORE", labelExpiry, "short").int == saved.metadata.expiresAt)
        #expect(try await fixture.send("ZSCORE", ids, "short").int == 0)
        for key in [label, labelExpiry, ids] {
            #expect(try await fixture.send("PEXPIRETIME", key).int == saved.metadata.expiresAt, "\(key)")
        }

        // A persistent session with the label: the label index and the ID set persist too.
        _ = try await fixture.store.save(long, state: Fixtures.json("1"), options: .init(labels: ["user": "u:1"]))
        #expect(try await fixture.pttl(label) == -1)
        #expect(try await fixture.pttl(ids) == -1)
        #expect(try await fixture.send("ZCARD", labelExpiry).int == 1)

        // Relabelled, it leaves the label's index, which expires with the one left.
        _ = try await fixture.store.save(long, state: Fixtures.json("2"), options: .init(labels: ["user": "other"]))
        #expect(try await fixture.send("ZSCORE", label, "long").isNull)
        #expect(try await fixture.send("PEXPIRETIME", label).int == saved.metadata.expiresAt)

        // Deleted, the last one takes the label's keys with it.
        try await fixture.store.delete(short, precondition: .none)
        #expect(try await fixture.send("EXISTS", label, labelExpiry).int == 0)
        #expect(try await fixture.send("ZSCORE", ids, "short").isNull)

        // The lease is in the record; its token stays after a release.
        _ = try await fixture.store.acquireLease(long, holder: "w", ttlMilliseconds: 5_000)
        try await fixture.store.releaseLease(long, holder: "w")
        let fields = try await fixture.send("HMGET", fixture.recordKey(long), "lt", "lh", "le").array ?? []
        #expect(fields.map(\.string) == ["1", nil, nil])

        #expect(try await fixture.store.deleteAll(agentID: agent) == 1)
        #expect(try await fixture.send("EXISTS", index, ids, index + "::label:user:other", index + "::label-expiry:user:other").int == 0)
    }
}

/// The record's `lb` encoding round-trips any valid label set, whatever bytes the values hold.
@Suite(.offCooperativePool) struct LabelEncodingTests {
    @Test(arguments: [1, 2, 3, 4, 5])
    func randomLabelSetsRoundTrip(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let alphabet = Array("abcxyz019_".utf8)
        let valueBytes: [String] = ["=", ":", "0:", "a=1:", "\u{0}", "é", "{}", "✓", " ", "\n", "x"]
        for _ in 0..<200 {
            var labels: SessionLabels = [:]
            for _ in 0..<Int(random.next() % 17) {
                let length = 1 + Int(random.next() % 8)
                let key = "k" + String(decoding: (1..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }, as: UTF8.self)
                var value = ""
                for _ in 0..<(1 + Int(random.next() % 20)) { value += valueBytes[Int(random.next() % UInt64(valueBytes.count))] }
                labels[key] = value
            }
            let encoded = RedisStateStore.encoded(labels: labels)
            #expect(RedisStateStore.decodedLabels(encoded) == labels, "\(labels)")
        }
    }
}
