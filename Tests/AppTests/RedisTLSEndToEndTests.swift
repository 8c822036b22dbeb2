import Foundation
import RedisClient
import TestSupport
import Testing

/// The real binary against real TLS-only `redis-server`s (`--port 0 --tls-port P`), with certificates
/// made by `openssl` at run time; plus `--redis-password-file` against `requirepass`.
@Suite(.offCooperativePool)
struct RedisTLSEndToEndTests {
    /// The TLS flags for `certificates`, with the client certificate unless `clientCertificate` is false.
    private static func tlsFlags(_ certificates: TestCertificates, clientCertificate: Bool = true) -> [String] {
        var flags = ["--redis-tls-ca-file", certificates.caFile]
        if clientCertificate {
            flags += ["--redis-tls-cert-file", certificates.clientCertificateFile, "--redis-tls-key-file", certificates.clientKeyFile]
        }
        return flags
    }

    /// Polls `/readyz` (at most ~20 s) until its status is `status` and `reason` satisfies `matches`.
    /// - Returns: The last `/readyz` body.
    private static func readiness(
        of server: AgentStateProcess, status: Int, reason matches: @escaping (String) -> Bool = { _ in true }
    ) async throws -> (matched: Bool, body: String) {
        var last = ""
        for _ in 0..<200 {
            let response = try await server.call("GET", "/readyz")
            last = response.text
            if response.status == status && (status == 200 || matches(response.json["reason"] as? String ?? "")) {
                return (true, last)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return (false, last)
    }

    /// A write answers 503 `backend_unavailable` (problem+json), never 500.
    private static func expectBackendUnavailable(_ server: AgentStateProcess) async throws {
        let response = try await server.call("PUT", "/agents/\(uniqueAgent())/sessions/s", body: #"{"state":1}"#)
        #expect(response.status == 503)
        #expect(response.json["code"] as? String == "backend_unavailable")
        #expect(response.header("Content-Type") == "application/problem+json")
    }

    @Test func sessionsAndMessagesWorkOverMutualTLS() async throws {
        let certificates = try await TestCertificates.shared()
        let redis = try await RedisServerProcess.sharedTLS()
        let server = try await AgentStateProcess(["--redis-url", redis.url, "--key-prefix", "e2e-\(UUID().uuidString):",
                                                  "--max-body-bytes", "2097152"] + Self.tlsFlags(certificates))
        #expect(try await Self.readiness(of: server, status: 200).matched)
        let agent = uniqueAgent()

        // Conditional writes: exactly one of 20 wins.
        let path = "/agents/\(agent)/sessions/race"
        #expect(try await server.call("PUT", path, body: #"{"state":0}"#).status == 201)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<20 {
                group.addTask { try await server.call("PUT", path, headers: [("If-Match", #""1""#)], body: #"{"state":\#(writer)}"#).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 1)
        #expect(statuses.filter { $0 == 412 }.count == 19)

        // Concurrent appends get dense seqs.
        let log = "/agents/\(agent)/sessions/log/messages"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<5 {
                group.addTask {
                    for message in 0..<20 {
                        let response = try await server.call("POST", log, body: #"{"messages":["\#(writer)-\#(message)"]}"#)
                        #expect(response.status == 201)
                    }
                }
            }
            try await group.waitForAll()
        }
        let page = try await server.call("GET", log + "?after=0&limit=1000")
        let messages = try #require(page.json["messages"] as? [[String: Any]])
        #expect(messages.compactMap { $0["seq"] as? Int } == Array(1...100))

        // A 1 MiB state round-trips byte for byte (many TLS records each way).
        let state = "[" + (0..<60_000).map { "\"\($0 % 10)é\($0)\"" }.joined(separator: ",") + "]"
        let big = "/agents/\(agent)/sessions/big"
        #expect(try await server.call("PUT", big, body: #"{"state":\#(state)}"#).status == 201)
        #expect(try await server.call("GET", big).text.hasSuffix(#","state":\#(state)}"#))
        #expect(try await server.call("DELETE", big).status == 204)
        #expect(try await server.call("GET", big).status == 404)
        #expect(!server.log().contains("redis connection failed"))
    }

    @Test func withoutAClientCertificateItSaysSoAndNeverBecomesReady() async throws {
        let certificates = try await TestCertificates.shared()
        let redis = try await RedisServerProcess(tls: certificates, authClients: true)
        let server = try await AgentStateProcess(["--redis-url", redis.url] + Self.tlsFlags(certificates, clientCertificate: false))
        let readiness = try await Self.readiness(of: server, status: 503) { $0.contains("client certificate") }
        #expect(readiness.matched, "\(readiness.body)")
        try await Self.expectBackendUnavailable(server)
        #expect(server.log().contains("client certificate"))
        #expect(try await server.call("GET", "/readyz").status == 503)
    }

    @Test func aWrongCAIsNamedWithOpenSSLsReasonAndRecoversWhenTheServerIsFixed() async throws {
        let certificates = try await TestCertificates.shared()
        // The server presents a certificate the configured CA did not sign ...
        let redis = try await RedisServerProcess(tls: certificates)
        let server = try await AgentStateProcess(["--redis-url", redis.url, "--redis-tls-ca-file", certificates.wrongCAFile])
        let readiness = try await Self.readiness(of: server, status: 503) { $0.contains("certificate verify failed") }
        #expect(readiness.matched, "\(readiness.body)")
        try await Self.expectBackendUnavailable(server)
        #expect(server.log().contains("certificate verify failed"))
        #expect(server.log().contains("redis connection failed"))
    }

    @Test func aCertificateForAnotherNameFailsWithoutAndWorksWithServerName() async throws {
        let certificates = try await TestCertificates.shared()
        let redis = try await RedisServerProcess(
            tls: certificates, certificateFile: certificates.otherNameCertificateFile, keyFile: certificates.otherNameKeyFile)
        let without = try await AgentStateProcess(["--redis-url", redis.url] + Self.tlsFlags(certificates, clientCertificate: false))
        let readiness = try await Self.readiness(of: without, status: 503) { $0.contains("IP address mismatch") }
        #expect(readiness.matched, "\(readiness.body)")
        try await Self.expectBackendUnavailable(without)

        let with = try await AgentStateProcess(["--redis-url", redis.url, "--redis-tls-server-name", TestCertificates.otherName]
                                               + Self.tlsFlags(certificates, clientCertificate: false))
        #expect(try await Self.readiness(of: with, status: 200).matched)
        #expect(try await with.call("PUT", "/agents/\(uniqueAgent())/sessions/s", body: #"{"state":1}"#).status == 201)
    }

    @Test func aPlaintextServerBehindRedissIsNamed() async throws {
        let certificates = try await TestCertificates.shared()
        let redis = try await RedisServerProcess()
        let server = try await AgentStateProcess(["--redis-url", "rediss://127.0.0.1:\(redis.port)", "--redis-tls-ca-file", certificates.caFile])
        let readiness = try await Self.readiness(of: server, status: 503) { $0.contains("plaintext") }
        #expect(readiness.matched, "\(readiness.body)")
        try await Self.expectBackendUnavailable(server)
        #expect(server.log().contains("plaintext"))
    }

    @Test func aTLSServerRestartedMidRunIsRecoveredWithoutRestartingTheService() async throws {
        let certificates = try await TestCertificates.shared()
        let redis = try await RedisServerProcess(tls: certificates, authClients: true)
        let server = try await AgentStateProcess(["--redis-url", redis.url] + Self.tlsFlags(certificates))
        let path = "/agents/\(uniqueAgent())/sessions/s"
        #expect(try await Self.readiness(of: server, status: 200).matched)
        #expect(try await server.call("PUT", path, body: #"{"state":1}"#).status == 201)

        await redis.stop()
        try await Self.expectBackendUnavailable(server)
        try await redis.restart()
        #expect(try await Self.readiness(of: server, status: 200).matched, "ready again after the restart")
        #expect(try await server.call("PUT", path, body: #"{"state":2}"#).status == 201, "data was not kept: created again")
        #expect(server.child.pollExit() == nil)
    }

    @Test func insecureLogsAWarningAtStartupAndSkipsVerification() async throws {
        let certificates = try await TestCertificates.shared()
        let redis = try await RedisServerProcess(tls: certificates)
        let server = try await AgentStateProcess(["--redis-url", redis.url, "--redis-tls-ca-file", certificates.wrongCAFile, "--redis-tls-insecure"])
        #expect(try await Self.readiness(of: server, status: 200).matched)
        let warning = server.log().split(separator: "\n").first { $0.contains("--redis-tls-insecure") }
        #expect(warning?.contains(#""level":"warning""#) == true, "\(server.log())")
    }

    @Test func passwordFileAuthenticatesAndThePasswordIsNeverLogged() async throws {
        let password = "file-secret-\(UUID().uuidString)"
        let redis = try await RedisServerProcess(arguments: ["--requirepass", password])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agentstate-pw-\(UUID().uuidString)").path
        try (password + "\r\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }

        let server = try await AgentStateProcess(["--redis-url", redis.url, "--redis-password-file", file, "--log-level", "debug"])
        #expect(try await Self.readiness(of: server, status: 200).matched)
        let path = "/agents/\(uniqueAgent())/sessions/s"
        #expect(try await server.call("PUT", path, body: #"{"state":1}"#).status == 201)
        #expect(try await server.call("GET", path).status == 200)
        #expect(!(try await server.call("GET", "/metrics").text.contains(password)))
        #expect(!server.log().contains(password))

        // A wrong password in the file: 503 and a log line, still without the secret.
        try ("wrong-" + password + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let wrong = try await AgentStateProcess(["--redis-url", redis.url, "--redis-password-file", file, "--log-level", "debug"])
        #expect(try await Self.readiness(of: wrong, status: 503).matched)
        try await Self.expectBackendUnavailable(wrong)
        #expect(!wrong.log().contains(password))
        #expect(!(try await wrong.call("GET", "/readyz").text.contains(password)))
    }
}
