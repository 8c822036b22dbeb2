import Foundation
import HTTPServer
import Synchronization
import Testing
import TestSupport

/// Many connections, concurrent clients and responses larger than the socket buffer.
@Suite(.serialized, .offCooperativePool)
struct HTTPServerLoadTests {
    @Test func holdsManyIdleConnectionsAndServesEach() async throws {
        try await withServer({ $0.keepAliveTimeout = .seconds(10) }) { server, port, _ in
            try await onDedicatedThread {
                let clients = try (0..<300).map { _ in try connect(port) }
                var polls = 0
                while server.openConnections < 300 && polls < 300 {
                    Thread.sleep(forTimeInterval: 0.01)
                    polls += 1
                }
                #expect(server.openConnections == 300)
                for (index, client) in clients.enumerated() {
                    #expect(try client.request("GET /c\(index) HTTP/1.1\r\nHost: t\r\n\r\n").text == "GET /c\(index)|")
                }
            }
        }
    }

    @Test func servesConcurrentClients() async throws {
        try await withServer { _, port, handler in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        try await onDedicatedThread {
                            let client = try connect(port)
                            var good = 0
                            for index in 0..<50 {
                                let body = "w\(worker)-\(index)"
                                let response = try client.request(
                                    "POST /w HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                                )
                                if response.text == "POST /w|\(body)" { good += 1 }
                            }
                            return good
                        }
                    }
                }
                var total = 0
                for try await good in group { total += good }
                #expect(total == 400)
            }
            #expect(handler.handled.load(ordering: .relaxed) == 400)
        }
    }

    @Test func writesResponsesLargerThanTheSocketBuffer() async throws {
        try await withServer { _, port, _ in
            try await onDedicatedThread {
                // A debug build on a busy machine is slow with 8 MiB: allow long gaps.
                let client = try connect(port, timeout: .seconds(30))
                let count = 8 << 20
                try client.send("GET /big?n=\(count) HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n")
                Thread.sleep(forTimeInterval: 0.1)  // let the server fill the socket buffer first
                let big = try client.readResponse()
                #expect(big.body.count == count)
                #expect(big.body == TestHandler.patterned(count))
                #expect(try client.readResponse().text == "GET /after|")
            }
        }
    }
}
