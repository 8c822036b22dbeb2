#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A `redis-server` started for tests, on a free loopback port, with persistence off.
///
/// Use ``shared()`` for tests that only need a server (with unique key prefixes), and a private
/// instance (``init(arguments:)``) for tests that stop, restart, pause or authenticate. The process is
/// stopped by PID on ``stop()`` and on deinit; the shared one is stopped when the test process exits.
/// When `redis-server` is not on `PATH`, starting throws ``Failure`` so tests fail rather than skip.
public final class RedisServerProcess: Sendable {
    /// Why the server could not be started.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong and how to fix it.
        public let description: String
    }

    /// The message thrown when `redis-server` is missing.
    public static let notFoundMessage =
        "redis-server not found on PATH: install it with 'apt-get install -y redis-server' (Debian/Ubuntu)"

    /// The loopback port the server listens on (its TLS port for a TLS server); stays the same across ``restart()``.
    public let port: Int
    /// `redis://127.0.0.1:<port>`, or `rediss://…` for a TLS server (without credentials: add them for servers
    /// started with a password).
    public let url: String
    /// The extra command-line arguments the server was started with.
    public let arguments: [String]
    /// Whether the server speaks only TLS (`--port 0 --tls-port <port>`).
    public let isTLS: Bool
    /// The arguments that choose the port (and TLS files).
    private let listenArguments: [String]

    private let executable: String
    let directory: String
    /// The running server, or nil when stopped.
    private let process = Mutex<ChildProcess?>(nil)

    /// Starts a private server and waits (at most 5 s) until it answers `PING`.
    /// - Parameter arguments: Extra `redis-server` arguments, e.g. `["--requirepass", "secret"]`.
    /// - Throws: ``Failure`` when `redis-server` is missing or does not come up.
    public init(arguments: [String] = []) async throws {
        guard let executable = ChildProcess.findExecutable("redis-server") else {
            throw Failure(description: Self.notFoundMessage)
        }
        self.executable = executable
        self.arguments = arguments
        let port = try FreePort.allocate()
        self.port = port
        self.url = "redis://127.0.0.1:\(port)"
        self.isTLS = false
        self.listenArguments = ["--port", String(port)]
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("agentstate-redis-\(getpid())-\(port)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        try await start()
    }

    /// Starts a private TLS-only server (`--port 0 --tls-port <port>`) and waits (at most 5 s) until it accepts.
    /// - Parameters:
    ///   - certificates: Where the CA (for client certificates) comes from.
    ///   - certificateFile: The server certificate; default ``TestCertificates/serverCertificateFile``.
    ///   - keyFile: Its key; default ``TestCertificates/serverKeyFile``.
    ///   - authClients: `--tls-auth-clients yes` (a client certificate signed by the CA is required) or `no`.
    ///   - arguments: Extra `redis-server` arguments.
    /// - Throws: ``Failure`` when `redis-server` is missing or does not come up.
    public init(
        tls certificates: TestCertificates, certificateFile: String? = nil, keyFile: String? = nil,
        authClients: Bool = false, arguments: [String] = []
    ) async throws {
        guard let executable = ChildProcess.findExecutable("redis-server") else {
            throw Failure(description: Self.notFoundMessage)
        }
        self.executable = executable
        self.arguments = arguments
        let port = try FreePort.allocate()
        self.port = port
        self.url = "rediss://127.0.0.1:\(port)"
        self.isTLS = true
        self.listenArguments = [
            "--port", "0", "--tls-port", String(port),
            "--tls-cert-file", certificateFile ?? certificates.serverCertificateFile,
            "--tls-key-file", keyFile ?? certificates.serverKeyFile,
            "--tls-ca-cert-file", certificates.caFile,
            "--tls-auth-clients", authClients ? "yes" : "no",
        ]
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("agentstate-redis-\(getpid())-\(port)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        try await start()
    }

    deinit {
        stopSynchronously()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The process-wide shared server, started on first use. Tests using it must use unique key prefixes
    /// and must not stop, pause, flush or reconfigure it.
    /// - Returns: The shared server.
    /// - Throws: ``Failure`` when it cannot be started.
    public static func shared() async throws -> RedisServerProcess {
        try await sharedServer.value
    }

    private static let sharedServer = Task<RedisServerProcess, any Error> {
        let server = try await RedisServerProcess()
        sharedServerCleanup.withLock { $0 = (server.pid, server.directory) }
        atexit {
            let (pid, directory) = sharedServerCleanup.withLock { $0 }
            if pid > 0 { kill(pid, SIGTERM) }
            if !directory.isEmpty { try? FileManager.default.removeItem(atPath: directory) }
        }
        return server
    }

    /// The process-wide shared TLS-only server, started on first use with ``TestCertificates/shared()`` and
    /// `--tls-auth-clients yes`: clients need the CA and the client certificate. Same rules as ``shared()``.
    /// - Returns: The shared TLS server.
    /// - Throws: ``Failure`` or ``TestCertificates/Failure`` when it cannot be started.
    public static func sharedTLS() async throws -> RedisServerProcess {
        try await sharedTLSServer.value
    }

    private static let sharedTLSServer = Task<RedisServerProcess, any Error> {
        let server = try await RedisServerProcess(tls: try await TestCertificates.shared(), authClients: true)
        sharedTLSServerCleanup.withLock { $0 = (server.pid, server.directory) }
        atexit {
            let (pid, directory) = sharedTLSServerCleanup.withLock { $0 }
            if pid > 0 { kill(pid, SIGTERM) }
            if !directory.isEmpty { try? FileManager.default.removeItem(atPath: directory) }
        }
        return server
    }

    var pid: Int32 { process.withLock { $0?.pid ?? 0 } }

    /// Stops the server (SIGTERM to its PID, then SIGKILL after 5 s) and waits for it to exit.
    public func stop() async {
        let child = process.withLock { child in
            defer { child = nil }
            return child
        }
        await child?.stop()
    }

    /// Kills the server with SIGKILL, as a crash would, and waits for it to exit.
    public func crash() async {
        let child = process.withLock { child in
            defer { child = nil }
            return child
        }
        child?.send(SIGKILL)
        _ = await child?.waitForExit(timeout: .seconds(5))
    }

    /// Stops the server (unless it is stopped or crashed) and starts it again on the same port with
    /// the same arguments and directory: data survives only if the arguments turn on persistence
    /// (e.g. `--appendonly yes`).
    /// - Throws: ``Failure`` when it does not come back within 5 s.
    public func restart() async throws {
        await stop()
        try await start()
    }

    private func start() async throws {
        let child: ChildProcess
        do {
            child = try ChildProcess(path: executable, arguments: [
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--dir", directory, "--logfile", "\(directory)/redis.log",
            ] + listenArguments + arguments)
        } catch {
            throw Failure(description: String(describing: error))
        }
        process.withLock { $0 = child }

        for _ in 0..<200 {
            if try await onDedicatedThread({ [port, isTLS] in isTLS ? Self.accepts(port: port) : Self.answersPing(port: port) }) { return }
            if child.pollExit() != nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let log = (try? String(contentsOfFile: "\(directory)/redis.log", encoding: .utf8)) ?? ""
        await stop()
        throw Failure(description: "redis-server on port \(port) did not \(isTLS ? "accept connections" : "answer PING") within 5 s; log tail: "
            + log.split(separator: "\n").suffix(5).joined(separator: " | "))
    }

    private func stopSynchronously() {
        let child = process.withLock { child in
            defer { child = nil }
            return child
        }
        guard let child else { return }
        child.send(SIGTERM)
        if child.waitForExitSynchronously(timeout: .seconds(5)) == nil { child.send(SIGKILL) }
    }

    /// Whether something on 127.0.0.1:`port` accepts a TCP connection (a TLS server, which cannot be pinged in plaintext).
    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Whether something on 127.0.0.1:`port` answers `PING` with any RESP reply (`+PONG` or `-NOAUTH`).
    static func answersPing(port: Int) -> Bool {
        guard let reply = RedisProbe.reply(port: port, ["PING"]) else { return false }
        return reply.hasPrefix("+") || reply.hasPrefix("-")
    }
}

/// The shared server's PID and directory, read by the `atexit` handler (which cannot capture context).
private let sharedServerCleanup = Mutex<(pid: pid_t, directory: String)>((0, ""))
private let sharedTLSServerCleanup = Mutex<(pid: pid_t, directory: String)>((0, ""))
