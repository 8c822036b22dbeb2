import Testing
import TestSupport
@testable import RedisClient

@Suite(.offCooperativePool)
struct RedisAuthTests {
    static let password = "s3cret-p@ss"
    static let aclPassword = "alice-Pw-42"

    private static func server() async throws -> RedisServerProcess {
        try await RedisServerProcess(arguments: [
            "--requirepass", password,
            "--user", "alice", "on", ">\(aclPassword)", "~*", "&*", "+@all",
        ])
    }

    @Test func passwordAuthenticates() async throws {
        let server = try await Self.server()
        let connection = try await RedisConnection.connect(to: try server.redisURL(password: Self.password))
        defer { connection.close() }
        #expect(try await connection.send("PING") == .simpleString("PONG"))
    }

    @Test func aclUserAuthenticates() async throws {
        let server = try await Self.server()
        let url = try RedisURL(parsing: "\(server.url.replacingOccurrences(of: "redis://", with: "redis://alice:alice-Pw-42@"))/2")
        let connection = try await RedisConnection.connect(to: url)
        defer { connection.close() }
        #expect(try await connection.send("ACL", "WHOAMI").string == "alice")
    }

    @Test(arguments: [(nil, "wrong-hunter2"), ("alice", "wrong-hunter2"), ("nobody", "wrong-hunter2")])
    func wrongPasswordIsAClearAuthenticationError(username: String?, password: String) async throws {
        let server = try await Self.server()
        let url = try server.redisURL(username: username, password: password)
        do {
            _ = try await RedisConnection.connect(to: url)
            Issue.record("AUTH with a wrong password succeeded")
        } catch {
            #expect(error.code == .authenticationFailed)
            #expect(!error.isConnectivity)
            #expect(!error.description.contains("hunter2"))
            #expect(error.description.contains("AUTH"))
        }
    }

    @Test func missingPasswordGivesNoAuthError() async throws {
        let server = try await Self.server()
        let connection = try await RedisConnection.connect(to: try server.redisURL())
        defer { connection.close() }
        await #expect {
            _ = try await connection.send("GET", "x")
        } throws: { error in
            (error as? RedisError)?.code == "NOAUTH"
        }
    }
}

import Foundation
