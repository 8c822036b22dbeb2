import Foundation
import RedisClient
@testable import Store
import Synchronization
import Testing
import TestSupport

/// What only the Redis backend has: its key layout, native expiry, index pruning and binary
/// safety, checked over a raw connection to the shared test server.
@Suite(.offCooperativePool) struct RedisStateStoreTests {
    @Test func keyLayoutHashFieldsMessagesIndexAndIdempotency() async throws {
        let fixture = try await RedisFixture.make()
        let key = Fixtures.freshKey("s-1")
        let (record, messages, idem, index) = unpack(fixture.keys(key))
        let saved = try await fixture.store.save(key, state: Fixtures.json("{\"a\":1}"), options: .init(ttl: .seconds(600), slidingTTL: true))
        let token = IdempotencyToken(key: "req 1|x", bodyDigest: "abc123")
        let appended = try await fixture.store.append(key, messages: [Fixtures.json("\"m1\""), Fixtures.json("[2]")], options: .init(), idempotency: token)
        let meta = try await fixture.store.load(key).metadata

        let fields = try await fixture.hash(record)
        #expect(fields["v"] == "2")
        #expect(fields["c"] == String(saved.metadata.createdAt))
        #expect(fields["u"] == String(meta.updatedAt))
        #expect(fields["e"] == String(try #require(meta.expiresAt)))
        #expect(fields["t"] == "600")
        #expect(fields["sl"] == "1")
        #expect(fields["n"] == "3")
        #expect(fields["st"] == "{\"a\":1}")

        let log = try await fixture.send("ZRANGE", messages, "0", "-1", "WITHSCORES").array?.compactMap(\.string)
        #expect(log == ["1:\"m1\"", "1", "2:[2]", "2"])

        let recorded = try #require(try await fixture.send("HGET", idem, "req 1|x").string)
        let parts = recorded.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        #expect(parts.count == 6)
        #expect(Array(parts.dropFirst()) == ["2", "1", "2", "2", "abc123"])
        #expect(appended == AppendResult(version: 2, firstSeq: 1, lastSeq: 2, messageCount: 2))

        #expect(try await fixture.send("ZSCORE", index, key.sessionID).string == String(meta.updatedAt))
        #expect(try await fixture.send("ZCARD", index).int == 1)
        #expect(try await fixture.send("TYPE", record).string == "hash")
        #expect(try await fixture.send("TYPE", messages).string == "zset")
        #expect(try await fixture.send("TYPE", index).string == "zset")

        // v1.1: a keyed message's member carries its key; the key hash maps key → seq; 'mb'
        // counts message bytes; the key hash goes with the session.
        let keysHash = fixture.keys(key)[4]
        _ = try await fixture.store.append(key, messages: [Fixtures.json("{\"x\":1}")], keys: ["k:1"], options: .init(), idempotency: nil)
        #expect(try await fixture.send("ZRANGEBYSCORE", messages, "3", "3").array?.compactMap(\.string) == ["3#3:k:1{\"x\":1}"])
        #expect(try await fixture.send("HGET", keysHash, "k:1").string == "3")
        #expect(try await fixture.send("TYPE", keysHash).string == "hash")
        #expect(try await fixture.send("HGET", record, "mb").string == "14")
        #expect(try await fixture.store.load(key).metadata.messageBytes == 14)
        _ = try await fixture.store.delete(key, precondition: .none)
        #expect(try await fixture.send("EXISTS", record, messages, idem, keysHash).int == 0)
    }

    @Test func everyKeyGetsTheSessionTTLOrPersists() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let key = Fixtures.key(agent, "s")
        let keys = fixture.keys(key)
        _ = try await fixture.store.save(key, state: Fixtures.json("1"), options: .init(ttl: .seconds(60)))
        // A keyed message, so the session's key hash exists too and must share the TTL.
        _ = try await fixture.store.append(
            key, messages: [Fixtures.json("1")], keys: ["m1"], options: .init(), idempotency: IdempotencyToken(key: "k", bodyDigest: "d"))
        #expect(keys.count == 6)
        let expiresAt = try #require(try await fixture.store.load(key).metadata.expiresAt)
        for name in keys {
            let left = try await fixture.pttl(name)
            #expect((1...60_000).contains(left), "\(name) has PTTL \(left)")
        }
        // The record's e field is the instant every key expires at (PEXPIRETIME is Redis 7 only).
        #expect(try await fixture.send("HGET", keys[0], "e").int == expiresAt)

