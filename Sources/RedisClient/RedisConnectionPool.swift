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
public final class RedisConnectionPool: RedisClient, Sendable {
    private typealias Waiter = CheckedContinuation<Result<RedisConnection, RedisClientError>, Never>

    private struct Slot {
        var connection: RedisConnection?
        var connecting = false
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
        let start = ContinuousClock.now
        do {
            let connection = try await checkout(lane).get()
            let reply = try await connection.send(arguments)
            observer?.commandCompleted(succeeded: true, durationSeconds: Self.seconds(since: start))
            return reply
        } catch {
            observer?.commandCompleted(succeeded: false, durationSeconds: Self.seconds(since: start))
            throw error
        }
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

    // MARK: - Checkout

    /// Picks a live connection round-robin, waits for a connect attempt in progress, or fails at once.
    private func checkout(_ lane: Lane) async -> Result<RedisConnection, RedisClientError> {
        await withCheckedContinuation { (waiter: Waiter) in
            let immediate: Result<RedisConnection, RedisClientError>? = state.withLock { state in
                if state.closed {
                    return .failure(RedisClientError(.poolClosed, "the Redis connection pool is closed"))
                }
                // The lane's own slots first, round-robin, then any connected slot.
                let writers = Swift.max(1, configuration.connectionCount)
                let readers = state.slots.count - writers
                let own = lane == .read && readers > 0 ? writers..<state.slots.count : 0..<writers
                let start = lane == .read && readers > 0 ? state.nextRead : state.next
                for offset in 0..<own.count {
                    let index = own.lowerBound + (start + offset) % own.count
                    if let connection = state.slots[index].connection, !connection.isClosed {
                        if lane == .read && readers > 0 {
                            state.nextRead = (index - own.lowerBound + 1) % own.count
                        } else {
                            state.next = (index + 1) % own.count
                        }
                        return .success(connection)
                    }
                }
                for slot in state.slots {
                    if let connection = slot.connection, !connection.isClosed { return .success(connection) }
                }
                if state.slots.contains(where: \.connecting) {
                    state.waiters.append(waiter)
                    return nil
                }
                return .failure(noConnectionError(state.lastError))
            }
            if let immediate { waiter.resume(returning: immediate) }
        }
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
                let connection = try await RedisConnection.connect(configuration: configuration.connection)
                guard install(connection, at: index) else {
                    connection.close()
                    return
                }
                if hadConnection { observer?.reconnected() }
                hadConnection = true
                failures = 0
                await connection.waitUntilClosed()
                guard detach(connection, at: index) else { return }
            } catch {
                guard connectFailed(at: index, error) else { return }
                observer?.connectAttemptFailed(error)
                failures += 1
            }
            try? await Task.sleep(for: configuration.reconnectDelay(afterFailures: failures))
        }
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
    private func install(_ connection: RedisConnection, at index: Int) -> Bool {
        let waiters: [Waiter]? = state.withLock { state in
            guard !state.closed else { return nil }
            state.slots[index] = Slot(connection: connection, connecting: false)
            state.lastError = nil
            let waiters = state.waiters
            state.waiters = []
            report(&state)
            return waiters
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: .success(connection)) }
        return true
    }

    /// Takes a closed connection out of service. - Returns: `false` when the pool is closed.
    private func detach(_ connection: RedisConnection, at index: Int) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            if state.slots[index].connection === connection { state.slots[index].connection = nil }
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
