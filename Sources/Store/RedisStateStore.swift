import RedisClient
import Synchronization

/// The production backend: sessions in Redis (standalone, 6.2 or later, or Valkey), shared by every
/// replica of the service. Nothing is cached in process; every call is one round trip, except the
/// load of a sliding-TTL session: its plain read finds the flag, then the script restarts the clock.
///
/// Every operation but one is one [`EVALSHA`](https://redis.io/docs/latest/commands/evalsha/) of a
/// Lua script (`RedisScripts`), so each is atomic; the exception is `load` of a session without a
/// sliding TTL, a read that needs no script: one plain
/// [`HMGET`](https://redis.io/docs/latest/commands/hmget/) of the record, an atomic snapshot.
/// In every script the precondition and idempotency checks, the write,
/// the version bump, the TTL on every key of the session, the index update and the index key's TTL
/// happen together or not at all. Scripts check everything before their first write. Time comes
/// from the server's [`TIME`](https://redis.io/docs/latest/commands/time/), so replicas agree.
///
/// ## Key layout
/// `<prefix>` defaults to `agentstate:`; agent and session IDs match
/// `^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$` and so never contain `:`, hence no key can collide.
///
/// | Key | Type | Content |
/// |---|---|---|
/// | `<prefix><agent>:<session>` | hash | the session record (fields below) |
/// | `<prefix><agent>:<session>:messages` | sorted set | the log: score = seq, member = `<seq>:<raw message bytes>`, or `<seq>#<key length>:<key><raw message bytes>` for a message with a key |
/// | `<prefix><agent>:<session>:keys` | hash | message keys: field = key, value = its message's seq |
/// | `<prefix><agent>:<session>:idem` | hash | idempotency records: field = `Idempotency-Key`, value = `<created ms>\|<version>\|<first seq>\|<last seq>\|<message count>\|<body digest>` |
/// | `<prefix><agent>` | sorted set | the agent's index: member = session ID, score = `updatedAt` ms |
/// | `<prefix><agent>::expiry` | sorted set | the index's expiry set: member = session ID, score = `expiresAt` ms, for sessions with a TTL only |
/// | `<prefix><agent>::ids` | sorted set | the index's ID set: member = session ID, score 0 (`ZRANGEBYLEX` for prefix lists) |
/// | `<prefix><agent>::label:<key>:<value>` | sorted set | one label's index, scored like the agent index |
/// | `<prefix><agent>::label-expiry:<key>:<value>` | sorted set | that label index's expiry set |
///
/// Record fields (integers as decimal strings, times in ms since the Unix epoch):
/// `v` version · `c` createdAt · `u` updatedAt · `e` expiresAt (absent: never expires) ·
/// `t` TTL seconds (absent: none) · `sl` sliding TTL (`1`/`0`) · `n` next message seq ·
/// `st` state bytes, verbatim (absent until a save sets it) · `mc` message count, kept equal to
/// `ZCARD` of the messages key by every mutation · `mb` message bytes, the sum of the stored
/// messages' lengths, kept by every script that adds or removes messages (never recomputed by a
/// scan; a record written before v1.1 counts from 0) · `ip` idempotency-hash size after its last
/// pruning (absent until then). `state_bytes` is
/// [`HSTRLEN`](https://redis.io/docs/latest/commands/hstrlen/) of `st`.
///
/// - **Messages:** seqs are never reused: `n` only grows, pop is
///   [`ZPOPMAX`](https://redis.io/docs/latest/commands/zpopmax/) and clear deletes the key. The most
///   recent N are ranks `-N..-1`; "after S" is a range by score `(S..+inf` with `LIMIT`, and
///   "before S" the same range backwards (`ZREVRANGEBYSCORE (S -inf LIMIT`), O(log n + N). Replace,
///   trim and delete-one are one script each; a message's key lives in its member and in the
///   keys hash, and every script that removes a message frees its key and subtracts its bytes.
/// - **Index order:** `ZREVRANGE` order, score (`updatedAt`) descending, ties by session ID
///   descending (members of equal score sort bytewise), which is exactly the list order. A page
///   starts from the cursor in O(log n) and costs O(page); `ZRANGEBYSCORE <index> <t> +inf` finds
///   the sessions updated since `t`.
/// - **Index hygiene** (`RedisScripts.index`): every mutation removes up to
///   `RedisScripts.prunePerWrite` entries whose session has expired (found through the expiry
///   set, whose scores every script keeps equal to the records' `e`); a list removes the stale
///   entries it passes, including those of records that vanished another way; both are reported
///   through `onIndexPruned` with their trigger.
/// - **TTL:** every write sets [`PEXPIREAT`](https://redis.io/docs/latest/commands/pexpireat/)
///   `expiresAt` on every existing key of the session (record, messages, idempotency, keys), or
///   [`PERSIST`](https://redis.io/docs/latest/commands/persist/) when it never expires, so they
///   expire together; a read of a sliding session does the same. A record whose `e` has passed is
///   treated as missing (and deleted) even in the millisecond before Redis drops it.
/// - **Index TTL:** the index and its expiry set share one TTL, recomputed in O(log n) by every
///   script that changes them: `PERSIST` while any session is persistent (the index has more
///   members than the expiry set), else the highest score of the expiry set, the longest-lived
///   session's `expiresAt`.
/// - **Idempotency records** live as long as their session (same TTL) and at most
///   `StoreConfiguration.idempotencyTTLSeconds`: an older record is ignored and overwritten, and
///   the hash is purged of such records whenever it has doubled in size since the last purge.
/// - **deleteAll** runs in batches of `deleteAllBatchSize` sessions, one script each, so no script
///   blocks the server for long; a session created concurrently may or may not be deleted.
/// - **Labels, IDs, leases:** record fields `lb` (labels, `<key>=<length>:<value>` per label),
///   `lh`/`la`/`le` (the lease's holder, acquired at, expires at) and `lt` (the fencing token);
///   every script that writes the session keeps the ID set and its labels' indexes in the same step.
/// - **Declared keys:** every script declares every key it touches (DESIGN §8). Keys a script can
///   only learn inside Redis (the label indexes of a record's labels, the sessions of a
///   delete-all batch) make it answer `NK` with their names before its first write, and `run`
///   runs it again with them added. A list runs two scripts (the page's IDs, then their records).
/// - **Cluster** (`RedisKeyLayout.cluster`): the ID set, the expiry set and the label indexes are
///   named after the index key, and each index bucket is hash-tagged together with its sessions,
///   so every key of a script shares its slot.
public final class RedisStateStore: StateStore {
    /// Sessions deleted per `deleteAll` script, bounding how long one script runs.
    static let deleteAllBatchSize = 500

