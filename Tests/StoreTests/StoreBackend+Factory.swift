import Foundation
import RedisClient
import Store
import Testing
import TestSupport

/// The backends `StateStoreContractTests` runs against, every test once per case.
///
/// A new backend joins the suite with one case here and one branch in `makeStore`; nothing else
/// in the suite knows which backend it is talking to.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `InMemoryStateStore`.
    case memory
    /// `RedisStateStore` on the shared test `redis-server` (`RedisServerProcess.shared()`), its
    /// scripts checking that they touch only the keys they declare (`checksDeclaredKeys`).
    case redis
    /// `RedisStateStore` over mutual TLS on the shared TLS-only test server (`RedisServerProcess.sharedTLS()`).
    case redisTLS
    /// `RedisStateStore` through a pool aimed by `SentinelEndpointProvider` at the shared three-sentinel
    /// topology (`RedisSentinelTopology.shared()`).
    case redisSentinel
    /// `RedisStateStore` in the cluster layout (4 index buckets) through a `RedisClusterClient` on the
    /// shared 3-primary cluster (`RedisClusterProcess.shared()`), its scripts checking that they
    /// touch only the keys they declare (`checksDeclaredKeys`).
    case redisCluster

    /// The backend's name in test output, e.g. `versionStartsAtOneAndGrowsByOne(memory)`.
    var testDescription: String { rawValue }
}

/// Makes a fresh store of `backend` with `configuration`.
///
/// Tests isolate themselves by agent ID (`Fixtures.agentID()`), so a backend may hand out stores
/// that share data (one Redis server, one key prefix) as long as each honours `configuration`.
/// - Throws: whatever setting up the backend throws; a missing backend must fail, never skip.
func makeStore(_ backend: StoreBackend, configuration: StoreConfiguration = .init()) async throws -> any StateStore {
    switch backend {
    case .memory:
        return InMemoryStateStore(configuration: configuration)
    case .redis:
        return try await makeRedisStore(configuration: configuration)
    case .redisTLS:
        let store = RedisStateStore(
            client: try await SharedRedisPool.tlsPool(), keyPrefix: "test:\(UUID().uuidString):", configuration: configuration)
        try await store.loadScripts()
        return store
    case .redisSentinel:
        let store = RedisStateStore(
            client: try await SharedRedisPool.sentinelPool(), keyPrefix: "test:\(UUID().uuidString):", configuration: configuration)
        try await store.loadScripts()
        return store
    case .redisCluster:
        let store = RedisStateStore(
            client: try await SharedRedisPool.clusterClient(), keyPrefix: "test:\(UUID().uuidString):", configuration: configuration,
            layout: .cluster(buckets: 4), checksDeclaredKeys: true)
        try await store.loadScripts()
        return store
    }
}

/// Time as a TTL test moves it, per backend.
///
/// The memory backend runs on a ``ManualClock`` that `pass` advances, so its TTL tests never sleep and
/// cannot be made late by a busy machine. Redis stamps sessions with its own `TIME`, which cannot be
/// injected, so there `pass` really sleeps; tests written against `TestTime` pick TTLs that leave
/// seconds of slack for reads that arrive late.
struct TestTime: Sendable {
    /// Milliseconds since the epoch on the backend's clock.
    let now: @Sendable () -> Int64
    /// Lets at least `duration` pass on the backend's clock.
    let pass: @Sendable (Duration) async throws -> Void
}

/// Makes a fresh store of `backend`, with the `TestTime` that moves its clock.
/// - Throws: whatever setting up the backend throws; a missing backend must fail, never skip.
func makeTimedStore(
    _ backend: StoreBackend, configuration: StoreConfiguration = .init()
) async throws -> (store: any StateStore, time: TestTime) {
    switch backend {
    case .memory:
        let clock = ManualClock(start: WallClock.milliseconds())
        let store = InMemoryStateStore(configuration: configuration, sweepInterval: nil, now: { clock.now() })
        let time = TestTime(now: { clock.now() }, pass: { duration in
            let (seconds, attoseconds) = duration.components
            clock.advance(milliseconds: seconds * 1_000 + attoseconds / 1_000_000_000_000_000)
        })
        return (store, time)
    case .redis, .redisTLS, .redisSentinel, .redisCluster:
        let time = TestTime(now: { WallClock.milliseconds() }, pass: { try await Task.sleep(for: $0) })
        return (try await makeStore(backend, configuration: configuration), time)
    }
}

