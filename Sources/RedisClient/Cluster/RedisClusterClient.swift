import Synchronization

/// Receives the cluster client's events, for metrics and logs.
public protocol RedisClusterObserver: Sendable {
    /// A command was redirected (`kind` is `moved` or `ask`): counter `agentstate_redis_redirects_total{kind}`.
    func redirected(_ kind: ClusterRedirect.Kind)
    /// The slot map was refreshed; `primaries` is the number of distinct primaries, `uncovered` the slots without one.
    func slotMapRefreshed(primaries: Int, uncovered: Int)
}

/// A Redis Cluster client: routes each command to the primary of its key's slot, over one
/// ``RedisConnectionPool`` per primary, and follows the cluster's redirections (DESIGN §8).
///
/// - `-MOVED`: the slot is recorded at once for the named node, the command is retried there, and the
///   whole map is refreshed in the background (one refresh at a time, at most one per cooldown).
/// - `-ASK`: `ASKING` plus the command go once to the named node, on a connection of their own so
///   that nothing can come between them; the map is not touched.
/// - `-TRYAGAIN`, `-CLUSTERDOWN`, `-LOADING`: at most ``Configuration/maxRetries`` retries with backoff
///   from 50 ms to 500 ms, then the error is thrown.
/// - A command that may have run (its connection broke after it was written) is never resent: the
///   ``RedisClientError`` is thrown with ``RedisClientError/commandWasSent`` true. One that certainly
///   never reached a node (no connection) is retried with backoff after a map refresh.
///
/// The key of a command is its first key: the first argument after `EVALSHA`/`EVAL sha numkeys` when
/// `numkeys > 0`, else the first argument after the command name. Commands without a key go to any
/// primary; `SCRIPT LOAD` goes to every primary, so `EVALSHA` works wherever its key lives.
public final class RedisClusterClient: RedisClient, Sendable {
    /// The seed nodes, the per-node pool settings and the retry policy.
    public struct Configuration: Sendable {
        /// Where to ask for the slot map first.
        public var seeds: [RedisEndpoint]
        /// The settings of each node's pool; its URL's scheme, credentials and database apply to
        /// every node, and its host and port are replaced by the node's.
        public var pool: RedisConnectionPool.Configuration
        /// Retries after `-TRYAGAIN`, `-CLUSTERDOWN`, `-LOADING` or an unreachable node (DESIGN §8: 5).
        public var maxRetries = 5
        /// Redirections followed for one command before giving up.
        public var maxRedirects = 5
        /// The shortest time between two slot-map refreshes.
        public var refreshCooldown: Duration = .milliseconds(200)
        /// The first retry's backoff; it doubles up to ``maxBackoff``.
        public var baseBackoff: Duration = .milliseconds(50)
        /// The longest backoff between retries.
        public var maxBackoff: Duration = .milliseconds(500)

        public init(seeds: [RedisEndpoint], pool: RedisConnectionPool.Configuration) {
            self.seeds = seeds
            self.pool = pool
        }
    }

    private struct State {
        var map = ClusterSlotMap()
        var hasMap = false
        var pools: [RedisEndpoint: RedisConnectionPool] = [:]
        var refreshing: Task<Void, Never>?
        var lastRefresh: ContinuousClock.Instant?
        var lastError: String?
        var closed = false
    }

    public let configuration: Configuration
    private let observer: (any RedisClusterObserver)?
    private let poolObserver: (any RedisClientObserver)?
    private let state = Mutex(State())

    /// Creates the client. Nothing connects until ``refreshSlotMap()`` or the first command.
    public init(
        configuration: Configuration, observer: (any RedisClusterObserver)? = nil,
        poolObserver: (any RedisClientObserver)? = nil
    ) {
        self.configuration = configuration
        self.observer = observer
        self.poolObserver = poolObserver
    }

    // MARK: - Commands

    public func send(_ arguments: [[UInt8]]) async throws -> RESPValue {
        if Self.isScriptLoad(arguments) { return try await sendToEveryPrimary(arguments) }
        let slot = Self.key(of: arguments).map { HashSlot(key: $0) }
        var redirect: ClusterRedirect?
        var redirects = 0
        var retries = 0
        while true {
            let node: RedisEndpoint
            if let redirect {
                node = RedisEndpoint(host: redirect.host.isEmpty ? configuration.seeds[0].host : redirect.host, port: redirect.port)
            } else {
                node = try await primary(for: slot)
            }
            do {
                if let redirect, redirect.kind == .ask {
                    return try await sendAsking(arguments, to: node)
                }
                return try await pool(for: node).send(arguments)
            } catch let error as RedisError {
                if let found = ClusterRedirect(errorMessage: error.message), redirects < configuration.maxRedirects {
                    redirects += 1
                    observer?.redirected(found.kind)
                    if found.kind == .moved {
                        let target = RedisEndpoint(host: found.host.isEmpty ? node.host : found.host, port: found.port)
                        state.withLock { $0.map.assign(found.slot, to: target) }
                        scheduleRefresh()
                    }
                    redirect = found
                    continue
                }
                guard Self.retryableCodes.contains(error.code), retries < configuration.maxRetries else { throw error }
                if error.code == "CLUSTERDOWN" { scheduleRefresh() }
            } catch let error as RedisClientError {
                // Never resend what may have run; a node that could not be reached got nothing.
                guard error.commandWasSent != true, error.code != .poolClosed, error.isConnectivity,
                      retries < configuration.maxRetries else { throw error }
                scheduleRefresh()
                redirect = nil
            }
            try await Task.sleep(for: backoff(retries))
            retries += 1
        }
    }

