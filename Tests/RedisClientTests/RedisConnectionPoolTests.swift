import Synchronization
import Testing
import TestSupport
@testable import RedisClient

@Suite(.offCooperativePool)
struct RedisConnectionPoolTests {
    private static func configuration(_ url: RedisURL, count: Int = 2) -> RedisConnectionPool.Configuration {
        var configuration = RedisConnectionPool.Configuration(url: url)
        configuration.connectionCount = count
        configuration.connectTimeout = .milliseconds(500)
        configuration.commandTimeout = .seconds(1)
        configuration.reconnectBaseDelay = .milliseconds(20)
        configuration.reconnectMaxDelay = .milliseconds(300)
        return configuration
    }

    @Test func sendsConcurrentCommandsOverAllConnections() async throws {
        let server = try await RedisServerProcess.shared()
        let observer = RecordingObserver()
        let pool = RedisConnectionPool(configuration: Self.configuration(try server.redisURL(), count: 3), observer: observer)
        let prefix = uniquePrefix()
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<500 {
                group.addTask {
                    _ = try await pool.send("SET", "\(prefix)\(index)", "\(index)")
                    return try await pool.send("GET", "\(prefix)\(index)").string == "\(index)" ? 0 : 1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 0)
        #expect(await eventually { pool.connectedCount == 3 })
        #expect(try await pool.send("CLIENT", "LIST").string?.split(separator: "\n").count ?? 0 >= 3)
        await pool.close()
        let snapshot = observer.snapshot.withLock { $0 }
        #expect(snapshot.succeeded == 1_001)
        #expect(snapshot.failed == 0)
        #expect(snapshot.states.contains { $0.connected == 3 && $0.connecting == 0 })
        #expect(snapshot.states.last.map { $0.connected == 0 && $0.connecting == 0 } == true)
    }

    @Test func errorRepliesAreThrownAndObservedAsFailures() async throws {
        let server = try await RedisServerProcess.shared()
        let observer = RecordingObserver()
        let pool = RedisConnectionPool(configuration: Self.configuration(try server.redisURL()), observer: observer)
        await #expect {
            _ = try await pool.send("EVALSHA", String(repeating: "f", count: 40), "0")
        } throws: { error in
            (error as? RedisError)?.code == "NOSCRIPT"
        }
        #expect(try await pool.send("PING") == .simpleString("PONG"))
        await pool.close()
        #expect(observer.snapshot.withLock { ($0.succeeded, $0.failed) } == (1, 1))
    }

