import Foundation
import HTTPServer
import Testing
import TestSupport

/// Limits, malformed input and timeouts over real sockets.
@Suite(.serialized, .offCooperativePool)
struct HTTPServerLimitsTests {
    @Test func refusesLargeContentLengthBeforeTheBodyIsSent() async throws {
        try await withServer { _, port, handler in
            try await onDedicatedThread {
                let client = try connect(port)
                let response = try client.request("PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: 1025\r\n\r\n")
                #expect(response.status == 413)
                #expect(response.header("X-Had-Head") == "yes")
                #expect(response.header("Connection") == "close")
                #expect(try client.readUntilClose().isEmpty)
            }
            #expect(handler.handled.load(ordering: .relaxed) == 0)
        }
    }

    @Test func acceptsBodyExactlyAtTheLimit() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                let body = String(repeating: "z", count: 1024)
                let response = try client.request("PUT /max HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n" + body)
                #expect(response.status == 200)
                #expect(response.body.count == "PUT /max|".utf8.count + 1024)
            }
        }
    }

    @Test func refusesChunkedBodyOverTheLimit() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                let chunk = String(repeating: "c", count: 600)
                let response = try client.request(
                    "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n"
                )
                #expect(response.status == 413)
                #expect(try client.readUntilClose().isEmpty)
            }
        }
    }

    /// Requests over a limit or malformed, and the status each must get before the close.
    static let refused: [(String, Int)] = [
        ("GET /" + String(repeating: "u", count: 300) + " HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        ("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "h", count: 600) + "\r\n\r\n", 431),
        ("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: t\r\nHost : x\r\n\r\n", 400),
        ("GARBAGE\r\n\r\n", 400),
        ("GET / HTTP/3.0\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nnothex\r\n", 400),
    ]

    @Test(arguments: refused.indices)
    func answersThenCloses(index: Int) async throws {
        let (request, status) = Self.refused[index]
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                let response = try client.request(request)
                #expect(response.status == status)
                #expect(response.header("Connection") == "close")
                #expect(try client.readUntilClose().isEmpty)
            }
        }
    }

    @Test func timesOutStalledHeadersWhileServingOthers() async throws {
        try await withServer { _, port, _ in
            async let stalled: RawHTTPClient.Response = onDedicatedThread {
                let client = try connect(port)
                try client.send("GET /stalled HTTP/1.1\r\nHost: x\r\n")
                let response = try client.readResponse()
                #expect(try client.readUntilClose().isEmpty)
                return response
            }
            try await Task.sleep(for: .milliseconds(100))
            try await onDedicatedThread {
                let client = try connect(port)
                #expect(try client.request("GET /fine HTTP/1.1\r\nHost: t\r\n\r\n").text == "GET /fine|")
            }
            let response = try await stalled
            #expect(response.status == 408)
            #expect(response.header("X-Had-Head") == "no")
        }
    }

    @Test func dropsByteAtATimeSlowlorisAtTheDeadline() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port, timeout: .seconds(2))
                let request = Array("GET /slow HTTP/1.1\r\nHost: example\r\nX-Pad: padding\r\n\r\n".utf8)
                var sent = 0
                let clock = ContinuousClock()
                let start = clock.now
                // 100 ms per byte keeps every gap short, but the whole head needs ~5 s; the deadline is 400 ms.
                while sent < request.count, clock.now - start < .seconds(3) {
                    do {
                        try client.send([request[sent]])
                    } catch {
                        break
                    }
                    sent += 1
                    Thread.sleep(forTimeInterval: 0.1)
                    if sent >= 12 { break }
                }
                let response = try client.readResponse()
                #expect(response.status == 408)
                #expect(try client.readUntilClose().isEmpty)
                #expect(clock.now - start < .seconds(3))
            }
        }
    }

    @Test func timesOutStalledBody() async throws {
        try await withServer { _, port, handler in
            try await onDedicatedThread {
                let client = try connect(port)
                try client.send("PUT /b HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
                let response = try client.readResponse()
                #expect(response.status == 408)
                #expect(response.header("X-Had-Head") == "yes")
                #expect(try client.readUntilClose().isEmpty)
            }
            #expect(handler.handled.load(ordering: .relaxed) == 0)
        }
    }

    @Test func closesIdleKeepAliveConnections() async throws {
        try await withServer({ $0.keepAliveTimeout = .milliseconds(300) }) { server, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                #expect(try client.request("GET /a HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
                #expect(try client.readUntilClose().isEmpty)
            }
            #expect(await eventually { server.openConnections == 0 })
        }
    }

    @Test func closesConnectionsPastTheLimit() async throws {
        try await withServer({ $0.maxConnections = 2 }) { server, port, _ in
            try await onDedicatedThread {
                let first = try connect(port)
                let second = try connect(port)
                #expect(try first.request("GET /1 HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
                #expect(try second.request("GET /2 HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
                let third = try connect(port)
                try? third.send("GET /3 HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(third.isClosedByPeer())
                first.close()
                var polls = 0
                while server.openConnections != 1 && polls < 300 {
                    Thread.sleep(forTimeInterval: 0.01)
                    polls += 1
                }
                #expect(server.openConnections == 1)
                let fourth = try connect(port)
                #expect(try fourth.request("GET /4 HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
                #expect(try second.request("GET /2 HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
            }
        }
    }

    @Test func survivesClientThatLeavesBeforeItsResponse() async throws {
        try await withServer { server, port, handler in
            try await onDedicatedThread {
                let client = try connect(port)
                try client.send("GET /sleep?ms=150 HTTP/1.1\r\nHost: t\r\n\r\n")
                client.close()
            }
            #expect(await eventually { handler.handled.load(ordering: .relaxed) == 1 })
            try await Task.sleep(for: .milliseconds(250))
            try await onDedicatedThread {
                let client = try connect(port)
                #expect(try client.request("GET /after HTTP/1.1\r\nHost: t\r\n\r\n").text == "GET /after|")
                client.close()
            }
            #expect(await eventually { server.openConnections == 0 })
        }
    }

    @Test func survivesRandomGarbage() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                var state: UInt64 = 0x1234_5678
                func next() -> UInt8 {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return UInt8(truncatingIfNeeded: state >> 33)
                }
                let prefixes = ["", "GET / HTTP/1.1\r\nHost: t\r\n", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"]
                for round in 0..<30 {
                    let client = try connect(port, timeout: .seconds(2))
                    let garbage = (0..<(50 + round * 7)).map { _ in next() }
                    try? client.send(Array(prefixes[round % 3].utf8) + garbage + Array("\r\n\r\n".utf8))
                    _ = try? client.readUntilClose()
                }
                let client = try connect(port)
                #expect(try client.request("GET /still-fine HTTP/1.1\r\nHost: t\r\n\r\n").text == "GET /still-fine|")
            }
        }
    }
}
