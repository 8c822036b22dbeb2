import Dispatch
import Foundation
import HTTPServer
import RedisClient
import Store
import Synchronization
import Telemetry

/// The agentstate service: configuration, wiring and lifecycle.
public enum AgentStateApp {
    /// The version reported by `--version` and `agentstate_build_info`.
    public static let version = "0.1.0"

    /// Runs the service until SIGTERM or SIGINT and returns the process exit code:
    /// 0 after a graceful shutdown, 1 when the server cannot start, 2 for invalid configuration.
    public static func run(arguments: [String], environment: [String: String]) async -> Int32 {
        let configuration: AppConfiguration
        do {
            switch try AppConfiguration.parse(arguments: arguments, environment: environment) {
            case .help:
                print(AppConfiguration.helpText, terminator: "")
                return 0
            case .version:
                print("agentstate \(version)")
                return 0
            case .token(let request):
                print(TokenGenerator.output(for: request), terminator: "")
                return 0
            case .check(let request):
                return await LayoutCheck.run(request)
            case .serve(let parsed):
                configuration = parsed
            }
        } catch {
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            return 2
        }

        let logger = Logger(level: configuration.logLevel, format: configuration.logFormat)
        let authenticator: Authenticator
        do {
            authenticator = try loadAuthenticator(configuration, logger: logger)
        } catch {
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            return 2
        }
        let service: Service
        do {
            service = try Service(configuration: configuration, logger: logger, authenticator: authenticator)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            return 2
        } catch {
            logger.error("startup failed", [("error", .string(String(describing: error)))])
            return 1
        }
        let port: Int
        do {
            port = try service.start()
        } catch let error as HTTPServerError where error.operation.hasPrefix("getaddrinfo") {
            // An address that does not resolve is a configuration error, like any other bad value.
            FileHandle.standardError.write(Data("agentstate: invalid value '\(configuration.host.prefix(64))' for --host: \(error.message)\n".utf8))
            return 2
        } catch {
            logger.error("cannot listen", [("error", .string(String(describing: error)))])
            return 1
        }
        logger.info("started", [("version", .string(version)), ("listen_port", .int(Int64(port)))] + configuration.logMetadata)

        let reloader = TokenReloader(authenticator: authenticator, logger: logger)
        defer { reloader.cancel() }
        let signal = await ShutdownSignal.wait()
        logger.info("shutting down", [("signal", .string(signal)), ("grace_seconds", .int(Int64(configuration.shutdownGraceSeconds)))])
        await service.shutdown(grace: .seconds(configuration.shutdownGraceSeconds))
        logger.info("stopped")
        return 0
    }
}

extension AgentStateApp {
    /// Reads the tokens file and the metrics token file, warning about files others can read.
    /// - Throws: `ConfigurationError` (exit 2) for an unreadable file or a tokens file that does not parse.
    static func loadAuthenticator(_ configuration: AppConfiguration, logger: Logger) throws(ConfigurationError) -> Authenticator {
        for path in configuration.secretFilesReadableByOthers {
            logger.warning("secret file is readable by other users; chmod o-r it", [("path", .string(path))])
        }
        var tokens: [AccessToken] = []
        if let path = configuration.authTokensFile {
            let file = try SecretFile(path: path, flag: "--auth-tokens-file")
            do {
                tokens = try TokenFile.parse(file.content)
            } catch {
                throw ConfigurationError(message: "agentstate: invalid --auth-tokens-file '\(path)': \(error)")
            }
            warnIfReadableByOthers(file, logger: logger)
        }
        var metricsToken: String?
        if let path = configuration.metricsTokenFile {
            let file = try SecretFile(path: path, flag: "--metrics-token-file")
            guard Authenticator.bearerToken("Bearer " + file.content) == file.content[...] else {
                throw ConfigurationError(message: "agentstate: --metrics-token-file '\(path)' must hold one token of visible ASCII characters")
            }
            metricsToken = file.content
            warnIfReadableByOthers(file, logger: logger)
        }
        return Authenticator(tokensPath: configuration.authTokensFile, tokens: tokens, metricsToken: metricsToken)
    }

