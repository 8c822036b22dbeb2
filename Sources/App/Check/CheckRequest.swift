import Store

/// `agentstate check`: what to verify, parsed from its command line (`CheckRequest.parse`).
public struct CheckRequest: Sendable, Equatable {
    /// `--redis-url` (or `AGENTSTATE_REDIS_URL`); the service's default when absent.
    public var redisURL = "redis://127.0.0.1:6379"
    /// `--redis-mode`: only `standalone` is supported by check today.
    public var redisMode = "standalone"
    /// `--key-prefix` (or `AGENTSTATE_KEY_PREFIX`).
    public var keyPrefix = "agentstate:"
    /// `--redis-tls-ca-file` for `rediss://` (default: the system trust store).
    public var tlsCAFile: String?
    /// `--agent`: only this agent.
    public var agentID: String?
    /// `--repair`: fix what is safely fixable, each fix one atomic script.
    public var repair = false
    /// `--json`: one JSON object per line instead of text.
    public var json = false
    /// `--max-ops-per-second`: Redis commands per second at most; 0 means no limit.
    public var maxOpsPerSecond = 1_000

    public init() {}

    /// The `check` lines of `--help`.
    static let helpLines = [
        "Usage: agentstate check [--redis-url URL] [--redis-mode standalone] [--key-prefix P] [--agent A]",
        "                        [--repair] [--json] [--max-ops-per-second N] [--redis-tls-ca-file PATH]",
        "  Verifies the Redis key layout with SCAN (index entries, records, expiry sets, message counts,",
        "  key expiries, index TTLs, idempotency records); prints one line per violation and a summary.",
        "  Exits 0 when nothing is wrong (or, with --repair, everything found was repaired), 1 otherwise,",
        "  2 for invalid options. Defaults: --redis-url/--key-prefix from AGENTSTATE_REDIS_URL and",
        "  AGENTSTATE_KEY_PREFIX, else the service defaults; --max-ops-per-second 1000 (0: no limit).",
    ]

    /// Parses the arguments after `check`.
    /// - Throws: `ConfigurationError` (exit 2) for an unknown option, a missing or invalid value.
    static func parse(_ arguments: [String], environment: [String: String]) throws(ConfigurationError) -> CheckRequest {
        func fail(_ text: String) -> ConfigurationError { ConfigurationError(message: "agentstate check: \(text)") }
        var request = CheckRequest()
        if let url = environment["AGENTSTATE_REDIS_URL"] { request.redisURL = url }
        if let prefix = environment["AGENTSTATE_KEY_PREFIX"] { request.keyPrefix = prefix }
        var index = 0
        while index < arguments.count {
            var flag = arguments[index]
            var value: String?
            if let equals = flag.firstIndex(of: "=") {
                value = String(flag[flag.index(after: equals)...])
                flag = String(flag[..<equals])
            }
            index += 1
            switch flag {
            case "--repair": request.repair = true; continue
            case "--json": request.json = true; continue
            case "--redis-url", "--redis-mode", "--key-prefix", "--agent", "--max-ops-per-second", "--redis-tls-ca-file": break
            default: throw fail("unknown option '\(flag.prefix(64))' (see --help)")
            }
            if value == nil {
                guard index < arguments.count else { throw fail("option \(flag) needs a value") }
                value = arguments[index]
                index += 1
            }
            let text = value!
            switch flag {
            case "--redis-url": request.redisURL = text
            case "--redis-mode":
                guard text == "standalone" else {
                    throw fail(["sentinel", "cluster"].contains(text)
                        ? "--redis-mode \(text) is not supported by check yet; point --redis-url at the primary"
                        : "invalid value '\(text.prefix(64))' for --redis-mode: must be standalone")
                }
                request.redisMode = text
            case "--key-prefix": request.keyPrefix = text
            case "--redis-tls-ca-file": request.tlsCAFile = text
            case "--agent":
                guard SessionID.isValid(text.utf8) else { throw fail("invalid value '\(text.prefix(64))' for --agent: not a valid agent ID") }
                request.agentID = text
            default:
                guard let number = Int(text), number >= 0 else {
                    throw fail("invalid value '\(text.prefix(64))' for --max-ops-per-second: must be an integer >= 0")
                }
                request.maxOpsPerSecond = number
            }
        }
        return request
    }
}
