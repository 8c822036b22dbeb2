import Foundation
import Testing
import TestSupport

/// Concurrent writers over HTTP.
@Suite(.offCooperativePool)
struct ConcurrencyTests {
    @Test func onlyOneConditionalWriterWins() async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/race"
        #expect(try await server.call("PUT", path, body: #"{"state":0}"#).status == 201)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<20 {
                group.addTask { try await server.call("PUT", path, headers: [("If-Match", #""1""#)], body: #"{"state":\#(writer)}"#).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 1)
        #expect(statuses.filter { $0 == 412 }.count == 19)
        #expect(try await server.call("GET", path).header("ETag") == #""2""#)
    }

    @Test func concurrentAppendsGetDenseSeqs() async throws {
        let server = try await service()
        let path = "/agents/\(uniqueAgent())/sessions/log/messages"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<10 {
                group.addTask {
                    for message in 0..<20 {
                        let response = try await server.call("POST", path, body: #"{"messages":["\#(writer)-\#(message)"]}"#)
                        #expect(response.status == 201)
                    }
                }
            }
            try await group.waitForAll()
        }
        let page = try await server.call("GET", path + "?after=0&limit=1000")
        let messages = try #require(page.json["messages"] as? [[String: Any]])
        #expect(messages.compactMap { $0["seq"] as? Int } == Array(1...200))
        #expect(Set(messages.compactMap { $0["data"] as? String }).count == 200)
    }
}
