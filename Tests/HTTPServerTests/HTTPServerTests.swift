import Foundation
import HTTPServer
import Testing
import TestSupport

/// End-to-end behaviour over real sockets: keep-alive, pipelining, bodies, HEAD, HTTP/1.0, IPv6, preflight.
@Suite(.serialized, .offCooperativePool)
struct HTTPServerTests {
    @Test func servesTwoRequestsOnOneKeepAliveConnection() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                let first = try client.request("GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(first.status == 200)
                #expect(first.text == "GET /one|")
                #expect(first.header("Connection") == nil)
                #expect(first.header("Date") != nil)
                let second = try client.request("PUT /two HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
                #expect(second.text == "PUT /two|hello")
                #expect(second.header("X-Bytes-In") == String("PUT /two HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello".utf8.count))
            }
        }
    }

    /// The handler runs on the loop that owns the connection, and comes back to it after a resume from
    /// another thread, while the loop keeps serving.
    @Test func handlersRunOnTheirConnectionsLoopThread() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                for _ in 0..<4 {
                    let names = try client.request("GET /thread HTTP/1.1\r\nHost: x\r\n\r\n").text.split(separator: " ").map(String.init)
                    #expect(names.count == 2)
                    #expect(names.first?.hasPrefix("http-loop-") == true, "\(names)")
                    #expect(names.first == names.last, "one connection, one loop: \(names)")
                }
            }
        }
    }

    @Test func answersPipelinedRequestsInOrder() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                try client.send(
                    "GET /sleep?ms=150 HTTP/1.1\r\nHost: t\r\n\r\nPOST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\nHost: t\r\n\r\n"
                )
                let texts = try (0..<3).map { _ in try client.readResponse().text }
                #expect(texts == ["GET /sleep?ms=150|", "POST /b|hi", "GET /c|"])
            }
        }
    }

    /// Responses answered inline (no task) and by tasks keep request order on a pipelined connection,
    /// and the inline ones are answered on the connection's loop thread without reaching `handle`.
    @Test func inlineLaterAndTaskResponsesKeepPipelinedOrder() async throws {
        try await withServer { _, port, handler in
            try await onDedicatedThread {
                let client = try connect(port)
                try client.send(
                    "GET /inline/a HTTP/1.1\r\nHost: t\r\n\r\nGET /sleep?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n"
                        + "PUT /inline/b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhiGET /later?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n"
                        + "GET /c HTTP/1.1\r\nHost: t\r\n\r\nPOST /later HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx"
                )
                let texts = try (0..<6).map { _ in try client.readResponse().text }
                #expect(texts.count == 6)
                guard texts.count == 6 else { return }
                let first = texts[0].split(separator: " ").map(String.init), third = texts[2].split(separator: " ").map(String.init)
                #expect(first.count == 4 && first[0] == "inline" && first[1].hasPrefix("http-loop-") && first[3] == "/inline/a|", "\(first)")
                #expect(texts[1] == "GET /sleep?ms=100|")
                #expect(third.count == 4 && third[2] == "PUT" && third[3] == "/inline/b|hi" && third[1] == first[1], "\(third)")
                #expect(texts[3] == "later GET /later?ms=100|", "answered from another thread, in order")
                #expect(texts[4] == "GET /c|")
                #expect(texts[5] == "later POST /later|x")
            }
            #expect(handler.inlined.load(ordering: .relaxed) == 4)
            #expect(handler.handled.load(ordering: .relaxed) == 2, "only the two requests not taken by respond(to:with:) reach handle")
        }
    }

    @Test func decodesChunkedBodies() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                let response = try client.request(
                    "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n3\r\nefg\r\n0\r\nT: v\r\n\r\n"
                )
                #expect(response.status == 200)
                #expect(response.text == "POST /c|abcdefg")
                #expect(try client.request("GET /after HTTP/1.1\r\nHost: t\r\n\r\n").text == "GET /after|")
            }
        }
    }

    @Test func sendsContinueBeforeReadingTheBody() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                try client.send("PUT /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
                let interim = try client.readResponse()
                #expect(interim.status == 100)
                try client.send("body")
                let final = try client.readResponse()
                #expect(final.status == 200)
                #expect(final.text == "PUT /e|body")
            }
        }
    }

    @Test func answersHeadWithLengthButNoBody() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                let head = try client.request("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n", bodyless: true)
                #expect(head.status == 200)
                #expect(head.header("Content-Length") == String("HEAD /h|".utf8.count))
                #expect(head.body.isEmpty)
                // Had a body been sent, it would be read as the next response's status line.
                #expect(try client.request("GET /next HTTP/1.1\r\nHost: t\r\n\r\n").text == "GET /next|")
            }
        }
    }

    @Test(arguments: [204, 304])
    func neverSendsBodyOrLengthFor(status: Int) async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                let response = try client.request("GET /status/\(status) HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(response.status == status)
                #expect(response.header("Content-Length") == nil)
                #expect(try client.request("GET /next HTTP/1.1\r\nHost: t\r\n\r\n").text == "GET /next|")
            }
        }
    }

    @Test(arguments: ["GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", "GET /close HTTP/1.1\r\nHost: t\r\n\r\n", "GET /x HTTP/1.0\r\n\r\n"])
    func closesWhenAsked(request: String) async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                let response = try client.request(request)
                #expect(response.status == 200)
                #expect(response.header("Connection") == "close")
                #expect(try client.readUntilClose().isEmpty)
            }
        }
    }

    @Test func keepsHTTP10AliveWhenAsked() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                let first = try client.request("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                #expect(first.header("Connection") == "keep-alive")
                let second = try client.request("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                #expect(second.text == "GET /b|")
            }
        }
    }

    @Test func servesIPv6Loopback() async throws {
        let hasIPv6Loopback = (try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8))?
            .contains("00000000000000000000000000000001") ?? false
        try #require(hasIPv6Loopback, "kernel has no IPv6 loopback (::1 missing from /proc/net/if_inet6)")
        try await withServer({ $0.host = "::1" }) { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port, host: "::1")
                #expect(try client.request("GET /v6 HTTP/1.1\r\nHost: t\r\n\r\n").text == "GET /v6|")
            }
        }
    }

    @Test func dualStackListenerAcceptsIPv4() async throws {
        try await withServer({ $0.host = "::" }) { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port, host: "127.0.0.1")
                #expect(try client.request("GET /v4 HTTP/1.1\r\nHost: t\r\n\r\n").text == "GET /v4|")
            }
        }
    }

    @Test func preflightAnswersWithoutBodyAndKeepsConnection() async throws {
        try await withServer { _, port, handler in
            try await onDedicatedThread {
                let client = try connect(port)
                let plain = try client.request("GET /reject HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(plain.status == 404)
                #expect(plain.text == "rejected")
                // A Content-Length body is read and dropped; the connection stays usable.
                let withBody = try client.request("PUT /reject HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nabcde")
                #expect(withBody.status == 404)
                #expect(withBody.header("Connection") == nil)
                #expect(try client.request("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n").text == "GET /ok|")
            }
            #expect(handler.handled.load(ordering: .relaxed) == 1)
        }
    }

    @Test(arguments: [
        "PUT /reject HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        "PUT /reject HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
        "PUT /reject HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n",
    ])
    func preflightAnswerClosesWhenBodyCannotBeSkipped(request: String) async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                let client = try connect(port)
                let response = try client.request(request)
                #expect(response.status == 404)
                #expect(response.header("Connection") == "close")
                #expect(try client.readUntilClose().isEmpty)
            }
        }
    }
}
