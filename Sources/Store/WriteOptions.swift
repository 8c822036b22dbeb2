/// How a write changes the session's time-to-live policy.
public enum TTLChange: Sendable, Hashable {
    /// `ttl_seconds` left out: an existing session keeps its policy; a new one gets the store's default TTL.
    case keep
    /// `ttl_seconds: null`: the session never expires.
    case persist
    /// `ttl_seconds: n`: expire `n` seconds after this write (and after later writes).
    case seconds(Int64)
}

/// Options shared by the mutations that can create a session (save and append).
public struct WriteOptions: Sendable, Hashable {
    /// How the write changes the TTL policy.
    public var ttl: TTLChange
    /// `nil` when `sliding_ttl` was left out: existing sessions keep theirs, new ones get `false`.
    public var slidingTTL: Bool?
    /// Checked atomically with the write.
    public var precondition: Precondition
    /// `nil` when `labels` was left out (the session keeps its labels; a new one has none), else
    /// the whole new set (`[:]` clears it). Validated by the caller (`LabelRules`).
    public var labels: SessionLabels?

    /// Options for an unconditional write that keeps the TTL policy and labels, unless told otherwise.
    public init(ttl: TTLChange = .keep, slidingTTL: Bool? = nil, precondition: Precondition = .none, labels: SessionLabels? = nil) {
        self.ttl = ttl
        self.slidingTTL = slidingTTL
        self.precondition = precondition
        self.labels = labels
    }
}

/// An `Idempotency-Key` with the digest of the request body it came with.
public struct IdempotencyToken: Sendable, Hashable {
    /// 1–128 visible ASCII characters, validated by the HTTP layer.
    public var key: String
    /// A digest of the exact request body bytes (SHA-256, lowercase hex).
    public var bodyDigest: String

    /// Creates a token from a validated key and its body's digest.
    public init(key: String, bodyDigest: String) {
        self.key = key
        self.bodyDigest = bodyDigest
    }
}

/// Limits and defaults every backend applies identically.
public struct StoreConfiguration: Sendable, Hashable {
    /// A session holds at most this many messages (`--max-messages`).
    public var maxMessages: Int
    /// TTL for sessions created without `ttl_seconds`; `nil` means they never expire (`--default-ttl`).
    public var defaultTTLSeconds: Int64?
    /// Idempotency records live as long as their session, and at most this long.
    public var idempotencyTTLSeconds: Int64
    /// A session's state bytes plus message bytes stay at or below this (`--max-session-bytes`).
    public var maxSessionBytes: Int

    /// The default `--max-session-bytes`: 64 MiB.
    public static let defaultMaxSessionBytes = 64 << 20

    /// Creates a configuration; the defaults match the documented flag defaults.
    public init(
        maxMessages: Int = 100_000, defaultTTLSeconds: Int64? = nil, idempotencyTTLSeconds: Int64 = 86_400,
        maxSessionBytes: Int = StoreConfiguration.defaultMaxSessionBytes
    ) {
        self.maxMessages = maxMessages
        self.defaultTTLSeconds = defaultTTLSeconds
        self.idempotencyTTLSeconds = idempotencyTTLSeconds
        self.maxSessionBytes = maxSessionBytes
    }
}