        // A longer-lived session extends the index; a shorter one never shortens it.
        _ = try await fixture.store.save(Fixtures.key(agent, "long"), state: Fixtures.json("1"), options: .init(ttl: .seconds(3_600)))
        #expect(try await fixture.pttl(keys[3]) > 60_000)
        _ = try await fixture.store.save(Fixtures.key(agent, "short"), state: Fixtures.json("1"), options: .init(ttl: .seconds(5)))
        #expect(try await fixture.pttl(keys[3]) > 60_000)

        // Persist: every key of the session and the index lose their TTL (the expiry set keeps the
        // same TTL as the index: both persist).
        _ = try await fixture.store.save(key, state: Fixtures.json("2"), options: .init(ttl: .persist))
        for name in keys {
            #expect(try await fixture.pttl(name) == -1, "\(name) still expires")
        }
        // The index stays persistent while a session without TTL may live in it.
        _ = try await fixture.store.save(Fixtures.key(agent, "later"), state: Fixtures.json("1"), options: .init(ttl: .seconds(5)))
        #expect(try await fixture.pttl(keys[3]) == -1)

        // A sliding read restarts the clock on every key.
        _ = try await fixture.store.save(key, state: Fixtures.json("3"), options: .init(ttl: .seconds(30), slidingTTL: true))
        // 5 s (not less): the key must still exist when the load runs on a busy machine.
        try await fixture.send("PEXPIRE", keys[1], "5000")
        _ = try await fixture.store.load(key)
        #expect(try await fixture.pttl(keys[1]) > 20_000, "a sliding load re-armed the messages key")
    }

    @Test func expiredSessionLeavesNothingBehindInRedis() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let mortal = Fixtures.key(agent, "mortal")
        _ = try await fixture.store.save(Fixtures.key(agent, "keeper"), state: Fixtures.json("{}"), options: .init())
        _ = try await fixture.store.save(mortal, state: Fixtures.json("{}"), options: .init(ttl: .seconds(1)))
        // The append sets the TTL too: on a busy machine it may run after the 1 s have passed, and then it creates
        // the session anew, which with the TTL kept would never expire (seen once in a CI run).
        _ = try await fixture.store.append(
            mortal, messages: [Fixtures.json("1")], keys: ["m1"], options: .init(ttl: .seconds(1)), idempotency: IdempotencyToken(key: "k", bodyDigest: "d"))

        let gone = try await Fixtures.eventually(within: .seconds(10)) { try await Fixtures.isGone(mortal, in: fixture.store) }
        #expect(gone, "a 1 s session was still loadable after 10 s")
        #expect(try await Fixtures.listAll(agent, in: fixture.store).map(\.sessionID) == ["keeper"])
        let keys = fixture.keys(mortal)
        #expect(try await fixture.send("EXISTS", keys[0], keys[1], keys[2], keys[4]).int == 0)
        #expect(try await fixture.send("ZSCORE", keys[3], mortal.sessionID).isNull, "the list pruned the index entry")
        #expect(fixture.pruned.value == 1)

        // An index whose only session expires goes with it.
        let lonely = Fixtures.key(Fixtures.agentID(), "only")
        _ = try await fixture.store.save(lonely, state: Fixtures.json("{}"), options: .init(ttl: .seconds(1)))
        let indexGone = try await Fixtures.eventually(within: .seconds(10)) { try await fixture.send("EXISTS", fixture.keys(lonely)[3]).int == 0 }
        #expect(indexGone)
    }

    @Test func listPrunesStaleIndexEntriesAndReportsThem() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        for index in 0..<10 {
            _ = try await fixture.store.save(Fixtures.key(agent, "s\(index)"), state: Fixtures.json("{}"), options: .init())
        }
        // Records vanish behind the store's back (as if expired): their entries are stale.
        for index in [1, 2, 3, 7] {
            try await fixture.send("DEL", fixture.recordKey(Fixtures.key(agent, "s\(index)")))
        }
        var seen: [String] = []
        var cursor: ListCursor?
        for _ in 0..<10 {
            let page = try await fixture.store.list(agentID: agent, limit: 2, cursor: cursor)
            seen += page.sessions.map(\.sessionID)
            cursor = page.nextCursor
            if cursor == nil { break }
        }
        #expect(Set(seen) == Set(["s0", "s4", "s5", "s6", "s8", "s9"]))
        #expect(seen.count == 6)
        #expect(fixture.pruned.value == 4)
        #expect(try await fixture.send("ZCARD", fixture.prefix + agent).int == 6)
        // Nothing left to prune: no more reports.
        _ = try await Fixtures.listAll(agent, in: fixture.store)
        #expect(fixture.pruned.value == 4)
    }

    /// With several index buckets, a bucket whose page turns out to hold dead entries (its second
    /// step leaves them out) holds the merged page back at its frontier: paging still meets every
    /// live session once, in list order, although pages come out short.
    @Test func bucketedListsPageThroughDeadEntriesWithoutSkippingOrRepeating() async throws {
        let pruned = PruneCounter()
        let layout = RedisKeyLayout.cluster(buckets: 4)
        let store = RedisStateStore(
            client: try await SharedRedisPool.pool(), keyPrefix: "test:\(UUID().uuidString):", layout: layout,
            checksDeclaredKeys: true, onIndexPruned: { pruned.add($0, $1) })
        try await store.loadScripts()
        let raw = try await RedisConnection.connect(to: try RedisURL(parsing: try await RedisServerProcess.shared().url))
        let agent = Fixtures.agentID()
        // Bucket 0's sessions are saved last, so they are the newest; its newest three vanish behind
        // the store's back, so the first page of bucket 0 is all dead while its fourth session is
        // newer than every session of the other buckets (a merge cut after three of theirs would
        // skip it). Every third session of the others vanishes too.
        let all = (0..<48).map { "s\($0)" }
        let first = all.filter { layout.bucket(of: $0) == 0 }
        let others = all.filter { layout.bucket(of: $0) != 0 }
        try #require(first.count >= 5 && others.count >= 9)
        let ids = others + first
        for id in ids {
            _ = try await store.save(Fixtures.key(agent, id), state: Fixtures.json("{}"), options: .init())
        }
        let dead = Set(first.suffix(3) + others.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
        for id in dead {
            try await raw.send(["DEL", "\(store.keyPrefix)\(layout.agentPart(agent, bucket: layout.bucket(of: id))):\(id)"])
        }
        var seen: [SessionMetadata] = []
        var cursor: ListCursor?
        for _ in 0..<100 {
            let page = try await store.list(agentID: agent, limit: 3, cursor: cursor, label: nil)
            #expect(page.sessions.count <= 3)
            seen += page.sessions
            cursor = page.nextCursor
            if cursor == nil { break }
        }
        #expect(cursor == nil)
        #expect(seen.map(\.sessionID).sorted() == ids.filter { !dead.contains($0) }.sorted())
        #expect(zip(seen, seen.dropFirst()).allSatisfy { RedisStateStore.listsBefore($0, $1) })
        #expect(pruned.value == dead.count)
    }

    @Test func listBreaksTiesBytewiseFromAnyCursor() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let ids = ["b", "a~", "a.", "a-", "a@", "aZ", "a0", "A", "Z9", "z", "a", "a_"]
        for id in ids {
            _ = try await fixture.store.save(Fixtures.key(agent, id), state: Fixtures.json("{}"), options: .init())
        }
        // Give every session one updatedAt, so the whole page is one tie group.
        for id in ids {
            try await fixture.send("HSET", fixture.recordKey(Fixtures.key(agent, id)), "u", "1000")
            try await fixture.send("ZADD", fixture.prefix + agent, "1000", id)
        }
        // ZREVRANGE order: IDs descending, byte by byte.
        let expected = ids.sorted { Array($1.utf8).lexicographicallyPrecedes(Array($0.utf8)) }
        var seen: [String] = []
        var cursor: ListCursor?
        for _ in 0..<20 {
            let page = try await fixture.store.list(agentID: agent, limit: 1, cursor: cursor)
            seen += page.sessions.map(\.sessionID)
            cursor = page.nextCursor
            if cursor == nil { break }
        }
        #expect(seen == expected)
        // A cursor at an ID that is not in the index starts right after where it would be.
        let page = try await fixture.store.list(agentID: agent, limit: 3, cursor: ListCursor(updatedAt: 1000, sessionID: "a1"))
        #expect(page.sessions.map(\.sessionID) == ["a0", "a.", "a-"])
    }

    @Test func oneMebibyteOfArbitraryBytesRoundTrips() async throws {
        let fixture = try await RedisFixture.make()
        let key = Fixtures.freshKey()
        // Every byte value, including NUL, invalid UTF-8 and Lua pattern characters.
        let state = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
        let saved = try await fixture.store.save(key, state: state, options: .init())
        #expect(saved.metadata.stateBytes == 1 << 20)
        let loaded = try await fixture.store.load(key)
        #expect(loaded.state == state)
        let message: [UInt8] = [0, 255, 0x3A, 0x25, 0x7C, 0xC3, 0x28, 10, 13]
        _ = try await fixture.store.append(key, messages: [message, state], options: .init(), idempotency: nil)
        let read = try await fixture.store.readMessages(key, limit: 2, after: 0)
        #expect(read.messages.map(\.data) == [message, state])
        #expect(try await fixture.store.popMessage(key, precondition: .none).message.data == state)
    }

    @Test func deleteAllWorksInBatchesAndLeavesNoKeys() async throws {
        let fixture = try await RedisFixture.make()
        let agent = Fixtures.agentID()
        let count = RedisStateStore.deleteAllBatchSize + 37
        for index in 0..<count {
            _ = try await fixture.store.append(Fixtures.key(agent, "s\(index)"), messages: [Fixtures.json("1")], options: .init(), idempotency: IdempotencyToken(key: "k", bodyDigest: "d"))
        }
        #expect(try await fixture.store.deleteAll(agentID: agent) == count)
        let left = try await fixture.send("KEYS", fixture.prefix + agent + "*").array
        #expect(left?.isEmpty == true)
    }

    @Test func idempotencyRecordsExpireAfterTheirLifetime() async throws {
        // A 3 s lifetime: the replay right after the first append stays inside it on a busy machine.
        let fixture = try await RedisFixture.make(configuration: .init(idempotencyTTLSeconds: 3))
        let key = Fixtures.freshKey()
        let token = IdempotencyToken(key: "k", bodyDigest: "d1")
        let first = try await fixture.store.append(key, messages: [Fixtures.json("1")], options: .init(), idempotency: token)
        #expect(try await fixture.store.append(key, messages: [Fixtures.json("1")], options: .init(), idempotency: token) == first)
        try await Task.sleep(for: .milliseconds(3_100))
        // The record no longer counts: the same key with another body is a new request.
        let later = try await fixture.store.append(key, messages: [Fixtures.json("2")], options: .init(), idempotency: IdempotencyToken(key: "k", bodyDigest: "d2"))
        #expect(later == AppendResult(version: 2, firstSeq: 2, lastSeq: 2, messageCount: 2))
    }

    /// 'mc' mirrors the log's size through every mutation, so a plain load reads a whole snapshot;
    /// a record without it (written before it existed) still loads, through the script.
    @Test func messageCountFieldFollowsTheLogAndOldRecordsStillLoad() async throws {
        let fixture = try await RedisFixture.make()
        let key = Fixtures.freshKey("mc")
        let record = fixture.recordKey(key)
        _ = try await fixture.store.append(key, messages: [Fixtures.json("1"), Fixtures.json("2"), Fixtures.json("3")], options: .init(), idempotency: nil)
        #expect(try await fixture.hash(record)["mc"] == "3")
        _ = try await fixture.store.popMessage(key, precondition: .none)
        #expect(try await fixture.hash(record)["mc"] == "2")
        _ = try await fixture.store.save(key, state: Fixtures.json("{}"), options: .init())
        #expect(try await fixture.hash(record)["mc"] == "2")
        _ = try await fixture.store.clearMessages(key, precondition: .none)
        #expect(try await fixture.hash(record)["mc"] == "0")
        _ = try await fixture.store.append(key, messages: [Fixtures.json("4")], options: .init(), idempotency: nil)
        #expect(try await fixture.store.load(key).metadata.messageCount == 1)

        try await fixture.send("HDEL", record, "mc")
        let legacy = try await fixture.store.load(key)
        #expect(legacy.metadata.messageCount == 1)
        #expect(legacy.state == Fixtures.json("{}"))
    }

    private func unpack(_ keys: [String]) -> (String, String, String, String) {
        (keys[0], keys[1], keys[2], keys[3])
    }
}
// MARK: - Fixture

