#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RedisClient
import Telemetry

extension AppConfiguration {
    /// One configuration option: its flag, environment variables, help text and how it is applied.
    struct Option: Sendable {
        var flag: String
        var valueName: String
        var help: String
        /// Extra environment variables, consulted after `AGENTSTATE_<FLAG>`.
        var extraEnvironment: [String] = []
        /// A switch: the flag alone means `true` (`--flag=false` and the environment's `true`/`false` work too).
        var isSwitch = false
        var apply: @Sendable (inout AppConfiguration, String) throws(ConfigurationError) -> Void

        /// `--max-body-bytes` → `AGENTSTATE_MAX_BODY_BYTES`.
        var environmentName: String {
            "AGENTSTATE_" + flag.dropFirst(2).uppercased().replacingOccurrences(of: "-", with: "_")
        }
    }

    /// Every option, in `--help` order.
    static let options: [Option] = [
        Option(flag: "--host", valueName: "ADDRESS", help: "Address to listen on, IPv4 or IPv6 (default 0.0.0.0).") { config, value throws(ConfigurationError) in
            guard !value.isEmpty else { throw invalid("--host", value, "must not be empty") }
            config.host = value
        },
        Option(flag: "--port", valueName: "PORT", help: "TCP port to listen on, 0 for any free port (default 8080).", extraEnvironment: ["PORT"]) { config, value throws(ConfigurationError) in
            config.port = Int(try integer("--port", value, in: 0...65_535))
        },
        Option(flag: "--store", valueName: "memory|redis", help: "Storage backend (default: redis when a Redis URL is set, else memory).") { config, value throws(ConfigurationError) in
            guard let kind = StoreKind(rawValue: value) else { throw invalid("--store", value, "must be memory or redis") }
            config.store = kind
        },
        Option(flag: "--redis-url", valueName: "URL", help: "redis://[user[:password]@]host[:port][/db], or rediss:// for TLS (default redis://127.0.0.1:6379 with --store redis).", extraEnvironment: ["REDIS_URL"]) { config, value throws(ConfigurationError) in
            do {
                _ = try RedisURL(parsing: value)
            } catch {
                throw ConfigurationError(message: "agentstate: invalid value for --redis-url: \(error)")
            }
            config.redisURL = value
        },
        Option(flag: "--redis-password-file", valueName: "PATH", help: "File holding the Redis password (less one trailing newline); not with a password in --redis-url.") { config, value throws(ConfigurationError) in
            let file = try readSecret("--redis-password-file", value)
            config.redisPassword = file.content
            if file.isReadableByOthers { config.secretFilesReadableByOthers.append(file.path) }
            config.redisPasswordFile = value
        },
        Option(flag: "--redis-mode", valueName: "standalone|sentinel|cluster", help: "standalone: the URL names one server; sentinel: the URL's hosts are sentinels, asked for --redis-sentinel-master; cluster: the URL's hosts are seed nodes of a Redis Cluster (default standalone).") { config, value throws(ConfigurationError) in
            guard let mode = RedisMode(rawValue: value) else { throw invalid("--redis-mode", value, "must be standalone, sentinel or cluster") }
            config.redisMode = mode
        },
        Option(flag: "--redis-index-buckets", valueName: "COUNT", help: "Cluster mode: buckets each agent's index is split into, each in its own hash slot (default 16; fixed per deployment: it is stored in Redis on first use).") { config, value throws(ConfigurationError) in
            config.redisIndexBuckets = Int(try integer("--redis-index-buckets", value, in: 1...1024))
        },
        Option(flag: "--redis-sentinel-master", valueName: "NAME", help: "The master's name as the sentinels monitor it; required in sentinel mode.") { config, value throws(ConfigurationError) in
            guard !value.isEmpty, value.utf8.count <= 256, !value.contains(where: { $0 == " " || $0.isNewline }) else {
                throw invalid("--redis-sentinel-master", value, "must be a name without spaces, 1-256 bytes")
            }
            config.redisSentinelMaster = value
        },
        Option(flag: "--redis-sentinel-username", valueName: "USER", help: "ACL user for AUTH to the sentinels (the URL's user is for the data nodes).") { config, value throws(ConfigurationError) in
            guard !value.isEmpty else { throw invalid("--redis-sentinel-username", value, "must not be empty") }
            config.redisSentinelUsername = value
        },
        Option(flag: "--redis-sentinel-password", valueName: "PASSWORD", help: "Password for AUTH to the sentinels; prefer --redis-sentinel-password-file.") { config, value throws(ConfigurationError) in
            guard !value.isEmpty else { throw ConfigurationError(message: "agentstate: --redis-sentinel-password must not be empty") }
            if config.redisSentinelPassword != nil { throw sentinelPasswordTwice }
            config.redisSentinelPassword = value
        },
        Option(flag: "--redis-sentinel-password-file", valueName: "PATH", help: "File holding the sentinels' password (less one trailing newline); not with --redis-sentinel-password.") { config, value throws(ConfigurationError) in
            let file = try readSecret("--redis-sentinel-password-file", value)
            if config.redisSentinelPassword != nil { throw sentinelPasswordTwice }
            config.redisSentinelPassword = file.content
            if file.isReadableByOthers { config.secretFilesReadableByOthers.append(file.path) }
            config.redisSentinelPasswordFile = value
        },
        Option(flag: "--redis-command-timeout-ms", valueName: "MS", help: "How long a Redis command may wait for its reply before the request is answered 503 (default 2000).") { config, value throws(ConfigurationError) in
            config.redisCommandTimeoutMilliseconds = Int(try integer("--redis-command-timeout-ms", value, in: 100...60_000))
        },
        Option(flag: "--redis-wait-replicas", valueName: "COUNT", help: "Replicas that must acknowledge each mutation (WAIT on the same connection) before it is answered 2xx; otherwise 503 (default 0: no WAIT).") { config, value throws(ConfigurationError) in
            config.redisWaitReplicas = Int(try integer("--redis-wait-replicas", value, in: 0...16))
        },
        Option(flag: "--redis-wait-timeout-ms", valueName: "MS", help: "How long WAIT waits for --redis-wait-replicas before the write is answered 503 (default 1000).") { config, value throws(ConfigurationError) in
            config.redisWaitTimeoutMilliseconds = Int(try integer("--redis-wait-timeout-ms", value, in: 1...10_000))
        },
        Option(flag: "--redis-tls-ca-file", valueName: "PATH", help: "PEM bundle of the CAs that verify the Redis server, for rediss:// (default: the system trust store).") { config, value throws(ConfigurationError) in
            config.redisTLSCAFile = try readableFile("--redis-tls-ca-file", value)
        },
        Option(flag: "--redis-tls-cert-file", valueName: "PATH", help: "Client certificate (PEM) for mutual TLS with Redis; needs --redis-tls-key-file.") { config, value throws(ConfigurationError) in
            config.redisTLSCertFile = try readableFile("--redis-tls-cert-file", value)
        },
        Option(flag: "--redis-tls-key-file", valueName: "PATH", help: "Private key (PEM, unencrypted) of --redis-tls-cert-file.") { config, value throws(ConfigurationError) in
            config.redisTLSKeyFile = try readableFile("--redis-tls-key-file", value)
        },
        Option(flag: "--redis-tls-server-name", valueName: "NAME", help: "Name for SNI and for verifying the Redis certificate (default: the URL's host).") { config, value throws(ConfigurationError) in
            guard !value.isEmpty, value.utf8.count <= 253, !value.contains(where: { $0 == " " || $0 == "/" }) else {
                throw invalid("--redis-tls-server-name", value, "must be a host name or IP address")
            }
            config.redisTLSServerName = value
        },
        Option(flag: "--redis-tls-insecure", valueName: "", help: "Skip verifying the Redis server's certificate (logged as a warning at startup; never the default).", isSwitch: true) { config, value throws(ConfigurationError) in
            config.redisTLSInsecure = try boolean("--redis-tls-insecure", value)
        },
        Option(flag: "--key-prefix", valueName: "PREFIX", help: "Prefix of every Redis key (default agentstate:).") { config, value throws(ConfigurationError) in
            guard value.utf8.count <= 128 else { throw invalid("--key-prefix", value, "must be at most 128 bytes") }
            config.keyPrefix = value
        },
        Option(flag: "--redis-connections", valueName: "COUNT", help: "Redis connections per replica, each pipelining many requests' commands (default: one per event loop over redis:// outside cluster mode, else 1).") { config, value throws(ConfigurationError) in
            config.redisConnections = Int(try integer("--redis-connections", value, in: 1...64))
        },
        Option(flag: "--default-ttl", valueName: "SECONDS", help: "TTL of sessions created without ttl_seconds; 0 means none (default 0).") { config, value throws(ConfigurationError) in
            let seconds = try integer("--default-ttl", value, in: 0...Int64(Int32.max))
            config.defaultTTLSeconds = seconds == 0 ? nil : seconds
        },
        Option(flag: "--max-ttl", valueName: "SECONDS", help: "Largest ttl_seconds accepted (default 2592000, 30 days).") { config, value throws(ConfigurationError) in
            config.maxTTLSeconds = try integer("--max-ttl", value, in: 1...Int64(Int32.max))
        },
        Option(flag: "--max-body-bytes", valueName: "BYTES", help: "Largest request body accepted (default 1048576).") { config, value throws(ConfigurationError) in
            config.maxBodyBytes = Int(try integer("--max-body-bytes", value, in: 1...(1 << 30)))
        },
        Option(flag: "--max-messages", valueName: "COUNT", help: "Most messages one session may hold (default 100000).") { config, value throws(ConfigurationError) in
            config.maxMessages = Int(try integer("--max-messages", value, in: 1...10_000_000))
        },
        Option(flag: "--max-session-bytes", valueName: "BYTES", help: "Most state plus message bytes one session may hold (default 67108864, 64 MiB).") { config, value throws(ConfigurationError) in
            config.maxSessionBytes = Int(try integer("--max-session-bytes", value, in: 1...(1 << 40)))
        },
        Option(flag: "--max-connections", valueName: "COUNT", help: "Most open client connections; more are closed at once (default 10000).") { config, value throws(ConfigurationError) in
            config.maxConnections = Int(try integer("--max-connections", value, in: 1...1_000_000))
        },
        Option(flag: "--event-loops", valueName: "COUNT", help: "Event-loop threads; each serves the connections it is dealt and runs their requests (default: one per usable core: the CPUs the process may run on, capped by a cgroup CPU quota).") { config, value throws(ConfigurationError) in
            config.eventLoops = Int(try integer("--event-loops", value, in: 1...64))
        },
        Option(flag: "--shutdown-grace", valueName: "SECONDS", help: "How long in-flight requests may take after SIGTERM/SIGINT (default 25).") { config, value throws(ConfigurationError) in
            config.shutdownGraceSeconds = Int(try integer("--shutdown-grace", value, in: 0...3600))
        },
        Option(flag: "--auth-tokens-file", valueName: "PATH", help: "Bearer tokens (name, SHA-256 digest, read|write, agent patterns) required on the API routes; reloaded on SIGHUP (default: none, no auth).") { config, value throws(ConfigurationError) in
            guard !value.isEmpty else { throw invalid("--auth-tokens-file", value, "must not be empty") }
            config.authTokensFile = value
        },
        Option(flag: "--metrics-token-file", valueName: "PATH", help: "File holding the bearer token that /metrics then requires (default: none, /metrics open).") { config, value throws(ConfigurationError) in
            guard !value.isEmpty else { throw invalid("--metrics-token-file", value, "must not be empty") }
            config.metricsTokenFile = value
        },
        Option(flag: "--log-level", valueName: "LEVEL", help: "debug, info, warning or error (default info). Request lines are logged at info.") { config, value throws(ConfigurationError) in
            guard let level = Logger.Level(rawValue: value) else { throw invalid("--log-level", value, "must be debug, info, warning or error") }
            config.logLevel = level
        },
        Option(flag: "--log-format", valueName: "json|text", help: "Log line format (default json).") { config, value throws(ConfigurationError) in
            guard let format = Logger.Format(rawValue: value) else { throw invalid("--log-format", value, "must be json or text") }
            config.logFormat = format
        },
    ]

