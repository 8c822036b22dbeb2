import Foundation
import HTTPServer
import Telemetry

/// Which `StateStore` backend serves requests.
public enum StoreKind: String, Sendable, CaseIterable {
    case memory, redis
}

/// How the Redis URL's hosts are used (DESIGN §8): one server, or the sentinels of a monitored master.
public enum RedisMode: String, Sendable, CaseIterable {
    case standalone, sentinel, cluster
}

/// The service's whole configuration, from flags, then `AGENTSTATE_*` environment variables
/// (plus `REDIS_URL` and `PORT`), then defaults. See DESIGN §5.
public struct AppConfiguration: Sendable, Equatable {
    public var host = "0.0.0.0"
    public var port = 8080
    public var store: StoreKind = .memory
    /// Only set when the store is Redis. Contains the password: never log it unredacted.
    public var redisURL: String?
    public var keyPrefix = "agentstate:"
    /// Redis connections per replica (`--redis-connections`); every connection pipelines the commands of many
    /// requests. Nil for the default: one per event loop over `redis://` outside cluster mode (those
    /// connections move onto the loops), else 1.
    public var redisConnections: Int?
    /// `--redis-password-file`: where the Redis password was read from, and the password itself
    /// (read at parse time, less one trailing newline). Never log `redisPassword`.
    public var redisPasswordFile: String?
    public var redisPassword: String?
    /// `--redis-mode`; in sentinel mode the URL's hosts are the sentinels of `redisSentinelMaster`.
    public var redisMode: RedisMode = .standalone
    public var redisSentinelMaster: String?
    /// Credentials for the sentinels (the URL's are for the data nodes). Never log the password.
    public var redisSentinelUsername: String?
    public var redisSentinelPassword: String?
    public var redisSentinelPasswordFile: String?
    /// `--redis-command-timeout-ms`: how long a Redis command waits for its reply.
    public var redisCommandTimeoutMilliseconds = 2000
    /// `WAIT` after each mutation: replicas that must acknowledge it (0: none), and how long to wait.
    public var redisWaitReplicas = 0
    /// `--redis-index-buckets`: index buckets per agent in cluster mode (nil: the mode's default,
    /// 16 in cluster mode, 1 otherwise).
    public var redisIndexBuckets: Int?
    public var redisWaitTimeoutMilliseconds = 1000
    /// Secret files read while parsing that users other than the owner and group can read; each is
    /// warned about once the logger exists.
    public var secretFilesReadableByOthers: [String] = []
    /// TLS to Redis (`rediss://`): PEM files, the name to verify, and whether to skip verification.
    public var redisTLSCAFile: String?
    public var redisTLSCertFile: String?
    public var redisTLSKeyFile: String?
    public var redisTLSServerName: String?
    public var redisTLSInsecure = false
    /// `nil` means sessions created without `ttl_seconds` never expire.
    public var defaultTTLSeconds: Int64?
    public var maxTTLSeconds: Int64 = 30 * 86_400
    public var maxBodyBytes = 1 << 20
    public var maxMessages = 100_000
    /// Cap on a session's state bytes plus message bytes.
    public var maxSessionBytes = 64 << 20
    public var maxConnections = 10_000
    /// `--event-loops`: event-loop threads; each owns the connections it is dealt and runs their requests.
    /// By default one per usable core: the CPUs the process may run on, capped by a cgroup CPU quota.
    public var eventLoops = UsableCores.count
    public var shutdownGraceSeconds = 25
    /// The tokens file that turns on bearer-token auth of the API routes (DESIGN §9), or nil.
    public var authTokensFile: String?
    /// The file holding the token `/metrics` requires, or nil for an open `/metrics`.
    public var metricsTokenFile: String?
    public var logLevel: Logger.Level = .info
    public var logFormat: Logger.Format = .json

    public init() {}
}

/// What `agentstate token` was asked for: the tokens-file line's name, access and agent patterns.
public struct TokenRequest: Sendable, Equatable {
    public var name = "client"
    public var access = "write"
    public var agents = "*"
}

/// Why the configuration is invalid; printed as one line before exiting with status 2.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// What the command line asks for.
public enum LaunchCommand: Sendable, Equatable {
    case serve(AppConfiguration)
    /// `agentstate token`: print a new random token and its tokens-file line.
    case token(TokenRequest)
    /// `agentstate check`: verify (and repair) the Redis key layout.
    case check(CheckRequest)
    case help
    case version
}