    /// Sends `arguments` to every primary in the map and returns the first reply (all must succeed).
    public func sendToEveryPrimary(_ arguments: [[UInt8]]) async throws -> RESPValue {
        if !state.withLock({ $0.hasMap }) { try await refreshSlotMap() }
        let primaries = state.withLock { $0.map.primaries }
        guard !primaries.isEmpty else {
            throw RedisClientError(.connectionFailed, "the cluster's slot map has no primary").sent(false)
        }
        var first: RESPValue?
        for node in primaries {
            let reply = try await pool(for: node).send(arguments)
            if first == nil { first = reply }
        }
        return first!
    }

    /// Why the cluster cannot serve every slot right now, or `nil` when every slot has a primary and
    /// every primary answers `PING` (for `/readyz`).
    public func unavailableReason() async -> String? {
        do {
            try await refreshSlotMap()
        } catch {
            return "cannot read the cluster's slot map: \(error)"
        }
        let (map, lastError) = state.withLock { ($0.map, $0.lastError) }
        if !map.isComplete {
            return "\(map.uncoveredSlotCount) of \(HashSlot.count) slots have no primary" + (lastError.map { " (\($0))" } ?? "")
        }
        for node in map.primaries {
            do {
                _ = try await pool(for: node).send([Array("PING".utf8)])
            } catch {
                return "primary \(node) does not answer: \(error)"
            }
        }
        return nil
    }

    /// The current slot map (for tests and diagnostics).
    public var slotMap: ClusterSlotMap { state.withLock { $0.map } }

    /// Closes every node's pool; later commands fail.
    public func close() async {
        let (pools, refresh) = state.withLock { state in
            state.closed = true
            defer { state.pools = [:] }
            return (Array(state.pools.values), state.refreshing)
        }
        refresh?.cancel()
        for pool in pools { await pool.close() }
    }

    // MARK: - Slot map

    /// Reads the slot map from the first node that answers (the known primaries, then the seeds):
    /// `CLUSTER SHARDS`, or `CLUSTER SLOTS` on servers older than Redis 7. Pools of nodes that are no
    /// longer primaries are closed.
    /// - Throws: ``RedisClientError`` when no node answers with a usable map.
    public func refreshSlotMap() async throws {
        let candidates = state.withLock { $0.map.primaries } + configuration.seeds
        var failures: [String] = []
        var seen = Set<RedisEndpoint>()
        for node in candidates where seen.insert(node).inserted {
            do {
                let map = try await readSlotMap(from: node)
                let stale: [RedisConnectionPool] = state.withLock { state in
                    state.map = map
                    state.hasMap = true
                    state.lastError = nil
                    let keep = Set(map.primaries)
                    let gone = state.pools.filter { !keep.contains($0.key) }
                    for node in gone.keys { state.pools[node] = nil }
                    return Array(gone.values)
                }
                observer?.slotMapRefreshed(primaries: map.primaries.count, uncovered: map.uncoveredSlotCount)
                for pool in stale { Task { await pool.close() } }
                return
            } catch {
                failures.append("\(node): \(error)")
            }
        }
        let message = "no cluster node answered CLUSTER SHARDS or CLUSTER SLOTS: " + failures.joined(separator: "; ")
        state.withLock { $0.lastError = message }
        throw RedisClientError(.connectionFailed, message).sent(false)
    }

    private func readSlotMap(from node: RedisEndpoint) async throws -> ClusterSlotMap {
        let pool = pool(for: node)
        let tls = configuration.pool.url.scheme == .rediss
        do {
            let reply = try await pool.send([Array("CLUSTER".utf8), Array("SHARDS".utf8)])
            if let map = ClusterSlotMap(shardsReply: reply, defaultHost: node.host, tls: tls) { return map }
        } catch let error as RedisError where error.code == "ERR" {
            // Redis 6.2 has no CLUSTER SHARDS.
        }
        let reply = try await pool.send([Array("CLUSTER".utf8), Array("SLOTS".utf8)])
        guard let map = ClusterSlotMap(slotsReply: reply, defaultHost: node.host) else {
            throw RedisClientError(.protocolViolation, "unexpected CLUSTER SLOTS reply from \(node)")
        }
        return map
    }

