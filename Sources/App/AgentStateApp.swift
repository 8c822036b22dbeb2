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
            case .serve(let parsed):
                configuration = parsed
            }
        } catch {
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            return 2
        }

        let logger = Logger(level: configuration.logLevel, format: configuration.logFormat)
        let service: Service
        do {
            service = try Service(configuration: configuration, logger: logger)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            return 2
        } catch {
            logger.error("startup failed", [("error", .string(String(describing: error)))])
            return 1
        }
        let port: Int
        do {
            port = try service.server.start()
        } catch let error as HTTPServerError where error.operation.hasPrefix("getaddrinfo") {
            // An address that does not resolve is a configuration error, like any other bad value.
            FileHandle.standardError.write(Data("agentstate: invalid value '\(configuration.host.prefix(64))' for --host: \(error.message)\n".utf8))
            return 2
        } catch {
            logger.error("cannot listen", [("error", .string(String(describing: error)))])
            return 1
        }
        logger.info("started", [("version", .string(version)), ("listen_port", .int(Int64(port)))] + configuration.logMetadata)

        let signal = await ShutdownSignal.wait()
        logger.info("shutting down", [("signal", .string(signal)), ("grace_seconds", .int(Int64(configuration.shutdownGraceSeconds)))])
        await service.shutdown(grace: .seconds(configuration.shutdownGraceSeconds))
        logger.info("stopped")
        return 0
    }
}

/// The running parts of the service, wired together.
final class Service: Sendable {
    let server: HTTPServer
    let handler: APIHandler
    let store: any StateStore
    /// The Redis connections, when the store is Redis; closed after the server has drained.
    let redisPool: RedisConnectionPool?

    init(configuration: AppConfiguration, logger: Logger) throws {
        let box = ServerBox()
        let metrics = AppMetrics(version: AgentStateApp.version) { box.server.withLock { $0?.openConnections ?? 0 } }
        let storeConfiguration = StoreConfiguration(maxMessages: configuration.maxMessages, defaultTTLSeconds: configuration.defaultTTLSeconds)
        switch configuration.store {
        case .memory:
            store = InMemoryStateStore(configuration: storeConfiguration)
            redisPool = nil
        case .redis:
            (store, redisPool) = try StoreFactory.redis(configuration: configuration, storeConfiguration: storeConfiguration, metrics: metrics, logger: logger)
        }
        handler = APIHandler(configuration: configuration, store: store, metrics: metrics, logger: logger,
                             openAPIDocument: Array((OpenAPIDocument.yaml + "\n").utf8))
        var serverConfiguration = HTTPServer.Configuration()
        serverConfiguration.host = configuration.host
        serverConfiguration.port = configuration.port
        serverConfiguration.maxBodyBytes = configuration.maxBodyBytes
        serverConfiguration.maxConnections = configuration.maxConnections
        server = HTTPServer(configuration: serverConfiguration, handler: handler)
        box.server.withLock { $0 = server }
    }

    /// Turns readiness to 503, stops accepting, lets in-flight requests finish, closes connections.
    func shutdown(grace: Duration) async {
        handler.draining.store(true, ordering: .relaxed)
        await server.shutdown(grace: grace)
        await redisPool?.close()
    }
}

/// Lets the metrics read the server's connection count although the server is created after them.
private final class ServerBox: Sendable {
    let server = Mutex<HTTPServer?>(nil)
}