    /// Where commands go: a `RedisConnectionPool` in production.
    let client: any RedisClient
    /// Prepended to every key, e.g. `agentstate:`.
    public let keyPrefix: String
    /// Limits and defaults applied to every write.
    public let configuration: StoreConfiguration
    /// Called with what removed stale index entries and how many (when above zero).
    let onIndexPruned: @Sendable (IndexPruneTrigger, Int) -> Void
    /// Replicas that must acknowledge every applied mutation (`--redis-wait-replicas`), or nil.
    let replicaWait: ReplicaWait?
    /// Why the store cannot take writes although Redis may answer (e.g. no primary confirmed), or nil.
    let readinessCheck: (@Sendable () async -> String?)?
    /// How keys are named: standalone, or hash-tagged buckets in cluster mode.
    public let layout: RedisKeyLayout
    /// Whether every script runs with each key it touches checked against its declared keys
    /// (`RedisScripts.checkingDeclaredKeys`); for tests.
    public let checksDeclaredKeys: Bool
    /// Script SHA-1s by script name, filled by `SCRIPT LOAD`.
    private let shas = Mutex<[String: [UInt8]]>([:])

    /// Creates a store over a Redis client. Nothing is sent until the first operation;
    /// call `loadScripts()` at startup to load the scripts (and to fail fast when Redis is down).
    /// - Parameters:
    ///   - client: where commands go, usually a `RedisConnectionPool`.
    ///   - keyPrefix: prepended to every key (`--key-prefix`).
    ///   - configuration: message cap, default TTL and idempotency-record lifetime.
    ///   - layout: the key layout; `.cluster(buckets:)` in cluster mode.
    ///   - replicaWait: when set (and `client` can `WAIT`), every mutation that applied is followed by
    ///     `WAIT` on its connection, and fewer acknowledgements than required throw
    ///     `StoreError.replicationIncomplete`.
    ///   - readinessCheck: asked first by `ping()`; a reason makes it throw `StoreError.unavailable`.
    ///   - checksDeclaredKeys: for tests, makes every script raise an error when it touches a key it
    ///     did not declare, instead of running the command.
    ///   - onIndexPruned: told how many stale index entries each list or write removed; feeds
    ///     `agentstate_index_pruned_total{trigger}`. Called on the caller's task; keep it cheap.
    public init(
        client: any RedisClient, keyPrefix: String = "agentstate:", configuration: StoreConfiguration = .init(),
        layout: RedisKeyLayout = .standalone, replicaWait: ReplicaWait? = nil,
        readinessCheck: (@Sendable () async -> String?)? = nil, checksDeclaredKeys: Bool = false,
        onIndexPruned: @escaping @Sendable (IndexPruneTrigger, Int) -> Void = { _, _ in }
    ) {
        self.client = client
        self.checksDeclaredKeys = checksDeclaredKeys
        self.layout = layout
        self.replicaWait = replicaWait
        self.readinessCheck = readinessCheck
        self.keyPrefix = keyPrefix
        self.configuration = configuration
        self.onIndexPruned = onIndexPruned
    }

