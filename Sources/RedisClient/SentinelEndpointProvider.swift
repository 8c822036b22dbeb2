import Synchronization

/// Finds the current primary through Redis Sentinel, for a ``RedisConnectionPool``'s
/// ``RedisConnectionPool/Configuration/endpointProvider``.
///
/// **Discovery** asks the sentinels in turn, starting with the one that answered last, each within
/// ``Configuration/sentinelTimeout`` (so one dead or hung sentinel never blocks it):
/// [`SENTINEL get-master-addr-by-name`](https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/#sentinel-api),
/// then `SENTINEL master` for the master's flags: a master the sentinel reports down (`s_down`, `o_down`,
/// `disconnected`) is skipped. The address is then confirmed with `ROLE` (`master`) over a connection with
/// the data nodes' credentials. Runs are serialised: concurrent callers share one run, on a task of its own,
/// and no lock is held while it talks to the network.
///
/// **Re-discovery** happens after ``invalidate(_:reason:)`` (a broken connection, `-READONLY` …) and when a
/// sentinel announces `+switch-master`: a background task stays subscribed to one sentinel and moves to the
/// next when that subscription breaks (it pings every second, so a hung sentinel is noticed too).
/// Call ``close()`` when done.
public final class SentinelEndpointProvider: RedisEndpointProvider {
    /// Where the sentinels are and how to talk to them and to the data nodes.
    public struct Configuration: Sendable {
        /// The master's name, as in `sentinel monitor <name> …`.
        public var masterName: String
        /// The sentinels, asked in this order at first.
        public var sentinels: [RedisEndpoint]
        /// The data nodes' scheme (TLS or not, applied to sentinels too), credentials and database; its hosts are ignored.
        public var dataURL: RedisURL
        /// The ACL user and password for `AUTH` to the sentinels (separate from the data nodes').
        public var sentinelUsername: String?
        public var sentinelPassword: String?
        /// TLS for `rediss://`, shared by sentinel and data connections.
        public var tls: TLSContext?
        /// The longest one sentinel may take to connect and to answer each command.
        public var sentinelTimeout: Duration = .seconds(1)
        /// The longest the `ROLE` check of a named primary may take to connect and answer.
        public var connectTimeout: Duration = .seconds(2)
        /// Whether to keep a `+switch-master` subscription (on by default).
        public var subscribe = true

        /// Creates a configuration.
        /// - Parameters:
        ///   - masterName: The monitored master's name.
        ///   - sentinels: The sentinels' addresses (at least one).
        ///   - dataURL: Scheme, credentials and database of the data nodes.
        public init(masterName: String, sentinels: [RedisEndpoint], dataURL: RedisURL) {
            self.masterName = masterName
            self.sentinels = sentinels
            self.dataURL = dataURL
        }
    }

    /// What happened, for logs and metrics.
    public enum Event: Sendable {
        /// Discovery confirmed a primary; `previous` is the one confirmed before (nil at first), so a
        /// different `previous` means a failover.
        case primaryConfirmed(RedisEndpoint, previous: RedisEndpoint?)
        /// Discovery found no usable primary.
        case discoveryFailed(String)
        /// A sentinel announced `+switch-master` for this master.
        case switchAnnounced(from: RedisEndpoint, to: RedisEndpoint)
        /// The primary was invalidated (a broken connection or a redirect reply).
        case invalidated(RedisEndpoint, reason: String)
    }

    private struct State {
        /// The primary last confirmed, until invalidated.
        var current: RedisEndpoint?
        /// The primary confirmed last, even when invalidated since (to tell a failover from a reconnect).
        var lastConfirmed: RedisEndpoint?
        var discovery: Task<Result<RedisEndpoint, RedisClientError>, Never>?
        var handlers: [@Sendable (RedisEndpoint) -> Void] = []
        /// The sentinel to ask first: the one that answered last.
        var preferred = 0
        var subscription: Task<Void, Never>?
        var closed = false
    }

    /// The configuration the provider was created with.
    public let configuration: Configuration
    private let onEvent: @Sendable (Event) -> Void
    private let state = Mutex(State())

    /// Creates the provider and starts the `+switch-master` subscription (unless turned off).
    /// - Parameters:
    ///   - configuration: Master name, sentinels, credentials and timeouts.
    ///   - onEvent: Told about confirmations, failures, announcements and invalidations; keep it cheap.
    public init(configuration: Configuration, onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.configuration = configuration
        self.onEvent = onEvent
        if configuration.subscribe {
            let task = Task { [weak self] in
                guard let self else { return }
                await self.runSubscription()
            }
            state.withLock { $0.subscription = task }
        }
    }

