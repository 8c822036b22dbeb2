import Synchronization

/// A fixed number of pipelined ``RedisConnection``s that replace themselves when they break: what the app uses.
///
/// Each slot is owned by a background task that connects, waits until its connection closes, then reconnects
/// with exponential backoff and jitter (``Configuration/reconnectBaseDelay`` to ``Configuration/reconnectMaxDelay``).
/// Commands go to the connected slots round-robin. While no connection is up, a command waits for a connect
/// attempt already in progress (bounded by the connect timeout) and otherwise fails at once with
/// ``RedisClientError/Code/connectionFailed``: nothing is queued indefinitely. A command is never retried,
/// because it may have run before the connection broke. Call ``close()`` when done; the pool's
/// background tasks keep it alive until then.
///
/// With an ``Configuration/endpointProvider`` (Sentinel), every connect attempt first asks the provider
/// where to go and lets it confirm the new connection. A command is then retried (at most twice) only when it
/// certainly did not run: it was never written whole, or the reply was `-READONLY`, `-LOADING` or
/// `-MASTERDOWN`, after which the provider discovers again and the pool drops its connections to that server.
public final class RedisConnectionPool: RedisClient, Sendable {
    private typealias Waiter = CheckedContinuation<Result<Checkout, RedisClientError>, Never>

    /// A connection handed to a command, and the server it goes to (nil without an endpoint provider).
    private struct Checkout {
        let connection: RedisConnection
        let endpoint: RedisEndpoint?
    }

    private struct Slot {
        var connection: RedisConnection?
        var connecting = false
        var endpoint: RedisEndpoint?
        /// The reactor the slot's connections move onto (``attach(reactors:)``), if any.
        var reactor: (any IOReactor)?
    }

    private struct State {
        var slots: [Slot]
        /// Round-robin positions within the write lane and the read lane.
        var next = 0
        var nextRead = 0
        var closed = false
        var tasks: [Task<Void, Never>] = []
        var waiters: [Waiter] = []
        var lastError: RedisClientError?
        var reported = (connected: -1, connecting: -1)
        /// Whether some slot has a reactor (then a command prefers its own reactor's connection).
        var hasReactors = false
    }

    /// The configuration the pool was created with.
    public let configuration: Configuration
    private let observer: (any RedisClientObserver)?
    private let state: Mutex<State>

    /// Creates the pool and starts connecting every slot in the background.
    /// - Parameters:
    ///   - configuration: The server, pool size, timeouts and backoff.
    ///   - observer: Receives metrics callbacks, if given.
    public init(configuration: Configuration, observer: (any RedisClientObserver)? = nil) {
        self.configuration = configuration
        self.observer = observer
        let count = Swift.max(1, configuration.connectionCount) + Swift.max(0, configuration.readConnectionCount)
        // Slots start out connecting, so commands sent right away wait for the first attempts.
        self.state = Mutex(State(slots: Array(repeating: Slot(connection: nil, connecting: true), count: count)))
        let tasks = (0..<count).map { index in
            Task { [self] in await self.runSlot(index) }
        }
        state.withLock { $0.tasks = tasks }
        configuration.endpointProvider?.onChange { [weak self] endpoint in
            self?.dropConnections { $0 != endpoint }
        }
    }

    /// Sends one command on one of the pool's connections and returns its reply.
    /// - Parameter arguments: The command name and its arguments, each binary-safe.
    /// - Returns: The reply.
    /// - Throws: ``RedisError`` for an error reply; ``RedisClientError`` when no connection is available,
    ///   the connection breaks, the command times out, or the pool is closed.
    public func send(_ arguments: [[UInt8]]) async throws -> RESPValue {
        try await send(arguments, lane: .write)
    }