    /// Starts a background refresh unless one is running or the last one was under a cooldown ago.
    private func scheduleRefresh() {
        let now = ContinuousClock.now
        state.withLock { current in
            guard !current.closed, current.refreshing == nil else { return }
            if let last = current.lastRefresh, now - last < configuration.refreshCooldown { return }
            current.lastRefresh = now
            current.refreshing = Task { [self] in
                try? await refreshSlotMap()
                state.withLock { $0.refreshing = nil }
            }
        }
    }

    private func primary(for slot: HashSlot?) async throws -> RedisEndpoint {
        if !state.withLock({ $0.hasMap }) { try await refreshSlotMap() }
        let node: RedisEndpoint? = state.withLock { state in
            if let slot { return state.map.primary(for: slot) }
            return state.map.primaries.first
        }
        guard let node else {
            scheduleRefresh()
            throw RedisClientError(.connectionFailed, "no cluster primary serves slot \(slot.map(String.init(describing:)) ?? "any")").sent(false)
        }
        return node
    }

    private func pool(for node: RedisEndpoint) -> RedisConnectionPool {
        state.withLock { state in
            if let pool = state.pools[node] { return pool }
            var settings = configuration.pool
            settings.url.host = node.host
            settings.url.port = node.port
            let pool = RedisConnectionPool(configuration: settings, observer: poolObserver)
            state.pools[node] = pool
            return pool
        }
    }

    /// `ASKING` then the command, on a connection of their own (rare: only while a slot migrates).
    private func sendAsking(_ arguments: [[UInt8]], to node: RedisEndpoint) async throws -> RESPValue {
        var settings = RedisConnection.Configuration(url: configuration.pool.url)
        settings.url.host = node.host
        settings.url.port = node.port
        settings.connectTimeout = configuration.pool.connectTimeout
        settings.commandTimeout = configuration.pool.commandTimeout
        settings.parser = configuration.pool.parser
        settings.tls = configuration.pool.tls
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(configuration: settings)
        } catch {
            throw error.sent(false)
        }
        defer { connection.close() }
        _ = try await connection.send([Array("ASKING".utf8)])
        return try await connection.send(arguments)
    }

    private func backoff(_ retry: Int) -> Duration {
        let scaled = configuration.baseBackoff * (1 << min(retry, 10))
        return min(scaled, configuration.maxBackoff)
    }

    private static let retryableCodes: Set<String> = ["TRYAGAIN", "CLUSTERDOWN", "LOADING"]

    // MARK: - Keys

    /// The first key of a command, or `nil` when it has none. Compares the command name without
    /// building a `String` (this runs for every command).
    static func key(of arguments: [[UInt8]]) -> [UInt8]? {
        guard let name = arguments.first else { return nil }
        if scriptCommands.contains(where: { equalsIgnoringCase(name, $0) }) {
            guard arguments.count > 3, let count = Int(String(decoding: arguments[2], as: UTF8.self)), count > 0 else { return nil }
            return arguments[3]
        }
        if keylessCommands.contains(where: { equalsIgnoringCase(name, $0) }) { return nil }
        return arguments.count > 1 ? arguments[1] : nil
    }

    private static let scriptCommands: [[UInt8]] = ["EVALSHA", "EVAL", "EVALSHA_RO", "EVAL_RO", "FCALL", "FCALL_RO"].map { Array($0.utf8) }
    private static let keylessCommands: [[UInt8]] = [
        "PING", "TIME", "INFO", "SCRIPT", "CLUSTER", "DBSIZE", "FLUSHALL", "FLUSHDB", "SCAN", "WAIT", "ROLE", "CONFIG", "CLIENT",
    ].map { Array($0.utf8) }

    /// Whether `bytes` equals the upper-case ASCII `word`, ignoring ASCII case.
    static func equalsIgnoringCase(_ bytes: [UInt8], _ word: [UInt8]) -> Bool {
        guard bytes.count == word.count else { return false }
        for (byte, upper) in zip(bytes, word) where byte != upper {
            guard byte >= 0x61, byte <= 0x7A, byte - 0x20 == upper else { return false }
        }
        return true
    }

    private static func isScriptLoad(_ arguments: [[UInt8]]) -> Bool {
        arguments.count >= 2 && equalsIgnoringCase(arguments[0], script) && equalsIgnoringCase(arguments[1], load)
    }

    private static let script = Array("SCRIPT".utf8)
    private static let load = Array("LOAD".utf8)
}
