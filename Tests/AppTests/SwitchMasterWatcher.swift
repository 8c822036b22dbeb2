import RedisClient
import Synchronization

/// Subscribes to `+switch-master` on every given sentinel and remembers when the first announcement
/// arrived: the instant the issue measures failover recovery from.
final class SwitchMasterWatcher: Sendable {
    private let announced = Announcement()
    private let connections: [RedisConnection]

    private final class Announcement: Sendable {
        let first = Mutex<(at: ContinuousClock.Instant, payload: String)?>(nil)
    }

    /// Subscribes on every sentinel in `ports` (at least one must accept).
    init(sentinelPorts ports: [Int]) async throws {
        let announced = self.announced
        var connections: [RedisConnection] = []
        for port in ports {
            var configuration = RedisConnection.Configuration(url: RedisURL(host: "127.0.0.1", port: port))
            configuration.pushHandler = { message in
                guard let elements = message.array, elements.count == 3, elements[0].string == "message",
                      let payload = elements[2].string else { return }
                let now = ContinuousClock.now
                announced.first.withLock { if $0 == nil { $0 = (now, payload) } }
            }
            guard let connection = try? await RedisConnection.connect(configuration: configuration) else { continue }
            _ = try await connection.send("SUBSCRIBE", "+switch-master")
            connections.append(connection)
        }
        self.connections = connections
        guard !connections.isEmpty else { throw RedisClientError(.connectionFailed, "no sentinel accepted a +switch-master subscription") }
    }

    deinit {
        for connection in connections { connection.close() }
    }

    /// When the first `+switch-master` arrived and what it said (`<name> <old ip> <old port> <new ip> <new port>`), if one has.
    var announcement: (at: ContinuousClock.Instant, payload: String)? {
        announced.first.withLock { $0 }
    }
}