/// A `RedisStateStore` over the shared test pool, with a key prefix of its own (`test:<uuid>:`)
/// and its scripts loaded, each checking that it touches only the keys it declares
/// (`checksDeclaredKeys`; the TLS and Sentinel backends run the scripts as production does).
/// - Throws: `RedisServerProcess.Failure` (with the install hint) when `redis-server` is missing.
func makeRedisStore(
    configuration: StoreConfiguration = .init(), onIndexPruned: @escaping @Sendable (IndexPruneTrigger, Int) -> Void = { _, _ in }
) async throws -> RedisStateStore {
    let store = RedisStateStore(
        client: try await SharedRedisPool.pool(), keyPrefix: "test:\(UUID().uuidString):",
        configuration: configuration, checksDeclaredKeys: true, onIndexPruned: onIndexPruned
    )
    try await store.loadScripts()
    return store
}

/// One connection pool to the shared test server for the whole test process: every store gets
/// its own key prefix instead of its own connections.
enum SharedRedisPool {
    private static let shared = Task<RedisConnectionPool, any Error> {
        let server = try await RedisServerProcess.shared()
        var configuration = RedisConnectionPool.Configuration(url: try RedisURL(parsing: server.url))
        configuration.commandTimeout = sharedCommandTimeout
        return RedisConnectionPool(configuration: configuration)
    }

    /// The shared clients' command timeout. Every store suite pipelines on their one connection, so under a
    /// busy machine a command can wait behind hundreds of others: the 2 s default then fired now and then
    /// (1 run in 13 of `scripts/test-under-load`), failing every test in flight. No test of the shared pools
    /// waits for a timeout; the timeout tests configure pools of their own.
    static let sharedCommandTimeout: Duration = .seconds(15)

    /// The shared pool, created on first use.
    /// - Throws: `RedisServerProcess.Failure` when the server cannot be started.
    static func pool() async throws -> RedisConnectionPool {
        try await shared.value
    }

    private static let sharedTLS = Task<RedisConnectionPool, any Error> {
        let server = try await RedisServerProcess.sharedTLS()
        let certificates = try await TestCertificates.shared()
        var configuration = RedisConnectionPool.Configuration(url: try RedisURL(parsing: server.url))
        configuration.tls = try TLSContext(configuration: TLSConfiguration(
            caFile: certificates.caFile, certificateFile: certificates.clientCertificateFile, keyFile: certificates.clientKeyFile))
        configuration.commandTimeout = sharedCommandTimeout
        return RedisConnectionPool(configuration: configuration)
    }

    /// One pool over mutual TLS to the shared TLS server, created on first use.
    /// - Throws: `RedisServerProcess.Failure` or `TestCertificates.Failure` when the server cannot be started.
    static func tlsPool() async throws -> RedisConnectionPool {
        try await sharedTLS.value
    }

    private static let sharedSentinel = Task<RedisConnectionPool, any Error> {
        let topology = try await RedisSentinelTopology.shared()
        let sentinels = topology.sentinelPorts.map { RedisEndpoint(host: "127.0.0.1", port: $0) }
        let dataURL = RedisURL(host: "127.0.0.1", port: sentinels[0].port)
        var configuration = RedisConnectionPool.Configuration(url: dataURL)
        configuration.endpointProvider = SentinelEndpointProvider(configuration: .init(
            masterName: RedisSentinelProcess.masterName, sentinels: sentinels, dataURL: dataURL))
        configuration.commandTimeout = sharedCommandTimeout
        return RedisConnectionPool(configuration: configuration)
    }

    private static let sharedCluster = Task<RedisClusterClient, any Error> {
        let cluster = try await RedisClusterProcess.shared()
        let seeds = cluster.nodes.map { RedisEndpoint(host: "127.0.0.1", port: $0.port) }
        var pool = RedisConnectionPool.Configuration(url: try RedisURL(parsing: cluster.nodes[0].url))
        pool.commandTimeout = sharedCommandTimeout
        return RedisClusterClient(configuration: .init(seeds: seeds, pool: pool))
    }

    /// One cluster client for the shared cluster, created on first use.
    /// - Throws: `RedisServerProcess.Failure` when the cluster cannot be started.
    static func clusterClient() async throws -> RedisClusterClient {
        try await sharedCluster.value
    }

    /// One pool to the shared sentinel topology's primary, found through its sentinels, created on first use.
    /// - Throws: `RedisServerProcess.Failure` when the topology cannot be started.
    static func sentinelPool() async throws -> RedisConnectionPool {
        try await sharedSentinel.value
    }
}