    /// Loads every script with [`SCRIPT LOAD`](https://redis.io/docs/latest/commands/script-load/).
    /// Call it at startup; the store also loads a script lazily and sends it whole (`EVAL`) after `NOSCRIPT`
    /// (a server restart or `SCRIPT FLUSH`).
    /// - Throws: `StoreError.unavailable` when Redis cannot be reached, `StoreError.internalError`
    ///   when it refuses a script.
    public func loadScripts() async throws {
        for script in RedisScripts.all {
            _ = try await load(script)
        }
        if layout.hashTagged { try await checkBucketCount() }
    }

    /// Stores the cluster layout's bucket count on first use (`SET NX`) and refuses a different one
    /// later, which would move sessions to other buckets and orphan them.
    /// - Throws: `RedisKeyLayout.Mismatch` on a mismatch, else `StoreError`.
    func checkBucketCount() async throws {
        let wanted = String(layout.buckets)
        let stored: String?
        do {
            _ = try await client.send([Array("SET".utf8), bucketCountKey, Array(wanted.utf8), Array("NX".utf8)])
            stored = try await client.send([Array("GET".utf8), bucketCountKey]).string
        } catch {
            throw Self.storeError(error, operation: "index_buckets")
        }
        guard stored == wanted else {
            throw RedisKeyLayout.Mismatch(stored: stored ?? "no", configured: layout.buckets, key: String(decoding: bucketCountKey, as: UTF8.self))
        }
    }

    /// Sends [`PING`](https://redis.io/docs/latest/commands/ping/).
    /// - Throws: `StoreError.unavailable` when Redis does not answer.
    public func ping() async throws {
        if let readinessCheck, let reason = await readinessCheck() { throw StoreError.unavailable(reason: reason) }
        do {
            _ = try await client.send([Array("PING".utf8)])
        } catch {
            throw Self.storeError(error, operation: "ping")
        }
    }

    // MARK: - Keys

    /// `<prefix><agent part>:<session>`, the session record (`RedisKeyLayout`).
    ///
    /// Built as bytes, each part copied once from its UTF-8 storage (no interpolated `String` in between).
    func recordKey(_ key: SessionKey) -> [UInt8] {
        Self.utf8(keyPrefix, layout.agentPart(key.agentID, bucket: layout.bucket(of: key.sessionID)), then: UInt8(ascii: ":"), key.sessionID)
    }

    /// The UTF-8 of `first` and `second`, then of `separator` and `third` when there is a separator, in one
    /// array of exactly that size (``ByteArrays/make(capacity:_:)``; appending to a reserved array, or interpolating, cost more).
    static func utf8(_ first: String, _ second: String, then separator: UInt8? = nil, _ third: String = "") -> [UInt8] {
        var first = first, second = second, third = third
        return first.withUTF8 { a in
            second.withUTF8 { b in
                third.withUTF8 { c in
                    let count = a.count + b.count + (separator == nil ? 0 : 1 + c.count)
                    return ByteArrays.make(capacity: count) { buffer in
                        var offset = 0
                        func put(_ part: UnsafeBufferPointer<UInt8>) {
                            if let base = part.baseAddress, !part.isEmpty { (buffer.baseAddress! + offset).initialize(from: base, count: part.count) }
                            offset += part.count
                        }
                        put(a)
                        put(b)
                        if let separator {
                            buffer[offset] = separator
                            offset += 1
                            put(c)
                        }
                        return offset
                    }
                }
            }
        }
    }

