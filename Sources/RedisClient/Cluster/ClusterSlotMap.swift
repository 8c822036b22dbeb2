/// Which primary serves each of the 16,384 hash slots, from `CLUSTER SHARDS` (Redis 7) or
/// `CLUSTER SLOTS` (Redis 6.2).
///
/// A slot no primary serves maps to `nil`; ``isComplete`` is then false and readiness is 503.
public struct ClusterSlotMap: Sendable, Equatable {
    /// The primary of each slot, indexed by slot number.
    private var owners: [RedisEndpoint?]

    /// An empty map: no slot is served.
    public init() {
        owners = Array(repeating: nil, count: HashSlot.count)
    }

    /// The primary serving `slot`, or `nil` when none does.
    public func primary(for slot: HashSlot) -> RedisEndpoint? { owners[slot.value] }

    /// Makes `node` the primary of `slot` (after a `MOVED`).
    public mutating func assign(_ slot: HashSlot, to node: RedisEndpoint) { owners[slot.value] = node }

    /// Whether every slot has a primary.
    public var isComplete: Bool { !owners.contains(nil) }

    /// The slots without a primary.
    public var uncoveredSlotCount: Int { owners.reduce(0) { $0 + ($1 == nil ? 1 : 0) } }

    /// Every distinct primary, in slot order of first appearance.
    public var primaries: [RedisEndpoint] {
        var seen = Set<RedisEndpoint>()
        return owners.compactMap { node in
            guard let node, seen.insert(node).inserted else { return nil }
            return node
        }
    }

    /// Parses a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], replica…], …]`.
    /// - Parameter defaultHost: The host of the node asked, for entries whose host is empty or `?`
    ///   (Redis announces an unknown endpoint that way).
    /// - Returns: `nil` when the reply does not have that shape.
    public init?(slotsReply reply: RESPValue, defaultHost: String) {
        guard let ranges = reply.array else { return nil }
        self.init()
        for range in ranges {
            guard let fields = range.array, fields.count >= 3,
                  let start = fields[0].int, let end = fields[1].int,
                  let primary = fields[2].array, primary.count >= 2,
                  let port = primary[1].int,
                  let node = Self.node(host: primary[0].string, port: port, defaultHost: defaultHost),
                  let first = HashSlot(Int(start)), let last = HashSlot(Int(end)), first <= last
            else { return nil }
            for slot in first.value...last.value { owners[slot] = node }
        }
    }

    /// Parses a `CLUSTER SHARDS` reply: each shard a flat key-value array with `slots`
    /// (`[start, end, start, end, …]`) and `nodes` (each a flat key-value array with `ip`, `endpoint`,
    /// `port` or `tls-port`, `role` and `health`). The shard's primary is the node whose role is
    /// `master` and whose health is `online`.
    /// - Parameter tls: Whether to take each node's `tls-port` rather than its `port`.
    /// - Returns: `nil` when the reply does not have that shape.
    public init?(shardsReply reply: RESPValue, defaultHost: String, tls: Bool = false) {
        guard let shards = reply.array else { return nil }
        self.init()
        for shard in shards {
            guard let fields = Self.fields(shard), let slots = fields["slots"]?.array,
                  let nodes = fields["nodes"]?.array, slots.count % 2 == 0 else { return nil }
            var primary: RedisEndpoint?
            for value in nodes {
                guard let node = Self.fields(value) else { return nil }
                guard node["role"]?.string == "master", node["health"]?.string ?? "online" == "online" else { continue }
                let port = (tls ? node["tls-port"] : node["port"])?.int
                let endpoint = node["endpoint"]?.string
                let host = (endpoint == nil || endpoint == "?" || endpoint == "") ? node["ip"]?.string : endpoint
                if let port, let found = Self.node(host: host, port: port, defaultHost: defaultHost) { primary = found }
            }
            guard let primary else { continue }
            for index in stride(from: 0, to: slots.count, by: 2) {
                guard let start = slots[index].int, let end = slots[index + 1].int,
                      let first = HashSlot(Int(start)), let last = HashSlot(Int(end)), first <= last else { return nil }
                for slot in first.value...last.value { owners[slot] = primary }
            }
        }
    }

    private static func node(host: String?, port: Int64, defaultHost: String) -> RedisEndpoint? {
        guard (1...65535).contains(port) else { return nil }
        let name = (host == nil || host == "" || host == "?") ? defaultHost : host!
        return RedisEndpoint(host: name, port: Int(port))
    }

    /// A flat `[key, value, key, value, …]` array as a dictionary (RESP2's rendering of a map).
    private static func fields(_ value: RESPValue) -> [String: RESPValue]? {
        guard let items = value.array, items.count % 2 == 0 else { return nil }
        var result: [String: RESPValue] = [:]
        for index in stride(from: 0, to: items.count, by: 2) {
            guard let key = items[index].string else { return nil }
            result[key] = items[index + 1]
        }
        return result
    }
}