    /// The primary confirmed and not invalidated since, if any: `nil` while discovering or failing over.
    public var currentPrimary: RedisEndpoint? {
        state.withLock { $0.current }
    }

    /// Stops the subscription.
    public func close() async {
        let task = state.withLock { state in
            state.closed = true
            return state.subscription
        }
        task?.cancel()
        await task?.value
    }

    // MARK: - RedisEndpointProvider

    public func endpoint() async throws(RedisClientError) -> RedisEndpoint {
        let (known, task): (RedisEndpoint?, Task<Result<RedisEndpoint, RedisClientError>, Never>?) = state.withLock { state in
            if let current = state.current { return (current, nil) }
            if let running = state.discovery { return (nil, running) }
            let started = Task { await self.discover() }
            state.discovery = started
            return (nil, started)
        }
        if let known { return known }
        return try await task!.value.get()
    }

    public func confirm(_ connection: RedisConnection, endpoint: RedisEndpoint) async throws(RedisClientError) {
        try await Self.confirmMaster(connection, endpoint: endpoint)
    }

    public func invalidate(_ endpoint: RedisEndpoint, reason: String) {
        let changed = state.withLock { state in
            guard state.current == endpoint else { return false }
            state.current = nil
            return true
        }
        if changed { onEvent(.invalidated(endpoint, reason: reason)) }
    }

    public func onChange(_ handler: @escaping @Sendable (RedisEndpoint) -> Void) {
        state.withLock { $0.handlers.append(handler) }
    }

    // MARK: - Discovery

    /// One discovery run; records its outcome and tells the handlers about a new primary.
    private func discover() async -> Result<RedisEndpoint, RedisClientError> {
        let result = await findPrimary()
        let (previous, handlers): (RedisEndpoint?, [@Sendable (RedisEndpoint) -> Void]) = state.withLock { state in
            state.discovery = nil
            guard case .success(let endpoint) = result else { return (nil, []) }
            let previous = state.lastConfirmed
            state.current = endpoint
            state.lastConfirmed = endpoint
            return (previous, previous == endpoint ? [] : state.handlers)
        }
        switch result {
        case .success(let endpoint):
            onEvent(.primaryConfirmed(endpoint, previous: previous))
            for handler in handlers { handler(endpoint) }
        case .failure(let error):
            onEvent(.discoveryFailed(error.message))
        }
        return result
    }

    private func findPrimary() async -> Result<RedisEndpoint, RedisClientError> {
        let sentinels = configuration.sentinels
        let first = state.withLock { $0.preferred }
        var reasons: [String] = []
        for offset in 0..<sentinels.count {
            let index = (first + offset) % sentinels.count
            let sentinel = sentinels[index]
            do throws(RedisClientError) {
                guard let endpoint = try await askSentinel(sentinel, reasons: &reasons) else { continue }
                let connection = try await RedisConnection.connect(configuration: dataConfiguration(endpoint))
                defer { connection.close() }
                try await Self.confirmMaster(connection, endpoint: endpoint)
                state.withLock { $0.preferred = index }
                return .success(endpoint)
            } catch {
                reasons.append("sentinel \(sentinel): \(error.message)")
            }
        }
        return .failure(RedisClientError(
            .connectionFailed,
            "no sentinel named a usable primary for master '\(configuration.masterName)': \(reasons.joined(separator: "; "))"))
    }

    /// The master `sentinel` names, or nil (with a reason) when it names none or reports it down.
    private func askSentinel(_ sentinel: RedisEndpoint, reasons: inout [String]) async throws(RedisClientError) -> RedisEndpoint? {
        let connection = try await RedisConnection.connect(configuration: sentinelConfiguration(sentinel))
        defer { connection.close() }
        let name = configuration.masterName
        let address: RESPValue
        let master: RESPValue
        do {
            address = try await connection.send("SENTINEL", "get-master-addr-by-name", name)
            master = try await connection.send("SENTINEL", "master", name)
        } catch let error as RedisError {
            reasons.append("sentinel \(sentinel): \(error.message)")
            return nil
        } catch {
            throw error as? RedisClientError ?? RedisClientError(.connectionFailed, "\(error)")
        }
        guard let parts = address.array, parts.count == 2, let host = parts[0].string,
              let portText = parts[1].string, let port = Int(portText) else {
            reasons.append("sentinel \(sentinel) knows no master '\(name)'")
            return nil
        }
        let endpoint = RedisEndpoint(host: host, port: port)
        if let flags = Self.field("flags", in: master) {
            let down = flags.split(separator: ",").first { ["s_down", "o_down", "disconnected"].contains($0) }
            if let down {
                reasons.append("sentinel \(sentinel) reports master \(endpoint) \(down)")
                return nil
            }
        }
        return endpoint
    }