/// A `RedisStateStore` with a known key prefix on the shared server, plus a raw connection to
/// inspect what it wrote.
struct RedisFixture {
    let store: RedisStateStore
    let prefix: String
    let raw: RedisConnection
    let pruned: PruneCounter

    /// A store with a fresh `test:<uuid>:` prefix and its scripts loaded.
    static func make(configuration: StoreConfiguration = .init()) async throws -> RedisFixture {
        let pruned = PruneCounter()
        let store = try await makeRedisStore(configuration: configuration, onIndexPruned: { pruned.add($0, $1) })
        let server = try await RedisServerProcess.shared()
        let raw = try await RedisConnection.connect(to: try RedisURL(parsing: server.url))
        return RedisFixture(store: store, prefix: store.keyPrefix, raw: raw, pruned: pruned)
    }

    /// `<prefix><agent>:<session>`.
    func recordKey(_ key: SessionKey) -> String {
        "\(prefix)\(key.agentID):\(key.sessionID)"
    }

    /// The six keys of a session: record, messages, idempotency, index, message keys, expiry set.
    func keys(_ key: SessionKey) -> [String] {
        let record = recordKey(key)
        return [record, record + ":messages", record + ":idem", prefix + key.agentID, record + ":keys", prefix + key.agentID + "::expiry"]
    }

    /// Sends a command on the raw connection.
    @discardableResult
    func send(_ arguments: String...) async throws -> RESPValue {
        try await raw.send(arguments)
    }

    /// `PTTL` of `key`: milliseconds left, -1 for no TTL, -2 when the key does not exist.
    func pttl(_ key: String) async throws -> Int64 {
        try #require(try await send("PTTL", key).int)
    }

    /// The hash at `key` as a dictionary of strings.
    func hash(_ key: String) async throws -> [String: String] {
        let flat = try await send("HGETALL", key).array ?? []
        var result: [String: String] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            result[flat[index].string ?? "?"] = flat[index + 1].string ?? "<binary>"
        }
        return result
    }
}

/// Counts what `onIndexPruned` reports, by trigger.
final class PruneCounter: Sendable {
    private let totals = Mutex([IndexPruneTrigger: Int]())

    /// Adds one report.
    func add(_ trigger: IndexPruneTrigger, _ count: Int) {
        totals.withLock { $0[trigger, default: 0] += count }
    }

    /// The sum of every report by lists so far.
    var value: Int { totals.withLock { $0[.list] ?? 0 } }

    /// The sum of every report by writes so far.
    var writes: Int { totals.withLock { $0[.write] ?? 0 } }
}