    /// The seven keys every session script declares: record, messages, idempotency, index (of the
    /// session's bucket), message keys, the index's expiry set, its ID set. A script that finds it
    /// needs more (the label indexes of the record's labels) asks for them (`run`).
    func sessionKeys(_ key: SessionKey) -> [[UInt8]] {
        let (record, index) = sessionKeyBases(key)
        return Self.sessionKeyPlan.map { ($0.fromIndex ? index : record) + $0.suffix }
    }

    /// `sessionKeys` and the label index keys of the labels a write sets, if it sets any.
    func sessionKeys(_ key: SessionKey, setting options: WriteOptions) -> [[UInt8]] {
        var keys = sessionKeys(key)
        keys += labelKeys(key, setting: options)
        return keys
    }

    /// `sessionKeys(_:setting:)` as the parts a command writes each key from (``SessionKeyParts``).
    func sessionKeyParts(_ key: SessionKey, setting options: WriteOptions) -> SessionKeyParts {
        let (record, index) = sessionKeyBases(key)
        return SessionKeyParts(record: record, index: index, labelKeys: labelKeys(key, setting: options))
    }

    /// The session keys as their bases, written into a command without building each key first.
    struct SessionKeyParts {
        let record: [UInt8]
        let index: [UInt8]
        let labelKeys: [[UInt8]]

        var count: Int { RedisStateStore.sessionKeyPlan.count + labelKeys.count }

        func append(to command: inout RESPCommand.Writer) {
            for (fromIndex, suffix) in RedisStateStore.sessionKeyPlan { command.append(fromIndex ? index : record, suffix: suffix) }
            for labelKey in labelKeys { command.append(labelKey) }
        }
    }

    /// The record key and the index key (of the session's bucket) the session keys are built from.
    private func sessionKeyBases(_ key: SessionKey) -> (record: [UInt8], index: [UInt8]) {
        (recordKey(key), indexKey(key.agentID, bucket: layout.bucket(of: key.sessionID)))
    }

    /// The label index keys of the labels a write sets.
    private func labelKeys(_ key: SessionKey, setting options: WriteOptions) -> [[UInt8]] {
        guard let labels = options.labels else { return [] }
        let bucket = layout.bucket(of: key.sessionID)
        return labels.flatMap { name, value in labelKeys(key.agentID, LabelFilter(key: name, value: value), bucket: bucket) }
    }

    /// The session keys in declaration order: built from the index key (else the record key), and the suffix.
    fileprivate static let sessionKeyPlan: [(fromIndex: Bool, suffix: [UInt8])] = [
        (false, []), (false, Array(":messages".utf8)), (false, Array(":idem".utf8)), (true, []),
        (false, Array(":keys".utf8)), (true, expirySuffix), (true, idsSuffix),
    ]

    /// The keys of the list, batch-delete and check scripts: a bucket's index, its expiry set and its ID set.
    func indexKeys(_ agentID: String, bucket: Int = 0) -> [[UInt8]] {
        let index = indexKey(agentID, bucket: bucket)
        return [index, Self.expiryKey(index: index), Self.idsKey(index: index)]
    }

    /// `<index key>::ids`, the index's ID set (see `RedisScripts.index`); like `expiryKey`, it can
    /// equal no session key and shares the index's hash tag.
    static func idsKey(index: [UInt8]) -> [UInt8] {
        index + idsSuffix
    }

    private static let idsSuffix = Array("::ids".utf8)

    /// `<index key>::expiry`, the index's expiry set (see `RedisScripts.index`). No session or
    /// message key can equal it: after `<prefix><agent>:` a session key has a session ID, which
    /// never starts with `:`. Built from the index key, it shares the index's hash tag in cluster mode.
    static func expiryKey(index: [UInt8]) -> [UInt8] {
        index + expirySuffix
    }

    private static let expirySuffix = Array("::expiry".utf8)

    /// The keys of a label list in one bucket: the label's index and expiry set (see
    /// `RedisScripts.index`). Neither can equal a session key (a session ID never starts with `:`),
    /// and the `::label:` and `::label-expiry:` forms never equal each other or `::expiry`/`::ids`.
    func labelKeys(_ agentID: String, _ label: LabelFilter, bucket: Int = 0) -> [[UInt8]] {
        let index = indexKey(agentID, bucket: bucket)
        let suffix = Array("\(label.key):\(label.value)".utf8)
        return [index + Array("::label:".utf8) + suffix, index + Array("::label-expiry:".utf8) + suffix]
    }

    /// `<prefix><agent part>`, a bucket's index (the agent's index in the standalone layout).
    func indexKey(_ agentID: String, bucket: Int = 0) -> [UInt8] {
        Self.utf8(keyPrefix, layout.agentPart(agentID, bucket: bucket))
    }