    /// Sends one read-only command on a read connection (``Configuration/readConnectionCount``), or on
    /// any connection when there is none up.
    /// - Parameter arguments: The command name and its arguments, each binary-safe.
    /// - Returns: The reply.
    /// - Throws: As ``send(_:)``.
    public func sendRead(_ arguments: [[UInt8]]) async throws -> RESPValue {
        try await send(arguments, lane: .read)
    }

    /// Which slots a command prefers: the first `connectionCount` slots write, the rest read.
    private enum Lane {
        case write, read
    }

    private func send(_ arguments: [[UInt8]], lane: Lane) async throws -> RESPValue {
        try await send(arguments, lane: lane, then: nil).reply
    }

    /// Sends a command and, when it succeeds, `WAIT replicas timeout` on the same connection.
    /// - Parameters:
    ///   - arguments: The command (a mutation).
    ///   - replicas: How many replicas must acknowledge it.
    ///   - timeoutMilliseconds: `WAIT`'s timeout.
    /// - Returns: The command's reply, and the number of replicas that acknowledged it (0 when `WAIT`
    ///   itself failed: the command ran, but its replication is unknown).
    /// - Throws: As ``send(_:)``, for the command.
    public func send(_ arguments: [[UInt8]], thenWaitFor replicas: Int, timeoutMilliseconds: Int) async throws -> (reply: RESPValue, acknowledged: Int) {
        let wait = [Array("WAIT".utf8), Array(String(replicas).utf8), Array(String(timeoutMilliseconds).utf8)]
        let (reply, waited) = try await send(arguments, lane: .write, then: wait)
        var acknowledged = 0
        if case .integer(let count)? = waited { acknowledged = Int(count) }
        return (reply, acknowledged)
    }

    /// Error codes that mean the server is not (or not yet) a writable primary and did not run the command.
    static let redirectCodes: Set<String> = ["READONLY", "LOADING", "MASTERDOWN"]
    /// Attempts per command when an endpoint provider can aim a retry at another server.
    static let maxAttempts = 3

    private func send(
        _ arguments: [[UInt8]], lane: Lane, then follow: [[UInt8]]?, attempt first: Int = 1, start: ContinuousClock.Instant = .now
    ) async throws -> (reply: RESPValue, follow: RESPValue?) {
        var attempt = first
        while true {
            do {
                let checkout = try await checkout(lane).get()
                do {
                    let reply = try await checkout.connection.send(arguments)
                    var followed: RESPValue?
                    if let follow { followed = try? await checkout.connection.send(follow) }
                    observer?.commandCompleted(succeeded: true, durationSeconds: Self.seconds(since: start))
                    return (reply, followed)
                } catch {
                    guard retries(after: error, on: checkout, attempt: attempt) else { throw error }
                }
            } catch {
                observer?.commandCompleted(succeeded: false, durationSeconds: Self.seconds(since: start))
                throw error
            }
            try? await Task.sleep(for: Self.retryDelay(after: attempt))
            attempt += 1
        }
    }

    /// ``send(_:)`` or ``sendRead(_:)`` without a task when a connection is up: the command goes out at once
    /// and `reply` runs on the thread that reads its reply (a reactor's, for a connection on the caller's
    /// event loop), with the reply in place. Waiting for a connect attempt, and a retry, happen in a task.
    /// - Parameters:
    ///   - command: The encoded command.
    ///   - read: Whether the command only reads (it then prefers a read connection).
    ///   - reply: Gets the reply or the error, exactly once.
    public func send(_ command: RESPCommand, read: Bool, reply: @escaping @Sendable (Result<RESPReply, any Error>) -> Void) {
        let lane: Lane = read ? .read : .write
        let start = ContinuousClock.now
        switch state.withLock({ pick(lane, &$0) }) {
        case .success(let checkout)?:
            checkout.connection.send(command) { [self] result in
                guard case .failure(let error) = result else {
                    observer?.commandCompleted(succeeded: true, durationSeconds: Self.seconds(since: start))
                    return reply(result)
                }
                guard retries(after: error, on: checkout, attempt: 1) else {
                    observer?.commandCompleted(succeeded: false, durationSeconds: Self.seconds(since: start))
                    return reply(result)
                }
                Task {
                    try? await Task.sleep(for: Self.retryDelay(after: 1))
                    await Self.deliver(to: reply) { try await self.send(command.arguments, lane: lane, then: nil, attempt: 2, start: start).reply }
                }
            }
        case .failure(let error)?:
            observer?.commandCompleted(succeeded: false, durationSeconds: Self.seconds(since: start))
            reply(.failure(error))
        case nil:
            Task { await Self.deliver(to: reply) { try await self.send(command.arguments, lane: lane, then: nil, start: start).reply } }
        }
    }

