import HTTPServer
import RedisClient
import Synchronization
import Telemetry

/// Every metric of DESIGN §6 in one catalog. Labels are route templates and operations, never IDs.
final class AppMetrics: Sendable {
    let registry: MetricsRegistry
    let httpRequests: CounterFamily
    let httpDuration: HistogramFamily
    let httpInFlight: Gauge
    let storeOperations: CounterFamily
    let storeDuration: HistogramFamily
    let storePayload: HistogramFamily
    let redisCommands: CounterFamily
    let redisCommandDuration: Histogram
    let redisConnections: GaugeFamily
    let redisReconnects: Counter
    let indexPruned: CounterFamily
    let authFailures: CounterFamily
    let redisFailovers: Counter
    /// `agentstate_redis_redirects_total{kind}`: MOVED and ASK replies followed (cluster mode).
    let redisRedirects: CounterFamily
    /// The per-request series of the HTTP and store families, reached by index.
    let requests: RequestSeries
    /// `agentstate_redis_commands_total{outcome}`: `ok` (slot 0) and `error` (slot 1).
    let redisCommandOutcomes: SeriesTable<Counter>
    /// The Redis primary in use (sentinel mode), for `agentstate_redis_primary_info{address}`.
    let redisPrimary = RedisPrimaryAddress()

    /// Registers every family; `openConnections` is read at scrape time.
    init(registry: MetricsRegistry = MetricsRegistry(), version: String, openConnections: @escaping @Sendable () -> Int) {
        self.registry = registry
        httpRequests = registry.counter("agentstate_http_requests_total", help: "HTTP requests answered.", labelNames: ["method", "route", "status"])
        httpDuration = registry.histogram("agentstate_http_request_duration_seconds", help: "Time from a request's first byte to its response.", labelNames: ["method", "route"], buckets: Buckets.latency)
        httpInFlight = registry.gauge("agentstate_http_requests_in_flight", help: "Requests being handled.").labels()
        registry.gauge("agentstate_http_connections_open", help: "Open client connections.") { [(labels: [], value: Double(openConnections()))] }
        storeOperations = registry.counter("agentstate_store_operations_total", help: "Store operations by outcome.", labelNames: ["operation", "outcome"])
        storeDuration = registry.histogram("agentstate_store_operation_duration_seconds", help: "Time spent in the store per operation.", labelNames: ["operation"], buckets: Buckets.latency)
        storePayload = registry.histogram("agentstate_store_payload_bytes", help: "State and message bytes written or read per operation.", labelNames: ["operation"], buckets: Buckets.payloadBytes)
        redisCommands = registry.counter("agentstate_redis_commands_total", help: "Redis commands by outcome.", labelNames: ["outcome"])
        redisCommandDuration = registry.histogram("agentstate_redis_command_duration_seconds", help: "Redis command round-trip time.", buckets: Buckets.latency).labels()
        redisConnections = registry.gauge("agentstate_redis_connections", help: "Redis connections by state.", labelNames: ["state"])
        redisReconnects = registry.counter("agentstate_redis_reconnects_total", help: "Redis reconnections.").labels()
        indexPruned = registry.counter("agentstate_index_pruned_total", help: "Expired or deleted sessions pruned from agent indexes, by what pruned them (list or write).", labelNames: ["trigger"])
        authFailures = registry.counter("agentstate_auth_failures_total", help: "Requests refused by bearer-token auth.", labelNames: ["reason"])
        redisFailovers = registry.counter("agentstate_redis_failovers_total", help: "Switches to a new Redis primary (sentinel mode).").labels()
        redisRedirects = registry.counter("agentstate_redis_redirects_total", help: "MOVED and ASK redirections followed (cluster mode).", labelNames: ["kind"])
        requests = RequestSeries(httpRequests: httpRequests, httpDuration: httpDuration, storeOperations: storeOperations,
                                 storeDuration: storeDuration, storePayload: storePayload)
        redisCommandOutcomes = SeriesTable(count: 2) { [redisCommands] in redisCommands.labels($0 == 0 ? "ok" : "error") }
        registry.gauge("agentstate_redis_primary_info", help: "The Redis primary in use (sentinel mode); the value is always 1.", labelNames: ["address"]) { [redisPrimary] in
            redisPrimary.address.withLock { address in address.map { [(labels: [$0], value: 1)] } ?? [] }
        }
        registry.gauge("agentstate_build_info", help: "Build information; the value is always 1.", labelNames: ["version"]) { [(labels: [version], value: 1)] }
        ProcessMetrics.register(in: registry)
    }
}

/// Feeds Redis client events into the Redis metric families, and connection failures into the log.
/// Counts the cluster client's redirections and logs slot-map refreshes that leave slots uncovered.
struct RedisClusterMetricsObserver: RedisClusterObserver {
    let metrics: AppMetrics
    let logger: Logger

    func redirected(_ kind: ClusterRedirect.Kind) {
        metrics.redisRedirects.labels(kind.rawValue).increment()
    }

    func slotMapRefreshed(primaries: Int, uncovered: Int) {
        if uncovered > 0 {
            logger.warning("redis cluster slot map has uncovered slots", [("primaries", .int(Int64(primaries))), ("uncovered", .int(Int64(uncovered)))])
        }
    }
}

struct RedisMetricsObserver: RedisClientObserver {
    let metrics: AppMetrics
    var connectionLog: RedisConnectionLog?

    func connectAttemptFailed(_ error: RedisClientError) {
        connectionLog?.failed(error)
    }

    func commandCompleted(succeeded: Bool, durationSeconds: Double) {
        metrics.redisCommandOutcomes[succeeded ? 0 : 1].increment()
        metrics.redisCommandDuration.observe(durationSeconds)
    }

    func connectionStateChanged(connected: Int, connecting: Int) {
        if connected > 0 { connectionLog?.connected() }
        metrics.redisConnections.labels("connected").set(Double(connected))
        metrics.redisConnections.labels("connecting").set(Double(connecting))
    }

    func reconnected() {
        metrics.redisReconnects.increment()
    }
}

/// Logs why connecting to Redis fails (a TLS certificate that fails verification, a refused connection),
/// once per distinct reason rather than once per retry, and logs when a connection is up again.
final class RedisConnectionLog: Sendable {
    private let logger: Logger
    /// The failure last logged; `nil` once a connection is up.
    private let lastFailure = Mutex<String?>(nil)

    init(logger: Logger) {
        self.logger = logger
    }

    func failed(_ error: RedisClientError) {
        let message = error.description
        let isNew = lastFailure.withLock { last in
            defer { last = message }
            return last != message
        }
        if isNew { logger.warning("redis connection failed; retrying", [("error", .string(message))]) }
    }

    func connected() {
        let hadFailed = lastFailure.withLock { last in
            defer { last = nil }
            return last != nil
        }
        if hadFailed { logger.info("redis connection established") }
    }
}

/// The address of the Redis primary in use, set on every switch (sentinel mode) and read at scrape time.
final class RedisPrimaryAddress: Sendable {
    let address = Mutex<String?>(nil)
}
