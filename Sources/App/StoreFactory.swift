import RedisClient
import Store
import Telemetry

/// Builds the Redis-backed store.
enum StoreFactory {
    /// A `RedisStateStore` over a connection pool for the configured URL.
    static func redis(configuration: AppConfiguration, storeConfiguration: StoreConfiguration, metrics: AppMetrics, logger: Logger) throws -> any StateStore {
        throw ConfigurationError(message: "agentstate: --store redis is not available in this build yet")
    }
}