    @Test func closedPoolFailsWithPoolClosed() async throws {
        let server = try await RedisServerProcess.shared()
        let pool = RedisConnectionPool(configuration: Self.configuration(try server.redisURL()))
        #expect(try await pool.send("PING") == .simpleString("PONG"))
        await pool.close()
        await #expect {
            _ = try await pool.send("PING")
        } throws: { error in
            (error as? RedisClientError)?.code == .poolClosed
        }
    }

    @Test func unreachableServerFailsFastWithAConnectivityError() async throws {
        let port = try FreePort.allocate()
        let pool = RedisConnectionPool(configuration: Self.configuration(RedisURL(host: "127.0.0.1", port: port)))
        for _ in 0..<3 {
            await #expect {
                _ = try await pool.send("PING")
            } throws: { error in
                let error = error as? RedisClientError
                return error?.code == .connectionFailed && error?.isConnectivity == true
            }
        }
        await pool.close()
    }

    @Test func wrongPasswordSurfacesAsAuthenticationFailed() async throws {
        let server = try await RedisServerProcess(arguments: ["--requirepass", "right"])
        let pool = RedisConnectionPool(configuration: Self.configuration(try server.redisURL(password: "wrong-hunter2")))
        await #expect {
            _ = try await pool.send("PING")
        } throws: { error in
            let error = error as? RedisClientError
            return error?.code == .authenticationFailed && error?.description.contains("hunter2") == false
        }
        await pool.close()
    }

    @Test func recoversByItselfWhenTheServerRestarts() async throws {
        let server = try await RedisServerProcess()
        let observer = RecordingObserver()
        let pool = RedisConnectionPool(configuration: Self.configuration(try server.redisURL()), observer: observer)
        #expect(try await pool.send("PING") == .simpleString("PONG"))
        #expect(await eventually { pool.connectedCount == 2 })

        await server.stop()
        #expect(await eventually(attempts: 40) {
            do {
                _ = try await pool.send("PING")
                return false
            } catch {
                return (error as? RedisClientError)?.isConnectivity == true
            }
        })

        try await server.restart()
        #expect(await eventually(attempts: 100) { (try? await pool.send("PING")) == .simpleString("PONG") })
        #expect(await eventually { pool.connectedCount == 2 })
        #expect(observer.snapshot.withLock { $0.reconnects } >= 1)
        await pool.close()
    }

    @Test func timedOutConnectionIsReplaced() async throws {
        let server = try await RedisServerProcess()
        var configuration = Self.configuration(try server.redisURL(), count: 1)
        configuration.commandTimeout = .milliseconds(200)
        let pool = RedisConnectionPool(configuration: configuration)
        let admin = try await RedisConnection.connect(to: try server.redisURL())
        defer { admin.close() }
        #expect(try await pool.send("PING") == .simpleString("PONG"))
        // The pause is far longer than the timeout, so a loaded machine cannot let the GET slip through.
        _ = try await admin.send("CLIENT", "PAUSE", "3000")
        await #expect {
            _ = try await pool.send("GET", "k")
        } throws: { error in
            (error as? RedisClientError)?.code == .timeout
        }
        #expect(await eventually(attempts: 200) { (try? await pool.send("PING")) == .simpleString("PONG") })
        await pool.close()
    }

    @Test func reconnectDelayGrowsExponentiallyWithJitterUpToTheMaximum() {
        var configuration = RedisConnectionPool.Configuration(url: RedisURL(host: "h"))
        configuration.reconnectBaseDelay = .milliseconds(100)
        configuration.reconnectMaxDelay = .seconds(1)
        for (failures, nominal) in [(0, Duration.milliseconds(100)), (1, .milliseconds(200)), (3, .milliseconds(800)), (4, .seconds(1)), (60, .seconds(1))] {
            for _ in 0..<20 {
                let delay = configuration.reconnectDelay(afterFailures: failures)
                #expect(delay >= nominal / 2 && delay <= nominal)
            }
        }
    }

    /// Under `CLIENT PAUSE … WRITE`, a read on the read lane is answered while a write waits; with no
    /// read lane the same read queues behind the write on their shared connection.
    @Test(arguments: [1, 0])
    func readsOnTheirOwnConnectionDoNotWaitBehindPausedWrites(_ readConnections: Int) async throws {
        let server = try await RedisServerProcess()
        var configuration = Self.configuration(try server.redisURL(), count: 1)
        configuration.readConnectionCount = readConnections
        configuration.commandTimeout = .seconds(20)
        let pool = RedisConnectionPool(configuration: configuration)
        #expect(await eventually { pool.connectedCount == 1 + readConnections })
        _ = try await pool.send("SET", "k", "before")
        let admin = try await RedisConnection.connect(to: try server.redisURL())
        defer { admin.close() }
        _ = try await admin.send("CLIENT", "PAUSE", "4000", "WRITE")
        let writeDone = Atomic<Bool>(false)
        async let write: RESPValue = {
            defer { writeDone.store(true, ordering: .releasing) }
            return try await pool.send("SET", "k", "after")
        }()
        // Let the write reach Redis first (it is held there), then read.
        try await Task.sleep(for: .milliseconds(500))
        let read = try await pool.sendRead(["GET", "k"].map { Array($0.utf8) })
        let readBeforeWrite = !writeDone.load(ordering: .acquiring)
        #expect(try await write == .simpleString("OK"))
        if readConnections > 0 {
            #expect(readBeforeWrite, "the read waited for the paused write")
            #expect(read.string == "before")
        } else {
            #expect(!readBeforeWrite, "with one shared connection the read queues behind the write")
            #expect(read.string == "after")
        }
        await pool.close()
    }
}