    /// `<prefix><agent part>:`, what the list and deleteAll scripts prepend to a session ID.
    func sessionKeyBase(_ agentID: String, bucket: Int = 0) -> [UInt8] {
        Self.utf8(keyPrefix, layout.agentPart(agentID, bucket: bucket), then: UInt8(ascii: ":"))
    }

    /// `<prefix>_index_buckets`: the bucket count of the cluster layout, stored on first use (no
    /// agent key can equal it: agent IDs begin with a letter or digit, and cluster keys with `{`).
    var bucketCountKey: [UInt8] { Array("\(keyPrefix)_index_buckets".utf8) }

    // MARK: - Running scripts

    /// Runs `script` with one `EVALSHA`, loading it first if needed; on
    /// `NOSCRIPT` it is sent once as `EVAL` with its source, which also caches it on that node.
    /// - Returns: the script's reply.
    /// - Throws: `StoreError.unavailable` or `StoreError.internalError`, mapped by `storeError`.
    ///
    /// A script that finds it would touch a key not in `keys` answers `{'NK', key, …}` before its
    /// first write (DESIGN §8: every script declares every key it touches); it is then run again
    /// with those keys added, at most `declarationRounds` times in all.
    func run(_ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]]) async throws -> RESPValue {
        var keys = keys
        for _ in 0..<Self.declarationRounds {
            let reply = try await runOnce(script, keys: keys, arguments: arguments)
            guard let missing = Self.undeclaredKeys(reply) else { return reply }
            keys += missing
        }
        throw StoreError.unavailable(reason: "redis \(script.name): the keys to declare changed \(Self.declarationRounds) times in a row")
    }

    /// Runs of one script that `run` allows while the script asks for more keys: a batch delete
    /// asks twice (its sessions' keys, then their label indexes), a session script once.
    static let declarationRounds = 6

    /// The keys an `{'NK', key, …}` reply asks for, or nil for any other reply. Every script reply
    /// passes here, so the status is compared as bytes (Lua strings arrive as bulk strings), without
    /// decoding a `String`.
    static func undeclaredKeys(_ reply: RESPValue) -> [[UInt8]]? {
        guard case .array(let elements?) = reply, case .bulkString(let status?) = elements.first,
              status.count == 2, status[0] == UInt8(ascii: "N"), status[1] == UInt8(ascii: "K") else { return nil }
        return elements.dropFirst().compactMap(\.bytes)
    }

    private func runOnce(_ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]]) async throws -> RESPValue {
        do {
            var sha = shas.withLock { $0[script.name] }
            if sha == nil { sha = try await load(script) }
            let reply: RESPValue
            do {
                reply = try await evalsha(sha!, script: script, keys: keys, arguments: arguments)
            } catch let error as RedisError where error.code == "NOSCRIPT" {
                // The node that has the key lacks the script (a restart, SCRIPT FLUSH, or in cluster
                // mode a node that joined or is importing the slot). The script did not run, so it is
                // sent once more in full: EVAL runs it there and caches it there for later EVALSHAs.
                reply = try await evalsha(Array(source(of: script).utf8), script: script, keys: keys, arguments: arguments, command: "EVAL")
            }
            return try reportingPruned(reply, script: script)
        } catch {
            throw Self.storeError(error, operation: script.name)
        }
    }

    /// A session script's reply without its trailing pruned count, which goes to `onIndexPruned`.
    func reportingPruned(_ reply: RESPValue, script: RedisScript) throws -> RESPValue {
        guard script.reportsPruned else { return reply }
        guard var elements = reply.array, let pruned = elements.popLast()?.int else {
            throw StoreError.internalError(reason: "redis \(script.name): reply without a pruned count \(reply)")
        }
        if pruned > 0 { onIndexPruned(.write, Int(pruned)) }
        return .array(elements)
    }

    private func evalsha(
        _ sha: [UInt8], script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]], command name: String = "EVALSHA"
    ) async throws -> RESPValue {
        let command = Self.scriptCommand(Array(name.utf8), sha, keys: keys, arguments: arguments)
        guard waitsForReplicas(script), let replicaWait, let waiting = client as? any ReplicaAcknowledgingClient else {
            return try await client.send(command)
        }
        let (reply, acknowledged) = try await waiting.send(
            command, thenWaitFor: replicaWait.replicas, timeoutMilliseconds: replicaWait.timeoutMilliseconds)
        // Only a mutation that applied (or replayed one that did) needs its replicas; a refusal wrote nothing.
        let status = reply.array?.first?.string
        if (status == "OK" || status == "RP") && acknowledged < replicaWait.replicas {
            throw StoreError.replicationIncomplete(acknowledged: acknowledged, required: replicaWait.replicas)
        }
        return reply
    }

    /// `EVALSHA sha numkeys key… arg…` (or `EVAL source …`).
    static func scriptCommand(_ name: [UInt8], _ body: [UInt8], keys: [[UInt8]], arguments: [[UInt8]]) -> [[UInt8]] {
        var command: [[UInt8]] = [name, body, Array(String(keys.count).utf8)]
        command.reserveCapacity(command.count + keys.count + arguments.count)
        command += keys
        command += arguments
        return command
    }

    /// Whether a run of `script` is followed by `WAIT` (``ReplicaWait``).
    func waitsForReplicas(_ script: RedisScript) -> Bool {
        guard let replicaWait, replicaWait.replicas > 0, Self.mutatingScripts.contains(script.name) else { return false }
        return client is any ReplicaAcknowledgingClient
    }

    /// The SHA-1 of `script`, once loaded.
    func loadedSHA(_ script: RedisScript) -> [UInt8]? {
        shas.withLock { $0[script.name] }
    }

    /// The source this store runs for `script`.
    private func source(of script: RedisScript) -> String {
        guard checksDeclaredKeys else { return script.source }
        return RedisScripts.checkedSources[script.name] ?? RedisScripts.checkingDeclaredKeys(script.source)
    }

    /// `SCRIPT LOAD`s `script` and remembers its SHA-1.
    private func load(_ script: RedisScript) async throws -> [UInt8] {
        let reply: RESPValue
        do {
            reply = try await client.send([Array("SCRIPT".utf8), Array("LOAD".utf8), Array(source(of: script).utf8)])
        } catch {
            throw Self.storeError(error, operation: script.name)
        }
        guard let sha = reply.bytes, sha.count == 40 else {
            throw StoreError.internalError(reason: "SCRIPT LOAD of \(script.name) answered \(reply)")
        }
        shas.withLock { $0[script.name] = sha }
        return sha
    }

    /// The scripts that write; a lost reply to one of them leaves its outcome unknown.
    static let mutatingScripts: Set<String> = Set([
        RedisScript.save, .delete, .deleteAll, .append, .pop, .clear, .replace, .trim, .deleteMessage,
        .deleteByPrefix, .acquireLease, .releaseLease,
    ].map(\.name))

    /// Redis error codes that mean "try again later" rather than a bug.
    static let unavailableCodes: Set<String> = ["LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN"]

    /// Maps anything thrown while talking to Redis to a `StoreError`: client failures (connect,
    /// timeout, closed) and transient server states → `unavailable`; other error replies and
    /// anything unexpected → `internalError`.
    static func storeError(_ error: any Error, operation: String) -> StoreError {
        switch error {
        case let error as StoreError:
            return error
        case let error as RedisClientError where error.commandWasSent == true && mutatingScripts.contains(operation):
            return .outcomeUnknown(reason: "redis \(operation): \(error)")
        case let error as RedisClientError:
            return .unavailable(reason: "redis \(operation): \(error)")
        case let error as RedisError where error.code == "OOM":
            return .outOfMemory
        case let error as RedisError where error.message.contains("Script attempted to access"):
            // Cluster mode, a slot migrating under a script that touched a key it did not declare.
            // Every script declares its keys, so this is a bug if it happens; a mutation may then
            // have written part of itself.
            return mutatingScripts.contains(operation)
                ? .outcomeUnknown(reason: "redis \(operation): \(error.message)") : .unavailable(reason: "redis \(operation): \(error.message)")
        case let error as RedisError where unavailableCodes.contains(error.code):
            return .unavailable(reason: "redis \(operation): \(error.message)")
        case let error as RedisError:
            return .internalError(reason: "redis \(operation): \(error.message)")
        default:
            return .internalError(reason: "redis \(operation): \(error)")
        }
    }
}

/// `--redis-wait-replicas` and `--redis-wait-timeout-ms`: how many replicas must acknowledge every
/// applied mutation, and how long `WAIT` waits for them.
public struct ReplicaWait: Sendable, Equatable {
    public var replicas: Int
    public var timeoutMilliseconds: Int

    public init(replicas: Int, timeoutMilliseconds: Int) {
        self.replicas = replicas
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}
