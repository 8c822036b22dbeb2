import Testing
import TestSupport
@testable import RedisClient

@Suite(.offCooperativePool)
struct RedisConnectionTests {
    @Test func setGetRoundTripIsBinarySafe() async throws {
        let server = try await RedisServerProcess.shared()
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        defer { connection.close() }
        let key = Array((uniquePrefix() + "bin").utf8)
        let value: [UInt8] = Array(0...255) + [13, 10, 0, 13, 10]
        #expect(try await connection.send([Array("SET".utf8), key, value]) == .simpleString("OK"))
        #expect(try await connection.send([Array("GET".utf8), key]) == .bulkString(value))
        #expect(try await connection.send("GET", uniquePrefix() + "missing") == .bulkString(nil))
        #expect(try await connection.send(["DEL", String(decoding: key, as: UTF8.self)]) == .integer(1))
    }

    @Test func thousandConcurrentCommandsGetTheirOwnReplies() async throws {
        let server = try await RedisServerProcess.shared()
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        defer { connection.close() }
        let prefix = uniquePrefix()
        #expect(try await concurrentSetGetMismatches(connection, count: 1_000, prefix: prefix) == 0)
        // INCR replies arrive in submission order.
        let counter = prefix + "counter"
        let values = try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<1_000 { group.addTask { try await connection.send("INCR", counter).int ?? -1 } }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(Set(values) == Set(1...1_000))
    }

    @Test func largeValuesRoundTrip() async throws {
        let server = try await RedisServerProcess.shared()
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        defer { connection.close() }
        let key = uniquePrefix() + "large"
        let value = [UInt8]((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        _ = try await connection.send([Array("SET".utf8), Array(key.utf8), value])
        #expect(try await connection.send([Array("GET".utf8), Array(key.utf8)]) == .bulkString(value))
    }

    @Test func errorReplyIsThrownAsRedisErrorWithItsCode() async throws {
        let server = try await RedisServerProcess.shared()
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        defer { connection.close() }
        await #expect {
            _ = try await connection.send("NOSUCHCOMMAND", "x")
        } throws: { error in
            (error as? RedisError)?.code == "ERR"
        }
        let key = uniquePrefix() + "list"
        _ = try await connection.send("RPUSH", key, "a")
        await #expect {
            _ = try await connection.send("GET", key)
        } throws: { error in
            (error as? RedisError)?.code == "WRONGTYPE"
        }
        await #expect {
            _ = try await connection.send("EVALSHA", String(repeating: "0", count: 40), "0")
        } throws: { error in
            (error as? RedisError)?.code == "NOSCRIPT"
        }
        // The connection is still usable after error replies.
        #expect(try await connection.send("PING") == .simpleString("PONG"))
    }

    @Test func selectKeepsDatabasesApart() async throws {
        let server = try await RedisServerProcess.shared()
        let db3 = try await RedisConnection.connect(to: try server.redisURL(database: 3))
        let db0 = try await RedisConnection.connect(to: try server.redisURL())
        defer { db3.close(); db0.close() }
        let key = uniquePrefix() + "db"
        _ = try await db3.send("SET", key, "three")
        #expect(try await db3.send("GET", key).string == "three")
        #expect(try await db0.send("GET", key) == .bulkString(nil))
    }

    @Test func closedConnectionFailsFast() async throws {
        let server = try await RedisServerProcess.shared()
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        connection.close()
        await connection.waitUntilClosed()
        #expect(connection.isClosed)
        await #expect {
            _ = try await connection.send("PING")
        } throws: { error in
            (error as? RedisClientError)?.code == .connectionClosed
        }
    }

    @Test func connectionRefusedIsAConnectivityError() async throws {
        let port = try FreePort.allocate()
        var configuration = RedisConnection.Configuration(url: RedisURL(host: "127.0.0.1", port: port))
        configuration.connectTimeout = .milliseconds(500)
        do {
            _ = try await RedisConnection.connect(configuration: configuration)
            Issue.record("connect to a closed port succeeded")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(error.isConnectivity)
            #expect(error.errno == ECONNREFUSED)
        }
    }

    @Test func redissToAClosedPortFailsToConnect() async throws {
        let port = try FreePort.allocate()
        await #expect {
            _ = try await RedisConnection.connect(to: try RedisURL(parsing: "rediss://127.0.0.1:\(port)"))
        } throws: { error in
            (error as? RedisClientError)?.code == .connectionFailed
        }
    }

    @Test func commandTimeoutFailsTheCommandAndClosesTheConnection() async throws {
        let server = try await RedisServerProcess()
        let admin = try await RedisConnection.connect(to: try server.redisURL())
        defer { admin.close() }
        var configuration = RedisConnection.Configuration(url: try server.redisURL())
        configuration.commandTimeout = .milliseconds(200)
        let connection = try await RedisConnection.connect(configuration: configuration)
        _ = try await admin.send("CLIENT", "PAUSE", "3000")
        await #expect {
            _ = try await connection.send("GET", "paused")
        } throws: { error in
            let error = error as? RedisClientError
            return error?.code == .timeout && error?.isConnectivity == true && error?.commandWasSent == true
        }
        #expect(connection.isClosed)
    }

    @Test func serverStopFailsCommandsQuickly() async throws {
        let server = try await RedisServerProcess()
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        #expect(try await connection.send("PING") == .simpleString("PONG"))
        await server.stop()
        await connection.waitUntilClosed()
        await #expect {
            _ = try await connection.send("PING")
        } throws: { error in
            let error = error as? RedisClientError
            return error?.isConnectivity == true && error?.commandWasSent != true
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
