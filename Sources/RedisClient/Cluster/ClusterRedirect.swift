/// A Redis Cluster redirection, parsed from an error reply: `-MOVED <slot> <host>:<port>` or
/// `-ASK <slot> <host>:<port>`.
///
/// `MOVED` means the slot now lives on that node for good (refresh the slot map, then retry there).
/// `ASK` means only this one command goes there, preceded by `ASKING`, without touching the map.
public struct ClusterRedirect: Sendable, Equatable {
    /// Which redirection.
    public enum Kind: String, Sendable {
        case moved
        case ask
    }

    /// `moved` or `ask`.
    public let kind: Kind
    /// The slot of the command's key.
    public let slot: HashSlot
    /// The node that serves it. An empty host (Redis 7's "unknown endpoint") means the host of the
    /// node that sent the redirection.
    public let host: String
    /// The node's port.
    public let port: Int

    /// Parses an error reply's message, as it follows the `-`; `nil` when it is not a redirection.
    public init?(errorMessage message: String) {
        let parts = message.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3 else { return nil }
        switch parts[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        guard let number = Int(parts[1]), let slot = HashSlot(number) else { return nil }
        let endpoint = parts[2]
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(endpoint[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.slot = slot
        self.host = host
        self.port = port
    }
}
