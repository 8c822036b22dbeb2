import Foundation
import TestSupport
import Testing

/// The real `agentstate` binary, started on a free loopback port for end-to-end tests.
///
/// The binary sits beside the test bundle in the build directory (`swift build --build-tests`
/// builds both). Stop it with `stop()` or by sending a signal; it is killed by PID on deinit.
final class AgentStateProcess: Sendable {
    let port: Int
    let child: ChildProcess
    let logPath: String

    /// Starts the binary with `arguments` (plus host and port) and waits until `/healthz` answers.
    init(_ arguments: [String] = [], environment: [String: String]? = nil) async throws {
        let executable = Self.executable
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ChildProcess.Failure(description: "\(executable) is missing: run 'swift build --build-tests' first")
        }
        port = try FreePort.allocate()
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("agentstate-test-\(getpid())-\(port).log").path
        child = try ChildProcess(path: executable, arguments: ["--host", "127.0.0.1", "--port", String(port)] + arguments,
                                 outputPath: logPath, environment: environment)
        for _ in 0..<300 {
            if let response = try? await onDedicatedThread({ [port] in try TestHTTP.call(port: port, "GET", "/healthz") }), response.status == 200 { return }
            if child.pollExit() != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ChildProcess.Failure(description: "agentstate did not become healthy; log: \(log())")
    }

    deinit {
        child.send(SIGKILL)
        _ = child.waitForExitSynchronously(timeout: .seconds(5))
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Everything the process wrote to stdout and stderr so far.
    func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// One request on a fresh connection.
    func call(_ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil) async throws -> RawHTTPClient.Response {
        let port = self.port
        return try await onDedicatedThread { try TestHTTP.call(port: port, method, path, headers: headers, body: body) }
    }
}

extension AgentStateProcess {
    /// The binary beside the test bundle.
    static var executable: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("agentstate").path
    }

    /// Runs the binary to completion (at most 10 s) with `arguments`, e.g. a bad configuration.
    /// - Returns: The exit status and everything it printed on stdout and stderr.
    static func run(_ arguments: [String]) async throws -> (status: Int32?, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("agentstate-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let child = try ChildProcess(path: executable, arguments: arguments, outputPath: output)
        let status = await child.waitForExit(timeout: .seconds(10))
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}

/// Builds raw HTTP/1.1 requests for the tests.
enum TestHTTP {
    /// The request text: request line, Host, the given headers, and for a body, Content-Length
    /// (and `Content-Type: application/json` unless a Content-Type header was given).
    static func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) { text += "Content-Type: application/json\r\n" }
            text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            text += "\r\n"
        }
        return text
    }

    /// One request on a fresh blocking connection. Call it through `onDedicatedThread`.
    static func call(port: Int, _ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil) throws -> RawHTTPClient.Response {
        let client = try RawHTTPClient(host: "127.0.0.1", port: port)
        defer { client.close() }
        return try client.request(request(method, path, headers: headers, body: body), bodyless: method == "HEAD")
    }
}

extension RawHTTPClient.Response {
    /// The body parsed as a JSON object, for assertions.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

/// A fresh agent ID per test, so tests sharing one server never see each other's sessions.
func uniqueAgent(_ name: String = #function) -> String {
    let base = name.prefix { $0.isLetter || $0.isNumber }
    return "\(base.prefix(40))-\(UInt32.random(in: 0...UInt32.max))"
}
