import Foundation
import Testing
import TestSupport
@testable import RedisClient

/// `rediss://` against real TLS-only `redis-server`s, with certificates made by `openssl` at run time.
@Suite(.offCooperativePool)
struct RedisTLSTests {
    private static func connect(
        _ url: String, _ tls: TLSConfiguration, connectTimeout: Duration = .seconds(5)
    ) async throws(RedisClientError) -> RedisConnection {
        var configuration = RedisConnection.Configuration(url: try! RedisURL(parsing: url))
        configuration.tls = try TLSContext(configuration: tls)
        configuration.connectTimeout = connectTimeout
        configuration.commandTimeout = .seconds(10)
        return try await RedisConnection.connect(configuration: configuration)
    }

    /// The error `connect` throws; records an issue when it succeeds.
    private static func connectError(
        _ url: String, _ tls: TLSConfiguration, connectTimeout: Duration = .seconds(5)
    ) async -> RedisClientError? {
        do {
            let connection = try await connect(url, tls, connectTimeout: connectTimeout)
            connection.close()
            Issue.record("connecting to \(url) succeeded")
            return nil
        } catch {
            return error
        }
    }

    @Test func commandsLargeValuesAndPipeliningWorkOverTLS() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await RedisServerProcess(tls: certificates)
        let connection = try await Self.connect(server.url, TLSConfiguration(caFile: certificates.caFile))
        defer { connection.close() }
        #expect(try await connection.send("PING").string == "PONG")
        // 4 MiB each way: many TLS records, partial writes and reads that span poll wake-ups.
        let large = String(repeating: "0123456789abcdef", count: 256 * 1024)
        #expect(try await connection.send("SET", "big", large).string == "OK")
        #expect(try await connection.send("GET", "big").string == large)
        #expect(try await concurrentSetGetMismatches(connection, count: 300, prefix: "key:") == 0)
        // The server has no plaintext port: this really was TLS.
        #expect(try await connection.send("CONFIG", "GET", "port").array?.last?.string == "0")
    }

    @Test func hostNameVerificationWithLocalhost() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await RedisServerProcess(tls: certificates)
        let connection = try await Self.connect("rediss://localhost:\(server.port)", TLSConfiguration(caFile: certificates.caFile))
        defer { connection.close() }
        #expect(try await connection.send("PING").string == "PONG")
    }

    @Test func mutualTLSNeedsTheClientCertificate() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await RedisServerProcess(tls: certificates, authClients: true)
        let withCertificate = try await Self.connect(server.url, TLSConfiguration(
            caFile: certificates.caFile, certificateFile: certificates.clientCertificateFile, keyFile: certificates.clientKeyFile))
        defer { withCertificate.close() }
        #expect(try await withCertificate.send("SET", "k", "v").string == "OK")
        #expect(try await withCertificate.send("GET", "k").string == "v")

        let error = await Self.connectError(server.url, TLSConfiguration(caFile: certificates.caFile))
        #expect(error?.isConnectivity == true)
        #expect(error?.message.contains("client certificate") == true, "\(String(describing: error))")
    }

    @Test func aWrongCAIsReportedWithOpenSSLsReason() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await RedisServerProcess(tls: certificates)
        let error = await Self.connectError(server.url, TLSConfiguration(caFile: certificates.wrongCAFile))
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("certificate verify failed") == true, "\(String(describing: error))")
        #expect(error?.message.contains("local issuer") == true || error?.message.contains("self-signed") == true,
                "\(String(describing: error))")
    }

    @Test func aCertificateForAnotherNameFailsUnlessThatNameIsConfigured() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await RedisServerProcess(
            tls: certificates, certificateFile: certificates.otherNameCertificateFile, keyFile: certificates.otherNameKeyFile)
        let error = await Self.connectError(server.url, TLSConfiguration(caFile: certificates.caFile))
        #expect(error?.message.contains("certificate verify failed: IP address mismatch") == true, "\(String(describing: error))")

        let named = try await Self.connect(server.url, TLSConfiguration(caFile: certificates.caFile, serverName: TestCertificates.otherName))
        defer { named.close() }
        #expect(try await named.send("PING").string == "PONG")
    }

    @Test func aServerNameTheCertificateDoesNotHaveFails() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await RedisServerProcess(tls: certificates)
        let error = await Self.connectError(server.url, TLSConfiguration(caFile: certificates.caFile, serverName: "not-it.example"))
        #expect(error?.message.contains("certificate verify failed: hostname mismatch") == true, "\(String(describing: error))")
        #expect(error?.message.contains("not-it.example") == true)
    }

    @Test func insecureSkipsVerification() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await RedisServerProcess(tls: certificates)
        let connection = try await Self.connect(server.url, TLSConfiguration(caFile: certificates.wrongCAFile, insecure: true))
        defer { connection.close() }
        #expect(try await connection.send("PING").string == "PONG")
    }

    @Test func aPlaintextServerBehindRedissIsNamed() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await RedisServerProcess()
        let error = await Self.connectError(
            "rediss://127.0.0.1:\(server.port)", TLSConfiguration(caFile: certificates.caFile), connectTimeout: .seconds(1))
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("plaintext") == true, "\(String(describing: error))")
    }

    @Test func unreadableOrMismatchedFilesAreConfigurationErrors() async throws {
        let certificates = try await TestCertificates.shared()
        let missing = "\(certificates.directory)/missing.crt"
        #expect(throws: RedisClientError.self) { try TLSContext(configuration: TLSConfiguration(caFile: missing)) }
        do {
            _ = try TLSContext(configuration: TLSConfiguration(caFile: missing))
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(!error.isConnectivity)
            #expect(error.message.contains(missing))
        }
        do {
            _ = try TLSContext(configuration: TLSConfiguration(
                certificateFile: certificates.clientCertificateFile, keyFile: certificates.serverKeyFile))
            Issue.record("a key that does not match the certificate was accepted")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("mismatch"), "\(error)")
        }
        #expect(throws: RedisClientError.self) {
            try TLSContext(configuration: TLSConfiguration(certificateFile: certificates.clientCertificateFile))
        }
    }

    @Test func thePoolRecoversWhenTheTLSServerRestarts() async throws {
        let certificates = try await TestCertificates.shared()
        let server = try await RedisServerProcess(tls: certificates)
        var configuration = RedisConnectionPool.Configuration(url: try RedisURL(parsing: server.url))
        configuration.connectionCount = 2
        configuration.tls = try TLSContext(configuration: TLSConfiguration(caFile: certificates.caFile))
        configuration.connectTimeout = .seconds(2)
        configuration.reconnectBaseDelay = .milliseconds(20)
        configuration.reconnectMaxDelay = .milliseconds(300)
        let pool = RedisConnectionPool(configuration: configuration)
        #expect(await eventually { (try? await pool.send("PING").string) == "PONG" })
        try await server.restart()
        // Eventually within 20 s (the machine may be loaded).
        #expect(await eventually(attempts: 400) { (try? await pool.send("SET", "after", "restart").string) == "OK" })
        #expect(try await pool.send("GET", "after").string == "restart")
        await pool.close()
    }
}
