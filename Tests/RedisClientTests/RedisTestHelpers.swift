import Synchronization
import TestSupport
@testable import RedisClient

/// A key prefix unique to one test, so tests can share one server without `FLUSHALL`.
func uniquePrefix(_ test: String = #function) -> String {
    "test:\(test.prefix(while: { $0 != "(" })):\(UInt64.random(in: 0...UInt64.max)):"
}

/// Sends `count` concurrent SET/GET pairs on `client` and returns how many got a reply that was not theirs.
func concurrentSetGetMismatches(_ client: any RedisClient, count: Int, prefix: String) async throws -> Int {
    try await withThrowingTaskGroup(of: Int.self) { group in
        for index in 0..<count {
            group.addTask {
                let key = "\(prefix)\(index)"
                let set = try await client.send("SET", key, "value-\(index)")
                let get = try await client.send("GET", key)
                return set == .simpleString("OK") && get.string == "value-\(index)" ? 0 : 1
            }
        }
        return try await group.reduce(0, +)
    }
}

extension RedisServerProcess {
    /// The server's URL, parsed, optionally with credentials and a database.
    func redisURL(username: String? = nil, password: String? = nil, database: Int = 0) throws -> RedisURL {
        var url = try RedisURL(parsing: url)
        url.username = username
        url.password = password
        url.database = database
        return url
    }
}

/// An observer that records every callback, for assertions.
final class RecordingObserver: RedisClientObserver {
    struct Snapshot {
        var succeeded = 0
        var failed = 0
        var states: [(connected: Int, connecting: Int)] = []
        var reconnects = 0
    }

    let snapshot = Mutex(Snapshot())

    func commandCompleted(succeeded: Bool, durationSeconds: Double) {
        snapshot.withLock { succeeded ? ($0.succeeded += 1) : ($0.failed += 1) }
    }

    func connectionStateChanged(connected: Int, connecting: Int) {
        snapshot.withLock { $0.states.append((connected, connecting)) }
    }

    func reconnected() {
        snapshot.withLock { $0.reconnects += 1 }
    }
}

/// Retries `body` every 50 ms until it returns true, at most `attempts` times.
func eventually(attempts: Int = 100, _ body: () async -> Bool) async -> Bool {
    for _ in 0..<attempts {
        if await body() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return false
}