    /// The value of `name` in a flat key/value array reply (`SENTINEL master`).
    private static func field(_ name: String, in reply: RESPValue) -> String? {
        guard let elements = reply.array else { return nil }
        var index = 0
        while index + 1 < elements.count {
            if elements[index].string == name { return elements[index + 1].string }
            index += 2
        }
        return nil
    }

    /// Sends `ROLE` and throws unless the server says `master`.
    private static func confirmMaster(_ connection: RedisConnection, endpoint: RedisEndpoint) async throws(RedisClientError) {
        let role: RESPValue
        do {
            role = try await connection.send("ROLE")
        } catch let error as RedisClientError {
            throw error
        } catch {
            throw RedisClientError(.connectionFailed, "ROLE on \(endpoint) failed: \(error)")
        }
        let name = role.array?.first?.string
        guard name == "master" else {
            throw RedisClientError(.connectionFailed, "\(endpoint) is not a master (ROLE says \(name ?? "nothing"))")
        }
    }

    private func sentinelConfiguration(_ sentinel: RedisEndpoint) -> RedisConnection.Configuration {
        var url = RedisURL(scheme: configuration.dataURL.scheme, host: sentinel.host, port: sentinel.port,
                           username: configuration.sentinelUsername, password: configuration.sentinelPassword)
        if url.password == nil { url.username = nil }
        var connection = RedisConnection.Configuration(url: url)
        connection.connectTimeout = configuration.sentinelTimeout
        connection.commandTimeout = configuration.sentinelTimeout
        connection.tls = configuration.tls
        return connection
    }

    private func dataConfiguration(_ endpoint: RedisEndpoint) -> RedisConnection.Configuration {
        var connection = RedisConnection.Configuration(url: configuration.dataURL.aimed(at: endpoint))
        connection.connectTimeout = configuration.connectTimeout
        connection.commandTimeout = configuration.connectTimeout
        connection.tls = configuration.tls
        return connection
    }

    // MARK: - +switch-master

    /// Stays subscribed to `+switch-master` on one sentinel at a time, moving on when a subscription breaks.
    private func runSubscription() async {
        var index = 0
        var failures = 0
        while !Task.isCancelled && !state.withLock({ $0.closed }) {
            let sentinel = configuration.sentinels[index % configuration.sentinels.count]
            index += 1
            var connectionConfiguration = sentinelConfiguration(sentinel)
            connectionConfiguration.pushHandler = { [weak self] message in self?.received(message) }
            do throws(RedisClientError) {
                let connection = try await RedisConnection.connect(configuration: connectionConfiguration)
                defer { connection.close() }
                do {
                    _ = try await connection.send("SUBSCRIBE", "+switch-master")
                } catch {
                    throw error as? RedisClientError ?? RedisClientError(.connectionFailed, "SUBSCRIBE refused: \(error)")
                }
                failures = 0
                // A PING a second notices a sentinel that hangs rather than closes.
                while !Task.isCancelled && !connection.isClosed {
                    try? await Task.sleep(for: .seconds(1))
                    if Task.isCancelled { break }
                    do {
                        _ = try await connection.send("PING")
                    } catch {
                        break
                    }
                }
            } catch {
                failures += 1
            }
            if Task.isCancelled { break }
            try? await Task.sleep(for: .milliseconds(failures >= configuration.sentinels.count ? 1000 : 100))
        }
    }

    /// Handles `["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]`.
    private func received(_ message: RESPValue) {
        guard let elements = message.array, elements.count == 3, let payload = elements[2].string else { return }
        let words = payload.split(separator: " ").map(String.init)
        guard words.count == 5, words[0] == configuration.masterName, let oldPort = Int(words[2]), let newPort = Int(words[4]) else { return }
        let from = RedisEndpoint(host: words[1], port: oldPort)
        let to = RedisEndpoint(host: words[3], port: newPort)
        onEvent(.switchAnnounced(from: from, to: to))
        state.withLock { state in
            if state.current != to { state.current = nil }
        }
        // Discover now, so the pool moves to the new primary without waiting for a connection to break.
        Task { _ = try? await self.endpoint() }
    }
}