    /// True: a command goes out at once when a connection is up.
    public var sendsWithoutTask: Bool { true }

    /// Whether a command that failed with `error` on `checkout` certainly did not run and may go again, as attempt
    /// `attempt + 1` of ``maxAttempts``, which needs an endpoint provider to aim it elsewhere. A refusal from a server
    /// that is no writable primary also has the provider discover again, and drops the connections to that server.
    private func retries(after error: any Error, on checkout: Checkout, attempt: Int) -> Bool {
        switch error {
        case let error as RedisError where Self.redirectCodes.contains(error.code):
            guard let provider = configuration.endpointProvider, let endpoint = checkout.endpoint else { return false }
            provider.invalidate(endpoint, reason: "-\(error.code) from \(endpoint)")
            dropConnections { $0 == endpoint }
            return attempt < Self.maxAttempts
        case let error as RedisClientError where error.commandWasSent != true:
            // Never written whole, so it did not run: safe to send again on another connection.
            return configuration.endpointProvider != nil && attempt < Self.maxAttempts
        default:
            return false
        }
    }

    /// The pause before a retry, growing with the attempts.
    private static func retryDelay(after attempt: Int) -> Duration {
        .milliseconds(50 * attempt)
    }

    /// Gives `reply` the outcome of `body`.
    private static func deliver(to reply: (Result<RESPReply, any Error>) -> Void, _ body: () async throws -> RESPValue) async {
        do {
            RESPReply.with(try await body()) { reply(.success($0)) }
        } catch {
            reply(.failure(error))
        }
    }

    /// Closes the connections to every server `matches` selects, and marks their slots connecting so
    /// that commands wait for the replacements rather than fail.
    private func dropConnections(where matches: (RedisEndpoint) -> Bool) {
        let dropped: [RedisConnection] = state.withLock { state in
            guard !state.closed else { return [] }
            var dropped: [RedisConnection] = []
            for index in state.slots.indices {
                guard let connection = state.slots[index].connection, let endpoint = state.slots[index].endpoint,
                      matches(endpoint) else { continue }
                dropped.append(connection)
                state.slots[index] = Slot(connection: nil, connecting: true, reactor: state.slots[index].reactor)
            }
            if !dropped.isEmpty { report(&state) }
            return dropped
        }
        for connection in dropped { connection.close() }
    }