    /// Parses the command line and environment.
    /// - Parameters:
    ///   - arguments: the arguments after the program name.
    ///   - environment: the process environment.
    /// - Throws: `ConfigurationError` with a one-line message for anything invalid.
    public static func parse(arguments: [String], environment: [String: String]) throws(ConfigurationError) -> LaunchCommand {
        if arguments.first == "token" { return try parseToken(Array(arguments.dropFirst())) }
        if arguments.first == "check" {
            let rest = Array(arguments.dropFirst())
            if rest.contains("--help") || rest.contains("-h") { return .help }
            return .check(try CheckRequest.parse(rest, environment: environment))
        }
        var fromFlags: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" { return .help }
            if argument == "--version" { return .version }
            var name = argument
            var value: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard let option = options.first(where: { $0.flag == name }) else {
                throw ConfigurationError(message: "agentstate: unknown option '\(name.prefix(64))' (see --help)")
            }
            if value == nil && option.isSwitch {
                value = "true"
            } else if value == nil {
                guard index < arguments.count else { throw ConfigurationError(message: "agentstate: option \(name) needs a value") }
                value = arguments[index]
                index += 1
            }
            fromFlags[name] = value
        }

        var config = AppConfiguration()
        for option in options {
            let sources = [fromFlags[option.flag], environment[option.environmentName]] + option.extraEnvironment.map { environment[$0] }
            if let value = sources.compactMap({ $0 }).first {
                try option.apply(&config, value)
            }
        }
        let storeChosen = fromFlags["--store"] ?? environment["AGENTSTATE_STORE"]
        if storeChosen == nil, config.redisURL != nil { config.store = .redis }
        switch config.store {
        case .redis where config.redisURL == nil: config.redisURL = "redis://127.0.0.1:6379"
        case .memory: config.redisURL = nil
        default: break
        }
        try validateRedisSecurity(config)
        try validateRedisMode(config)
        if let ttl = config.defaultTTLSeconds, ttl > config.maxTTLSeconds {
            throw ConfigurationError(message: "agentstate: --default-ttl (\(ttl)) must not exceed --max-ttl (\(config.maxTTLSeconds))")
        }
        return .serve(config)
    }

    /// `agentstate token [--name NAME] [--access read|write] [--agents PATTERNS]`.
    private static func parseToken(_ arguments: [String]) throws(ConfigurationError) -> LaunchCommand {
        var request = TokenRequest()
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            if flag == "--help" || flag == "-h" { return .help }
            guard ["--name", "--access", "--agents"].contains(flag) else {
                throw ConfigurationError(message: "agentstate token: unknown option '\(flag.prefix(64))' (see --help)")
            }
            guard index + 1 < arguments.count else { throw ConfigurationError(message: "agentstate token: option \(flag) needs a value") }
            let value = arguments[index + 1]
            index += 2
            switch flag {
            case "--name": request.name = value
            case "--access": request.access = value
            default: request.agents = value
            }
        }
        // The line it prints must be one the tokens file accepts.
        let probe = "\(request.name) \(String(repeating: "0", count: 64)) \(request.access) \(request.agents)"
        do {
            _ = try TokenFile.parse(probe)
        } catch {
            throw ConfigurationError(message: "agentstate token: \(error.reason)")
        }
        return .token(request)
    }

    /// The `--help` text.
    public static var helpText: String {
        var lines = [
            "agentstate: a state store for AI agents, over HTTP/JSON.",
            "",
            "Usage: agentstate [options]",
            "",
            "Options (each also read from the environment variable shown; flags win):",
        ]
        for option in options {
            let environment = ([option.environmentName] + option.extraEnvironment).joined(separator: ", ")
            lines.append(option.valueName.isEmpty ? "  \(option.flag)" : "  \(option.flag) \(option.valueName)")
            lines.append("      \(option.help) [env: \(environment)]")
        }
        lines.append("  --help      Print this help and exit.")
        lines.append("")
        lines.append("Usage: agentstate token [--name NAME] [--access read|write] [--agents PATTERN[,PATTERN...]]")
        lines.append("  Prints a new random 256-bit bearer token and the --auth-tokens-file line for it")
        lines.append("  (defaults: --name client --access write --agents '*').")
        lines.append("  --version   Print the version and exit.")
        lines.append("")
        lines += CheckRequest.helpLines
        return lines.joined(separator: "\n") + "\n"
    }

    private static func invalid(_ flag: String, _ value: String, _ rule: String) -> ConfigurationError {
        ConfigurationError(message: "agentstate: invalid value '\(value.prefix(64))' for \(flag): \(rule)")
    }

    private static func boolean(_ flag: String, _ value: String) throws(ConfigurationError) -> Bool {
        switch value.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw invalid(flag, value, "must be true or false")
        }
    }

    /// Checks that `path` can be opened for reading. - Returns: `path`.
    private static func readableFile(_ flag: String, _ path: String) throws(ConfigurationError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigurationError(message: "agentstate: cannot read \(flag) '\(path.prefix(256))': \(String(cString: strerror(errno)))")
        }
        close(fd)
        return path
    }

    /// Reads a secret file: its content less one trailing `\n` or `\r\n`. Errors never contain the content.
    static func readSecret(_ flag: String, _ path: String) throws(ConfigurationError) -> SecretFile {
        let file = try SecretFile(path: path, flag: flag)
        guard !file.content.isEmpty else {
            throw ConfigurationError(message: "agentstate: \(flag) '\(path.prefix(256))' is empty")
        }
        return file
    }

    private static let sentinelPasswordTwice = ConfigurationError(
        message: "agentstate: the sentinel password is set both in --redis-sentinel-password and in --redis-sentinel-password-file; set it in one place")

    /// The mode agrees with the URL's hosts and the sentinel options.
    private static func validateRedisMode(_ config: AppConfiguration) throws(ConfigurationError) {
        guard let redisURL = config.redisURL, let url = try? RedisURL(parsing: redisURL) else { return }
        if config.redisMode != .cluster, let buckets = config.redisIndexBuckets, buckets != 1 {
            throw ConfigurationError(message: "agentstate: --redis-index-buckets \(buckets) needs --redis-mode cluster (other modes keep one index per agent)")
        }
        switch config.redisMode {
        case .sentinel:
            guard config.redisSentinelMaster != nil else {
                throw ConfigurationError(message: "agentstate: --redis-mode sentinel needs --redis-sentinel-master NAME")
            }
        case .cluster:
            if url.database != 0 {
                throw ConfigurationError(message: "agentstate: --redis-mode cluster takes database 0 only; --redis-url names database \(url.database)")
            }
            if config.keyPrefix.contains("{") || config.keyPrefix.contains("}") {
                throw ConfigurationError(message: "agentstate: --key-prefix must not contain '{' or '}' in cluster mode (the keys' hash tags are agentstate's own)")
            }
            if config.redisWaitReplicas > 0 {
                throw ConfigurationError(message: "agentstate: --redis-wait-replicas is not supported in cluster mode yet")
            }
            if config.redisSentinelMaster != nil || config.redisSentinelUsername != nil || config.redisSentinelPassword != nil {
                throw ConfigurationError(message: "agentstate: the --redis-sentinel-* options need --redis-mode sentinel")
            }
        default:
            if !url.additionalHosts.isEmpty {
                throw ConfigurationError(message: "agentstate: --redis-url names \(url.endpoints.count) hosts, but --redis-mode standalone takes one (use --redis-mode sentinel for sentinels)")
            }
            let sentinelOptions = [
                ("--redis-sentinel-master", config.redisSentinelMaster != nil), ("--redis-sentinel-username", config.redisSentinelUsername != nil),
                ("--redis-sentinel-password", config.redisSentinelPassword != nil && config.redisSentinelPasswordFile == nil),
                ("--redis-sentinel-password-file", config.redisSentinelPasswordFile != nil),
            ]
            if let (flag, _) = sentinelOptions.first(where: { $0.1 }) {
                throw ConfigurationError(message: "agentstate: \(flag) needs --redis-mode sentinel")
            }
        }
    }

    /// The password and TLS options agree with each other and with the URL.
    private static func validateRedisSecurity(_ config: AppConfiguration) throws(ConfigurationError) {
        guard let redisURL = config.redisURL, let url = try? RedisURL(parsing: redisURL) else { return }
        if config.redisPassword != nil && url.password != nil {
            throw ConfigurationError(message: "agentstate: the Redis password is set both in --redis-url and in --redis-password-file; set it in one place")
        }
        let tlsOptions = [
            ("--redis-tls-ca-file", config.redisTLSCAFile != nil), ("--redis-tls-cert-file", config.redisTLSCertFile != nil),
            ("--redis-tls-key-file", config.redisTLSKeyFile != nil), ("--redis-tls-server-name", config.redisTLSServerName != nil),
            ("--redis-tls-insecure", config.redisTLSInsecure),
        ]
        if url.scheme == .redis, let (flag, _) = tlsOptions.first(where: { $0.1 }) {
            throw ConfigurationError(message: "agentstate: \(flag) needs a rediss:// --redis-url (TLS)")
        }
        if (config.redisTLSCertFile == nil) != (config.redisTLSKeyFile == nil) {
            throw ConfigurationError(message: "agentstate: --redis-tls-cert-file and --redis-tls-key-file must be given together")
        }
    }

    private static func integer(_ flag: String, _ value: String, in range: ClosedRange<Int64>) throws(ConfigurationError) -> Int64 {
        guard let number = Int64(value), range.contains(number) else {
            throw invalid(flag, value, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// The configuration as log metadata, with the Redis password redacted.
    var logMetadata: [(String, LogValue)] {
        var metadata: [(String, LogValue)] = [
            ("host", .string(host)), ("port", .int(Int64(port))), ("store", .string(store.rawValue)),
        ]
        if let redisURL {
            metadata.append(("redis_url", .string((try? RedisURL(parsing: redisURL))?.description ?? "<invalid>")))
            metadata.append(("key_prefix", .string(keyPrefix)))
            metadata.append(("redis_connections", redisConnections.map { .int(Int64($0)) } ?? .string("default")))
            if let redisPasswordFile { metadata.append(("redis_password_file", .string(redisPasswordFile))) }
            metadata.append(("redis_mode", .string(redisMode.rawValue)))
            metadata.append(("redis_command_timeout_ms", .int(Int64(redisCommandTimeoutMilliseconds))))
            if let redisSentinelMaster { metadata.append(("redis_sentinel_master", .string(redisSentinelMaster))) }
            if let redisSentinelPasswordFile { metadata.append(("redis_sentinel_password_file", .string(redisSentinelPasswordFile))) }
            if redisWaitReplicas > 0 {
                metadata.append(("redis_wait_replicas", .int(Int64(redisWaitReplicas))))
                metadata.append(("redis_wait_timeout_ms", .int(Int64(redisWaitTimeoutMilliseconds))))
            }
            if redisURL.lowercased().hasPrefix("rediss://") {
                metadata.append(("redis_tls_ca_file", .string(redisTLSCAFile ?? "<system trust store>")))
                if let redisTLSCertFile { metadata.append(("redis_tls_cert_file", .string(redisTLSCertFile))) }
                if let redisTLSServerName { metadata.append(("redis_tls_server_name", .string(redisTLSServerName))) }
                metadata.append(("redis_tls_insecure", .bool(redisTLSInsecure)))
            }
        }
        metadata += [
            ("default_ttl", .int(defaultTTLSeconds ?? 0)), ("max_ttl", .int(maxTTLSeconds)),
            ("max_body_bytes", .int(Int64(maxBodyBytes))), ("max_messages", .int(Int64(maxMessages))),
            ("max_session_bytes", .int(Int64(maxSessionBytes))),
            ("max_connections", .int(Int64(maxConnections))), ("event_loops", .int(Int64(eventLoops))),
            ("shutdown_grace", .int(Int64(shutdownGraceSeconds))),
            ("auth", .string(authTokensFile == nil ? "off" : "bearer")), ("metrics_auth", .string(metricsTokenFile == nil ? "off" : "bearer")),
            ("log_level", .string(logLevel.rawValue)), ("log_format", .string(logFormat.rawValue)),
        ]
        return metadata
    }
}
