#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Certificates made with the `openssl` command at test run time, for TLS tests against `redis-server`.
///
/// One CA signs the server certificate (for `127.0.0.1` and `localhost`), a client certificate, and a
/// server certificate for another name (`other.example`). A second, unrelated CA stands for "the wrong CA".
/// Everything lives in one temporary directory, removed on deinit. Use ``shared()`` unless a test needs
/// fresh files.
public final class TestCertificates: Sendable {
    /// Why the certificates could not be made.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong and how to fix it.
        public let description: String
    }

    /// The message thrown when `openssl` is missing.
    public static let notFoundMessage =
        "openssl not found on PATH: install it with 'apt-get install -y openssl' (Debian/Ubuntu)"

    /// The directory holding every file.
    public let directory: String
    /// The CA that signed every certificate below (PEM).
    public var caFile: String { "\(directory)/ca.crt" }
    /// A CA that signed none of them.
    public var wrongCAFile: String { "\(directory)/wrong-ca.crt" }
    /// The server certificate, for IP 127.0.0.1 and DNS localhost, and its key.
    public var serverCertificateFile: String { "\(directory)/server.crt" }
    public var serverKeyFile: String { "\(directory)/server.key" }
    /// A server certificate for DNS other.example only, and its key.
    public var otherNameCertificateFile: String { "\(directory)/other.crt" }
    public var otherNameKeyFile: String { "\(directory)/other.key" }
    /// The name in ``otherNameCertificateFile``.
    public static let otherName = "other.example"
    /// A client certificate (CN agentstate-test-client) and its key, for mutual TLS.
    public var clientCertificateFile: String { "\(directory)/client.crt" }
    public var clientKeyFile: String { "\(directory)/client.key" }

    /// Makes every file in a new temporary directory (P-256 keys: a few cheap `openssl` runs).
    /// - Throws: ``Failure`` when `openssl` is missing or fails.
    public init() throws {
        guard let openssl = ChildProcess.findExecutable("openssl") else {
            throw Failure(description: Self.notFoundMessage)
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("agentstate-certs-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        let run = { (arguments: [String]) throws in
            // Every argument that names a file in the directory is given as an absolute path.
            let absolute = arguments.map { argument in
                argument.contains(".") && !argument.hasPrefix("/") && !argument.hasPrefix("-") && !argument.contains(":")
                    ? "\(directory)/\(argument)" : argument
            }
            try Self.run(openssl, absolute, in: directory)
        }
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: "\(directory)/server.ext", atomically: true, encoding: .utf8)
        try "subjectAltName=DNS:\(Self.otherName)\n".write(toFile: "\(directory)/other.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: "\(directory)/client.ext", atomically: true, encoding: .utf8)
        for ca in ["ca", "wrong-ca"] {
            try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=agentstate-test-\(ca)",
                     "-keyout", "\(ca).key", "-out", "\(ca).crt"])
        }
        for (name, subject) in [("server", "/CN=127.0.0.1"), ("other", "/CN=\(Self.otherName)"), ("client", "/CN=agentstate-test-client")] {
            try run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject, "-keyout", "\(name).key", "-out", "\(name).csr"])
            try run(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                     "-days", "2", "-extfile", "\(name).ext", "-out", "\(name).crt"])
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One set for the whole test process, made on first use.
    /// - Throws: ``Failure`` when they cannot be made.
    public static func shared() async throws -> TestCertificates {
        try await sharedCertificates.value
    }

    private static let sharedCertificates = Task<TestCertificates, any Error> {
        // openssl runs for a second or so: wait for it on a dedicated thread, not a cooperative one.
        let made: Result<TestCertificates, any Error> = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Result { try TestCertificates() }) }.start()
        }
        let certificates = try made.get()
        sharedCertificatesDirectory.withLock { $0 = certificates.directory }
        atexit {
            let directory = sharedCertificatesDirectory.withLock { $0 }
            if !directory.isEmpty { try? FileManager.default.removeItem(atPath: directory) }
        }
        return certificates
    }

    private static func run(_ openssl: String, _ arguments: [String], in directory: String) throws {
        let log = "\(directory)/openssl.log"
        let child = try ChildProcess(path: openssl, arguments: arguments, outputPath: log, environment: ["PATH": "/usr/bin:/bin", "HOME": directory, "RANDFILE": "\(directory)/.rnd"])
        let status = child.waitForExitSynchronously(timeout: .seconds(60))
        guard status == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed (status \(status.map(String.init) ?? "timeout")): "
                + output.split(separator: "\n").suffix(3).joined(separator: " | "))
        }
    }
}

private let sharedCertificatesDirectory = Mutex<String>("")
