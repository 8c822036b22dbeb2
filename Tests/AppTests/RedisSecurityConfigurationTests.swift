import Foundation
import TestSupport
import Testing
@testable import App

/// `--redis-password-file` and the `--redis-tls-*` flags: parsing, validation and exit 2.
@Suite(.offCooperativePool)
struct RedisSecurityConfigurationTests {
    /// A temporary file with `content`, removed by the caller.
    private static func file(_ content: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agentstate-cfg-\(UUID().uuidString)").path
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private static func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws(ConfigurationError) -> AppConfiguration {
        try ServeConfiguration.parse(arguments, environment)
    }

    private static func error(_ arguments: [String], _ environment: [String: String] = [:]) -> String? {
        ServeConfiguration.error(arguments, environment)
    }

    @Test(arguments: [("s3cret\n", "s3cret"), ("s3cret\r\n", "s3cret"), ("s3cret", "s3cret"), ("s3cret\n\n", "s3cret\n"), (" pw \n", " pw ")])
    func aPasswordFileLosesOneTrailingNewline(_ content: String, _ expected: String) throws {
        let path = try Self.file(content)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try Self.parse(["--redis-url", "redis://127.0.0.1:6379", "--redis-password-file", path])
        #expect(configuration.redisPassword == expected)
        let fromEnvironment = try Self.parse([], ["AGENTSTATE_REDIS_URL": "redis://h", "AGENTSTATE_REDIS_PASSWORD_FILE": path])
        #expect(fromEnvironment.redisPassword == expected)
        #expect(!configuration.logMetadata.contains { "\($0.1)".contains("s3cret") })
    }

    @Test func aPasswordInTheURLAndInAFileIsAnError() throws {
        let path = try Self.file("from-file\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let message = try #require(Self.error(["--redis-url", "redis://:in-url@127.0.0.1", "--redis-password-file", path]))
        #expect(message.hasPrefix("agentstate: "))
        #expect(!message.contains("\n"))
        #expect(!message.contains("in-url") && !message.contains("from-file"))
        // A user name alone in the URL is fine: the file gives its password.
        #expect(try Self.parse(["--redis-url", "redis://app@127.0.0.1", "--redis-password-file", path]).redisPassword == "from-file")
    }

    @Test(arguments: ["--redis-password-file", "--redis-tls-ca-file", "--redis-tls-cert-file", "--redis-tls-key-file"])
    func anUnreadableFileIsAnError(_ flag: String) throws {
        let missing = "/nonexistent/agentstate-\(UUID().uuidString)"
        let message = try #require(Self.error(["--redis-url", "rediss://127.0.0.1", flag, missing]))
        #expect(message.hasPrefix("agentstate: cannot read \(flag) '\(missing)'"), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test func tlsFlagsNeedARedissURLAndCertificateAndKeyGoTogether() async throws {
        let certificates = try await TestCertificates.shared()
        #expect(Self.error(["--redis-url", "redis://127.0.0.1", "--redis-tls-ca-file", certificates.caFile])?.contains("rediss://") == true)
        #expect(Self.error(["--redis-url", "redis://127.0.0.1", "--redis-tls-insecure"])?.contains("--redis-tls-insecure") == true)
        #expect(Self.error(["--redis-url", "rediss://127.0.0.1", "--redis-tls-cert-file", certificates.clientCertificateFile])?
            .contains("together") == true)
        let configuration = try Self.parse(["--redis-url", "rediss://127.0.0.1", "--redis-tls-ca-file", certificates.caFile,
                                            "--redis-tls-cert-file", certificates.clientCertificateFile,
                                            "--redis-tls-key-file", certificates.clientKeyFile,
                                            "--redis-tls-server-name", "redis.internal", "--redis-tls-insecure"])
        #expect(configuration.redisTLSCAFile == certificates.caFile)
        #expect(configuration.redisTLSCertFile == certificates.clientCertificateFile)
        #expect(configuration.redisTLSKeyFile == certificates.clientKeyFile)
        #expect(configuration.redisTLSServerName == "redis.internal")
        #expect(configuration.redisTLSInsecure)
        #expect(try Self.parse(["--redis-url", "rediss://h", "--redis-tls-insecure=false"]).redisTLSInsecure == false)
        #expect(try Self.parse([], ["AGENTSTATE_REDIS_URL": "rediss://h", "AGENTSTATE_REDIS_TLS_INSECURE": "true"]).redisTLSInsecure)
        #expect(Self.error(["--redis-url", "rediss://h", "--redis-tls-insecure=maybe"]) != nil)
    }

    @Test func helpListsTheNewFlagsWithTheirEnvironmentVariables() {
        for (flag, variable) in [("--redis-password-file", "AGENTSTATE_REDIS_PASSWORD_FILE"), ("--redis-tls-ca-file", "AGENTSTATE_REDIS_TLS_CA_FILE"),
                                 ("--redis-tls-cert-file", "AGENTSTATE_REDIS_TLS_CERT_FILE"), ("--redis-tls-key-file", "AGENTSTATE_REDIS_TLS_KEY_FILE"),
                                 ("--redis-tls-server-name", "AGENTSTATE_REDIS_TLS_SERVER_NAME"), ("--redis-tls-insecure", "AGENTSTATE_REDIS_TLS_INSECURE")] {
            #expect(AppConfiguration.helpText.contains(flag))
            #expect(AppConfiguration.helpText.contains(variable))
        }
    }

    /// The binary: an unreadable file, a password twice, and a file OpenSSL cannot load all exit 2 with one line.
    @Test func theBinaryExitsTwoWithOneLine() async throws {
        let notPEM = try Self.file("not a certificate\n")
        let password = try Self.file("pw\n")
        defer {
            try? FileManager.default.removeItem(atPath: notPEM)
            try? FileManager.default.removeItem(atPath: password)
        }
        let cases: [[String]] = [
            ["--redis-url", "rediss://127.0.0.1:1", "--redis-tls-ca-file", "/nonexistent/ca.crt"],
            ["--redis-url", "redis://:pw@127.0.0.1:1", "--redis-password-file", password],
            ["--redis-url", "rediss://127.0.0.1:1", "--redis-tls-ca-file", notPEM],
        ]
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("agentstate").path
        for arguments in cases {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("agentstate-config-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: output) }
            let child = try ChildProcess(path: executable, arguments: ["--port", "0"] + arguments, outputPath: output)
            #expect(await child.waitForExit(timeout: .seconds(10)) == 2, "\(arguments)")
            let text = try String(contentsOfFile: output, encoding: .utf8)
            #expect(text.split(separator: "\n").count == 1, "\(text)")
            #expect(text.hasPrefix("agentstate: "), "\(text)")
        }
    }
}
