import Glibc
import RedisClient
import Store
import Telemetry

/// Builds the configured `StateStore` backend.
enum StoreFactory {
    /// A `RedisStateStore` over a connection pool for the configured URL (or, in cluster mode, a
    /// cluster client with a pool per primary), what closes its connections at shutdown, and, for a
    /// plain-TCP pool outside cluster mode, what moves its connections onto the HTTP server's loops.
    /// Connecting happens in the background: a Redis that is down at startup makes `/readyz`
    /// answer 503 and requests 503 until it comes up.
    /// - Throws: `ConfigurationError` for a URL that does not parse, or TLS files OpenSSL cannot load.
    static func redis(
        configuration: AppConfiguration, storeConfiguration: StoreConfiguration, metrics: AppMetrics, logger: Logger
    ) throws -> (store: any StateStore, close: @Sendable () async -> Void, attach: (@Sendable ([any IOReactor]) -> Void)?) {
        var url: RedisURL
        do {
            url = try RedisURL(parsing: configuration.redisURL ?? "redis://127.0.0.1:6379")
        } catch {
            throw ConfigurationError(message: "agentstate: invalid value for --redis-url: \(error)")
        }
        if let password = configuration.redisPassword { url.password = password }
        var poolConfiguration = RedisConnectionPool.Configuration(url: url)
        // A plain-TCP pool's connections (standalone, or to the primary a Sentinel names) move onto the HTTP
        // server's loops (`Service.start`): by default each loop gets one, so that its requests' replies are
        // read on the loop itself. Cluster pools and TLS keep their I/O threads.
        let onLoops = configuration.redisMode != .cluster && url.scheme == .redis
        poolConfiguration.connectionCount = configuration.redisConnections ?? (onLoops ? configuration.eventLoops : 1)
        poolConfiguration.commandTimeout = .milliseconds(configuration.redisCommandTimeoutMilliseconds)
        // Connections for plain reads (the HMGET of a non-sliding load), so that loads keep being answered
        // while Redis pauses writes (CLIENT PAUSE … WRITE, FAILOVER): as many as for writes on the loops,
        // else one. Read-your-writes holds: an HTTP connection's next request starts only after the
        // previous one's response.
        poolConfiguration.readConnectionCount = onLoops ? poolConfiguration.connectionCount : 1
        if url.scheme == .rediss {
            let tls = TLSConfiguration(
                caFile: configuration.redisTLSCAFile, certificateFile: configuration.redisTLSCertFile,
                keyFile: configuration.redisTLSKeyFile, serverName: configuration.redisTLSServerName,
                insecure: configuration.redisTLSInsecure)
            do {
                poolConfiguration.tls = try TLSContext(configuration: tls)
            } catch {
                throw ConfigurationError(message: "agentstate: invalid Redis TLS configuration: \(error.message)")
            }
            if configuration.redisTLSInsecure {
                logger.warning("--redis-tls-insecure is set: the Redis server's certificate is not verified; anyone on the network path can impersonate it")
            }
        }
        var readinessCheck: (@Sendable () async -> String?)?
        if configuration.redisMode == .sentinel, let master = configuration.redisSentinelMaster {
            var sentinel = SentinelEndpointProvider.Configuration(masterName: master, sentinels: url.endpoints, dataURL: url)
            sentinel.sentinelUsername = configuration.redisSentinelUsername
            sentinel.sentinelPassword = configuration.redisSentinelPassword
            sentinel.tls = poolConfiguration.tls
            let provider = SentinelEndpointProvider(configuration: sentinel) { event in
                switch event {
                case .primaryConfirmed(let primary, let previous) where previous != primary:
                    metrics.redisPrimary.address.withLock { $0 = primary.description }
                    if previous != nil { metrics.redisFailovers.increment() }
                    logger.info("redis primary confirmed", [("primary", .string(primary.description)), ("previous", .string(previous?.description ?? "none"))])
                case .switchAnnounced(let from, let to):
                    logger.warning("sentinel announced +switch-master", [("from", .string(from.description)), ("to", .string(to.description))])
                case .discoveryFailed(let reason):
                    logger.warning("redis primary discovery failed; retrying", [("error", .string(reason))])
                default:
                    break
                }
            }
            poolConfiguration.endpointProvider = provider
            readinessCheck = {
                provider.currentPrimary == nil ? "no Redis primary confirmed by the sentinels (discovering or failing over)" : nil
            }
            // Reconnect quickly once the sentinels have promoted a replica.
            poolConfiguration.reconnectMaxDelay = .milliseconds(500)
        }
        if configuration.redisWaitReplicas > 0 {
            // WAIT answers after at most its timeout; the command timeout must outlast it.
            poolConfiguration.commandTimeout = max(
                poolConfiguration.commandTimeout, .milliseconds(configuration.redisWaitTimeoutMilliseconds) + .seconds(1))
        }
        let observer = RedisMetricsObserver(metrics: metrics, connectionLog: RedisConnectionLog(logger: logger))
        let client: any RedisClient
        let close: @Sendable () async -> Void
        // Plain-TCP connections outside cluster mode move onto the HTTP server's loops once they run.
        var attach: (@Sendable ([any IOReactor]) -> Void)?
        var layout = RedisKeyLayout.standalone
        if configuration.redisMode == .cluster {
            let cluster = RedisClusterClient(
                configuration: RedisClusterClient.Configuration(seeds: url.endpoints, pool: poolConfiguration),
                observer: RedisClusterMetricsObserver(metrics: metrics, logger: logger), poolObserver: observer)
            client = cluster
            close = { await cluster.close() }
            layout = .cluster(buckets: configuration.redisIndexBuckets ?? 16)
            readinessCheck = { await cluster.unavailableReason() }
        } else {
            let pool = RedisConnectionPool(configuration: poolConfiguration, observer: observer)
            client = pool
            close = { await pool.close() }
            if onLoops {
                attach = { pool.attach(reactors: $0) }
            }
        }
        let replicaWait = configuration.redisWaitReplicas > 0
            ? ReplicaWait(replicas: configuration.redisWaitReplicas, timeoutMilliseconds: configuration.redisWaitTimeoutMilliseconds) : nil
        let store = RedisStateStore(
            client: client, keyPrefix: configuration.keyPrefix, configuration: storeConfiguration, layout: layout,
            replicaWait: replicaWait, readinessCheck: readinessCheck
        ) { trigger, pruned in
            metrics.indexPruned.labels(trigger.rawValue).increment(by: Int64(pruned))
        }
        Task {
            do {
                try await store.loadScripts()
            } catch let mismatch as RedisKeyLayout.Mismatch {
                logger.error("redis key layout mismatch; exiting", [("error", .string(mismatch.description))])
                exit(2)
            } catch {
                logger.warning("redis scripts not loaded yet; they load on first use", [("error", .string(String(describing: error)))])
            }
        }
        return (store, close, attach)
    }
}
