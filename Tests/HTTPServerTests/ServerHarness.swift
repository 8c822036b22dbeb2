import Foundation
import HTTPServer
import TestSupport

/// The configuration used by end-to-end tests: loopback, ephemeral port, small limits, short timeouts.
func testConfiguration(host: String = "127.0.0.1") -> HTTPServer.Configuration {
    var configuration = HTTPServer.Configuration()
    configuration.host = host
    configuration.port = 0
    configuration.maxBodyBytes = 1024
    configuration.maxHeaderBytes = 512
    configuration.maxRequestLineBytes = 256
    configuration.headerTimeout = .milliseconds(400)
    configuration.bodyIdleTimeout = .milliseconds(400)
    configuration.keepAliveTimeout = .seconds(1)
    configuration.eventLoopCount = 2
    return configuration
}

/// Starts a server with `TestHandler`, runs `body` with its port, and always shuts the server down.
func withServer(
    _ configure: (inout HTTPServer.Configuration) -> Void = { _ in },
    _ body: (HTTPServer, Int, TestHandler) async throws -> Void
) async throws {
    var configuration = testConfiguration()
    configure(&configuration)
    let handler = TestHandler()
    let server = HTTPServer(configuration: configuration, handler: handler)
    let port = try server.start()
    do {
        try await body(server, port, handler)
    } catch {
        await server.shutdown(grace: .milliseconds(200))
        throw error
    }
    await server.shutdown(grace: .seconds(2))
}

/// Waits (bounded) until `condition` holds. The bound only matters when the condition never holds,
/// so it is generous: a loaded machine must not turn a late success into a failure.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Opens a client to the test server on loopback.
func connect(_ port: Int, host: String = "127.0.0.1", timeout: Duration = .seconds(3)) throws -> RawHTTPClient {
    try RawHTTPClient(host: host, port: port, timeout: timeout)
}
