#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection to Redis, with pipelining: any number of concurrent ``send(_:)`` calls share it,
/// their commands are batched into few writes, and replies are matched to callers in FIFO order.
///
/// Create it with ``connect(configuration:)``, which also sends
/// [`AUTH`](https://redis.io/docs/latest/commands/auth/) and [`SELECT`](https://redis.io/docs/latest/commands/select/).
/// A connection never reconnects: once closed (by ``close()``, the server, a protocol violation or a command
/// timeout) every command fails with a ``RedisClientError``. ``RedisConnectionPool`` replaces broken connections.
/// Cancelling a task does not withdraw its command; it completes or times out.
public final class RedisConnection: RedisClient {
    /// The configuration the connection was created with.
    public let configuration: Configuration
    private let core: ConnectionCore

    private init(configuration: Configuration, core: ConnectionCore) {
        self.configuration = configuration
        self.core = core
    }

    deinit {
        core.close()
    }

    /// Connects, authenticates and selects the database.
    /// - Parameter configuration: The server and timeouts.
    /// - Returns: A ready connection.
    /// - Throws: ``RedisClientError`` with code ``RedisClientError/Code/connectionFailed``,
    ///   ``RedisClientError/Code/authenticationFailed`` (`AUTH` or `SELECT` refused), ``RedisClientError/Code/timeout``
    ///   or ``RedisClientError/Code/invalidConfiguration`` (a `rediss://` URL without ``Configuration/tls``
    ///   whose system trust store cannot be loaded). A TLS handshake failure is
    ///   ``RedisClientError/Code/connectionFailed`` with OpenSSL's reason in the message.
    public static func connect(configuration: Configuration) async throws(RedisClientError) -> RedisConnection {
        let url = configuration.url
        let target = url.host.contains(":") ? "[\(url.host)]:\(url.port)" : "\(url.host):\(url.port)"
        var tls: TLSContext?
        if url.scheme == .rediss {
            if let shared = configuration.tls {
                tls = shared
            } else {
                tls = try TLSContext(configuration: TLSConfiguration())
            }
        }
        let transport: any Transport = try await onDedicatedThread(name: "redis-connect") { [tls] () throws(RedisClientError) in
            let fd = try Socket.connect(host: url.host, port: url.port, timeout: configuration.connectTimeout)
            guard let tls else { return PlainTransport(fd: fd, target: target) }
            do throws(RedisClientError) {
                return try TLSTransport.handshake(
                    fd: fd, context: tls, host: url.host, target: target,
                    deadline: ContinuousClock.now + configuration.connectTimeout)
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
        let core = try ConnectionCore(
            transport: transport, commandTimeout: configuration.commandTimeout, target: target, parser: configuration.parser,
            pushHandler: configuration.pushHandler)
        let connection = RedisConnection(configuration: configuration, core: core)
        do {
            try await connection.handshake()
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// Connects to `url` with default timeouts.
    /// - Parameter url: The server, credentials and database.
    /// - Returns: A ready connection.
    /// - Throws: ``RedisClientError``, as ``connect(configuration:)``.
    public static func connect(to url: RedisURL) async throws(RedisClientError) -> RedisConnection {
        try await connect(configuration: Configuration(url: url))
    }

    /// Sends `AUTH` when a password is set and `SELECT` when the database is not 0. Over TLS without
    /// either, sends `PING`: with TLS 1.3 a server that refuses the client certificate says so only after
    /// the handshake, and the connection must not count as up before that is known.
    private func handshake() async throws(RedisClientError) {
        let url = configuration.url
        do {
            try await authenticateAndSelect()
        } catch where configuration.url.scheme == .rediss && error.code == .connectionClosed {
            // The server dropped the connection right after a handshake that looked fine to us: with TLS 1.3
            // that is how a server that verifies client certificates refuses one (or the lack of one).
            // One message whichever way the refusal arrives (an alert, or a reset), so logs can de-duplicate it.
            let target = url.host.contains(":") ? "[\(url.host)]:\(url.port)" : "\(url.host):\(url.port)"
            let hasCertificate = configuration.tls?.configuration.certificateFile != nil
            throw RedisClientError(.connectionFailed, "TLS connection to \(target) closed by the server right after the handshake: "
                + (hasCertificate ? "it may have rejected the client certificate" : "it probably requires a client certificate, and none is configured"))
        }
    }

    private func authenticateAndSelect() async throws(RedisClientError) {
        let url = configuration.url
        if let password = url.password {
            var arguments = [Array("AUTH".utf8)]
            if let username = url.username { arguments.append(Array(username.utf8)) }
            arguments.append(Array(password.utf8))
            do {
                _ = try await send(arguments)
            } catch let error as RedisError {
                let user = url.username.map { "user '\($0)'" } ?? "the default user"
                throw RedisClientError(.authenticationFailed, "AUTH as \(user) was refused: \(error.message)")
            } catch {
                throw Self.asClientError(error)
            }
        }
        if url.database != 0 {
            do {
                _ = try await send("SELECT", String(url.database))
            } catch let error as RedisError {
                throw RedisClientError(.authenticationFailed, "SELECT \(url.database) was refused: \(error.message)")
            } catch {
                throw Self.asClientError(error)
            }
        }
        if url.scheme == .rediss && url.password == nil && url.database == 0 {
            do {
                _ = try await send("PING")
            } catch is RedisError {
                // An error reply (e.g. NOAUTH) still proves that TLS works; commands will report it.
            } catch {
                throw Self.asClientError(error)
            }
        }
    }

    private static func asClientError(_ error: any Error) -> RedisClientError {
        error as? RedisClientError ?? RedisClientError(.connectionFailed, "handshake failed: \(error)")
    }

    /// Sends one command, pipelined with any other in flight, and returns its reply.
    /// - Parameter arguments: The command name and its arguments, each binary-safe.
    /// - Returns: The reply.
    /// - Throws: ``RedisError`` for an error reply; ``RedisClientError`` when the connection is closed or breaks,
    ///   or the reply does not arrive within ``Configuration/commandTimeout``.
    public func send(_ arguments: [[UInt8]]) async throws -> RESPValue {
        let reply = try await core.send(arguments)
        if case .error(let message) = reply {
            throw RedisError(message: message)
        }
        return reply
    }

    /// ``send(_:)`` without a task: `reply` gets the reply in place (or the error) exactly once, on the thread
    /// that reads it: the reactor's once the connection is on one (``handOver(to:)``), else the connection's I/O
    /// thread, or the caller's when the connection is already closed. It must not block.
    /// - Parameters:
    ///   - command: The encoded command.
    ///   - read: Ignored: reads and writes share the one connection.
    ///   - reply: Gets the reply, valid during the call; ``RedisError`` for an error reply, or ``RedisClientError``.
    public func send(_ command: RESPCommand, read: Bool = false, reply: @escaping @Sendable (Result<RESPReply, any Error>) -> Void) {
        core.send(command, reply: reply)
    }

    /// True: ``send(_:read:reply:)`` calls back from the thread that reads the reply.
    public var sendsWithoutTask: Bool { true }

    /// Whether the connection is closed or closing; commands then fail at once.
    public var isClosed: Bool { core.isClosed }

    /// Closes the connection. Commands still waiting fail with ``RedisClientError/Code/connectionClosed``.
    public func close() {
        core.close()
    }

    /// Moves the connection's socket from its I/O thread onto `reactor` (see ``IOReactor``): replies are then
    /// read and their callers resumed on the reactor's thread. Plain TCP only; TLS stays on its I/O thread.
    /// When the reactor stops, the connection goes back to an I/O thread of its own.
    /// - Returns: Whether the move started (false for TLS, or a closed connection).
    @discardableResult
    public func handOver(to reactor: any IOReactor) -> Bool {
        core.handOver(to: reactor)
    }

    /// Returns once the connection is closed, for whatever reason, and its socket released.
    public func waitUntilClosed() async {
        await core.waitUntilClosed()
    }
}