    private static func warnIfReadableByOthers(_ file: SecretFile, logger: Logger) {
        guard file.isReadableByOthers else { return }
        logger.warning("secret file is readable by other users; chmod o-r it", [("path", .string(file.path))])
    }
}

/// Reloads the tokens file on SIGHUP; a file that does not parse keeps the old tokens.
final class TokenReloader {
    private let source: any DispatchSourceSignal

    init(authenticator: Authenticator, logger: Logger) {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "agentstate.sighup"))
        source.setEventHandler {
            guard let path = authenticator.tokensPath else {
                logger.info("SIGHUP: no --auth-tokens-file to reload")
                return
            }
            do {
                let count = try authenticator.reload()
                logger.info("tokens reloaded", [("path", .string(path)), ("tokens", .int(Int64(count)))])
            } catch let error as TokenFile.ParseError {
                logger.error("tokens file rejected; the old tokens stay in force",
                             [("path", .string(path)), ("line", .int(Int64(error.line))), ("error", .string(error.reason))])
            } catch {
                logger.error("tokens file rejected; the old tokens stay in force", [("path", .string(path)), ("error", .string(String(describing: error)))])
            }
        }
        source.resume()
    }

    func cancel() {
        source.cancel()
    }
}

/// The running parts of the service, wired together.
final class Service: Sendable {
    let server: HTTPServer
    let handler: APIHandler
    let store: any StateStore
    /// Closes the Redis connections, when the store is Redis; called after the server has drained.
    let closeRedis: (@Sendable () async -> Void)?
    /// Moves the Redis connections onto the server's loops, when the pool can (plain TCP, outside cluster mode).
    let attachRedis: (@Sendable ([any IOReactor]) -> Void)?

    init(configuration: AppConfiguration, logger: Logger, authenticator: Authenticator = .disabled) throws {
        let box = ServerBox()
        let metrics = AppMetrics(version: AgentStateApp.version) { box.server.withLock { $0?.openConnections ?? 0 } }
        let storeConfiguration = StoreConfiguration(
            maxMessages: configuration.maxMessages, defaultTTLSeconds: configuration.defaultTTLSeconds,
            maxSessionBytes: configuration.maxSessionBytes
        )
        switch configuration.store {
        case .memory:
            store = InMemoryStateStore(configuration: storeConfiguration)
            closeRedis = nil
            attachRedis = nil
        case .redis:
            (store, closeRedis, attachRedis) = try StoreFactory.redis(configuration: configuration, storeConfiguration: storeConfiguration, metrics: metrics, logger: logger)
        }
        handler = APIHandler(configuration: configuration, store: store, metrics: metrics, logger: logger,
                             openAPIDocument: Array((OpenAPIDocument.yaml + "\n").utf8), authenticator: authenticator)
        var serverConfiguration = HTTPServer.Configuration()
        serverConfiguration.host = configuration.host
        serverConfiguration.port = configuration.port
        serverConfiguration.maxBodyBytes = configuration.maxBodyBytes
        serverConfiguration.maxConnections = configuration.maxConnections
        serverConfiguration.eventLoopCount = configuration.eventLoops
        server = HTTPServer(configuration: serverConfiguration, handler: handler)
        box.server.withLock { $0 = server }
    }

    /// Starts the server, then moves the Redis connections onto its loops.
    /// - Returns: The bound port.
    func start() throws -> Int {
        let port = try server.start()
        attachRedis?(server.eventLoops.map(LoopReactor.init))
        return port
    }

    /// Turns readiness to 503, stops accepting, lets in-flight requests finish, closes connections.
    func shutdown(grace: Duration) async {
        handler.draining.store(true, ordering: .relaxed)
        await server.shutdown(grace: grace)
        await closeRedis?()
    }
}

/// Lets the metrics read the server's connection count although the server is created after them.
private final class ServerBox: Sendable {
    let server = Mutex<HTTPServer?>(nil)
}