    /// Closes the pool: waiting and later commands fail with ``RedisClientError/Code/poolClosed``, connections
    /// close, and the background tasks end (within the connect timeout, for an attempt in progress).
    public func close() async {
        let (tasks, connections, waiters) = state.withLock { state in
            state.closed = true
            let connections = state.slots.compactMap(\.connection)
            for index in state.slots.indices { state.slots[index] = Slot() }
            let waiters = state.waiters
            state.waiters = []
            report(&state)
            return (state.tasks, connections, waiters)
        }
        let error = RedisClientError(.poolClosed, "the Redis connection pool is closed")
        for waiter in waiters { waiter.resume(returning: .failure(error)) }
        for connection in connections { connection.close() }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    /// The number of connections currently up, for diagnostics.
    public var connectedCount: Int {
        state.withLock { $0.slots.lazy.filter { $0.connection != nil }.count }
    }

    /// Moves the pool's plain-TCP connections onto `reactors` (the HTTP server's event loops), now and
    /// whenever a slot reconnects: each lane's slots are dealt out round-robin, and a command sent on a
    /// reactor's thread prefers a connection of that reactor, so its reply is read and its caller resumed on
    /// the same thread. TLS connections stay on their I/O threads.
    public func attach(reactors: [any IOReactor]) {
        guard !reactors.isEmpty else { return }
        let moves: [(RedisConnection, any IOReactor)] = state.withLock { state in
            guard !state.closed else { return [] }
            let writers = Swift.max(1, configuration.connectionCount)
            var moves: [(RedisConnection, any IOReactor)] = []
            for index in state.slots.indices {
                let reactor = reactors[(index < writers ? index : index - writers) % reactors.count]
                state.slots[index].reactor = reactor
                if let connection = state.slots[index].connection { moves.append((connection, reactor)) }
            }
            state.hasReactors = true
            return moves
        }
        for (connection, reactor) in moves { connection.handOver(to: reactor) }
    }

    // MARK: - Checkout

    /// Picks a live connection round-robin, waits for a connect attempt in progress, or fails at once.
    ///
    /// The common case, a connection is up, takes the lock once and no continuation.
    private func checkout(_ lane: Lane) async -> Result<Checkout, RedisClientError> {
        if let immediate = state.withLock({ pick(lane, &$0) }) { return immediate }
        return await withCheckedContinuation { (waiter: Waiter) in
            let immediate: Result<Checkout, RedisClientError>? = state.withLock { state in
                if let result = pick(lane, &state) { return result }
                state.waiters.append(waiter)
                return nil
            }
            if let immediate { waiter.resume(returning: immediate) }
        }
    }

    /// A live connection of the lane's own slots first, round-robin, then any connected slot; a failure when
    /// the pool is closed or nothing is connecting. Nil when the caller must wait for a connect attempt.
    private func pick(_ lane: Lane, _ state: inout State) -> Result<Checkout, RedisClientError>? {
        if state.closed {
            return .failure(RedisClientError(.poolClosed, "the Redis connection pool is closed"))
        }
        let writers = Swift.max(1, configuration.connectionCount)
        let readers = state.slots.count - writers
        let own = lane == .read && readers > 0 ? writers..<state.slots.count : 0..<writers
        let start = lane == .read && readers > 0 ? state.nextRead : state.next
        if state.hasReactors {
            for index in own {
                if let reactor = state.slots[index].reactor, reactor.isCurrent,
                   let connection = state.slots[index].connection, !connection.isClosed {
                    return .success(Checkout(connection: connection, endpoint: state.slots[index].endpoint))
                }
            }
        }
        for offset in 0..<own.count {
            let index = own.lowerBound + (start + offset) % own.count
            if let connection = state.slots[index].connection, !connection.isClosed {
                if lane == .read && readers > 0 {
                    state.nextRead = (index - own.lowerBound + 1) % own.count
                } else {
                    state.next = (index + 1) % own.count
                }
                return .success(Checkout(connection: connection, endpoint: state.slots[index].endpoint))
            }
        }
        for slot in state.slots {
            if let connection = slot.connection, !connection.isClosed {
                return .success(Checkout(connection: connection, endpoint: slot.endpoint))
            }
        }
        if state.slots.contains(where: \.connecting) { return nil }
        return .failure(noConnectionError(state.lastError))
    }

    private func noConnectionError(_ lastError: RedisClientError?) -> RedisClientError {
        var message = "no connection to \(configuration.url) is available; reconnecting"
        if let lastError { message += " (last error: \(lastError.message))" }
        return RedisClientError(lastError?.code == .authenticationFailed ? .authenticationFailed : .connectionFailed,
                                message, errno: lastError?.errno)
    }

    // MARK: - Slots

    /// Keeps slot `index` connected until the pool closes.
    private func runSlot(_ index: Int) async {
        var failures = 0
        var hadConnection = false
        while beginConnecting(index) {
            do {
                let (connection, endpoint) = try await connect()
                guard install(connection, endpoint: endpoint, at: index) else {
                    connection.close()
                    return
                }
                if let reactor = state.withLock({ $0.slots[index].reactor }) { connection.handOver(to: reactor) }
                if hadConnection { observer?.reconnected() }
                hadConnection = true
                failures = 0
                await connection.waitUntilClosed()
                guard detach(connection, at: index) else { return }
                if let endpoint { configuration.endpointProvider?.invalidate(endpoint, reason: "connection to \(endpoint) closed") }
            } catch {
                guard connectFailed(at: index, error) else { return }
                observer?.connectAttemptFailed(error)
                failures += 1
            }
            try? await Task.sleep(for: configuration.reconnectDelay(afterFailures: failures))
        }
    }

    /// Connects to the configured server, or to the one the endpoint provider names and then confirms.
    private func connect() async throws(RedisClientError) -> (RedisConnection, RedisEndpoint?) {
        guard let provider = configuration.endpointProvider else {
            return (try await RedisConnection.connect(configuration: configuration.connection), nil)
        }
        let endpoint = try await provider.endpoint()
        var connectionConfiguration = configuration.connection
        connectionConfiguration.url = connectionConfiguration.url.aimed(at: endpoint)
        let connection = try await RedisConnection.connect(configuration: connectionConfiguration)
        do {
            try await provider.confirm(connection, endpoint: endpoint)
        } catch {
            connection.close()
            throw error
        }
        return (connection, endpoint)
    }

    /// Marks the slot connecting. - Returns: `false` when the pool is closed.
    private func beginConnecting(_ index: Int) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.slots[index].connecting = true
            report(&state)
            return true
        }
    }

    /// Puts a new connection into service and hands it to waiting commands. - Returns: `false` when the pool is closed.
    private func install(_ connection: RedisConnection, endpoint: RedisEndpoint?, at index: Int) -> Bool {
        let waiters: [Waiter]? = state.withLock { state in
            guard !state.closed else { return nil }
            state.slots[index] = Slot(connection: connection, connecting: false, endpoint: endpoint, reactor: state.slots[index].reactor)
            state.lastError = nil
            let waiters = state.waiters
            state.waiters = []
            report(&state)
            return waiters
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: .success(Checkout(connection: connection, endpoint: endpoint))) }
        return true
    }

    /// Takes a closed connection out of service. - Returns: `false` when the pool is closed.
    private func detach(_ connection: RedisConnection, at index: Int) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            if state.slots[index].connection === connection {
                state.slots[index].connection = nil
                state.slots[index].endpoint = nil
            }
            report(&state)
            return true
        }
    }

    /// Records a failed attempt; fails waiting commands once no attempt is in progress. - Returns: `false` when closed.
    private func connectFailed(at index: Int, _ error: RedisClientError) -> Bool {
        let (open, waiters, failure): (Bool, [Waiter], RedisClientError?) = state.withLock { state in
            guard !state.closed else { return (false, [], nil) }
            state.slots[index].connecting = false
            state.lastError = error
            report(&state)
            guard !state.slots.contains(where: \.connecting) else { return (true, [], nil) }
            let waiters = state.waiters
            state.waiters = []
            return (true, waiters, noConnectionError(error))
        }
        if let failure {
            for waiter in waiters { waiter.resume(returning: .failure(failure)) }
        }
        return open
    }

    /// Tells the observer about a change in the connection counts. Called under the lock so updates stay ordered.
    private func report(_ state: inout State) {
        let connected = state.slots.lazy.filter { $0.connection != nil }.count
        let connecting = state.slots.lazy.filter { $0.connecting }.count
        guard (connected, connecting) != state.reported else { return }
        state.reported = (connected, connecting)
        observer?.connectionStateChanged(connected: connected, connecting: connecting)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
