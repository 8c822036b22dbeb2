/// How `RedisStateStore` names an agent's keys: the standalone layout of DESIGN §4, or the cluster
/// layout of DESIGN §8, where the agent's index is split into buckets and each bucket is
/// hash-tagged together with its sessions' keys, so that every script runs in one slot.
///
/// | Layout | Agent part of every key | Example record key |
/// |---|---|---|
/// | standalone | `<agent>` | `agentstate:support-bot:user-42` |
/// | cluster, 1 bucket | `{<agent>}` | `agentstate:{support-bot}:user-42` |
/// | cluster, N buckets | `{<agent>#<bucket>}` | `agentstate:{support-bot#7}:user-42` |
///
/// A session's bucket is FNV-1a (32-bit) of its ID modulo the bucket count, so it never changes
/// while the count stays the same (the count is checked against the one stored in Redis at startup).
/// Agent and session IDs never contain `{`, `}`, `#` or `:`, so keys stay unambiguous.
public struct RedisKeyLayout: Sendable, Hashable {
    /// Index buckets per agent: 1 in the standalone layout.
    public let buckets: Int
    /// Whether the agent part is hash-tagged (cluster mode).
    public let hashTagged: Bool

    /// DESIGN §4's layout, unchanged.
    public static let standalone = RedisKeyLayout(buckets: 1, hashTagged: false)

    /// The cluster layout with `buckets` buckets (1–1024).
    public static func cluster(buckets: Int) -> RedisKeyLayout {
        RedisKeyLayout(buckets: max(1, min(buckets, 1024)), hashTagged: true)
    }

    private init(buckets: Int, hashTagged: Bool) {
        self.buckets = buckets
        self.hashTagged = hashTagged
    }

    /// The bucket count stored in Redis differs from the configured one.
    public struct Mismatch: Error, Sendable, CustomStringConvertible {
        public let stored: String
        public let configured: Int
        public let key: String
        public var description: String {
            "this deployment's keys use \(stored) index buckets (\(key)), not --redis-index-buckets \(configured); changing it would orphan sessions"
        }
    }

    /// The bucket of `sessionID`.
    public func bucket(of sessionID: String) -> Int {
        guard buckets > 1 else { return 0 }
        var hash: UInt32 = 0x811C_9DC5
        for byte in sessionID.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return Int(hash % UInt32(buckets))
    }

    /// The agent part of the keys of `bucket`.
    public func agentPart(_ agentID: String, bucket: Int) -> String {
        guard hashTagged else { return agentID }
        return buckets == 1 ? "{\(agentID)}" : "{\(agentID)#\(bucket)}"
    }
}
