import RedisClient
import Store
import Telemetry

/// Builds the configured `StateStore` backend.
enum StoreFactory {
    /// A `RedisStateStore` over a connection pool for the configured URL, and the pool to close
    /// at shutdown. Connecting happens in the background: a Redis that is down at startup makes
    /// `/readyz` answer 503 and requests 503 until it comes up.
    /// - Throws: `ConfigurationError` for a URL that does not parse.
    static func redis(configuration: AppConfiguration, storeConfiguration: StoreConfiguration, metrics: AppMetrics, logger: Logger) throws -> (any StateStore, RedisConnectionPool) {
        let url: RedisURL
        do {
            url = try RedisURL(parsing: configuration.redisURL ?? "redis://127.0.0.1:6379")
        } catch {
            throw ConfigurationError(message: "agentstate: invalid value for --redis-url: \(error)")
        }
        var poolConfiguration = RedisConnectionPool.Configuration(url: url)
        poolConfiguration.connectionCount = configuration.redisConnections
        let pool = RedisConnectionPool(configuration: poolConfiguration, observer: RedisMetricsObserver(metrics: metrics))
        let store = RedisStateStore(client: pool, keyPrefix: configuration.keyPrefix, configuration: storeConfiguration) { pruned in
            metrics.indexPruned.increment(by: Int64(pruned))
        }
        Task {
            do {
                try await store.loadScripts()
            } catch {
                logger.warning("redis scripts not loaded yet; they load on first use", [("error", .string(String(describing: error)))])
            }
        }
        return (store, pool)
    }
}
