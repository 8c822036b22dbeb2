import Foundation
import HTTPServer
import Store
import Testing
import TestSupport
@testable import App

@Suite(.offCooperativePool)
struct RequestBodyTests {
    private func save(_ text: String, maxTTL: Int64 = 2_592_000) throws(APIError) -> SaveBody {
        try SaveBody(Array(text.utf8), maxTTL: maxTTL)
    }

    @Test func saveKeepsStateBytesExactly() throws {
        let body = try save(#"{"state": {"n": 9007199254740993, "f": 0.1, "b": 12345678901234567890} }"#)
        #expect(String(decoding: body.state, as: UTF8.self) == #"{"n": 9007199254740993, "f": 0.1, "b": 12345678901234567890}"#)
        #expect(body.ttl == .keep)
        #expect(body.slidingTTL == nil)
    }

    @Test func saveTTLForms() throws {
        #expect(try save(#"{"state":1,"ttl_seconds":null}"#).ttl == .persist)
        #expect(try save(#"{"state":1,"ttl_seconds":60,"sliding_ttl":true}"#).ttl == .seconds(60))
        #expect(try save(#"{"state":1,"sliding_ttl":false}"#).slidingTTL == false)
        #expect(try save(#"{"state":1,"ttl_seconds":10,"ttl_seconds":20}"#).ttl == .seconds(20))
        // JSON Schema's integer: a number without a fractional part, however it is written (DESIGN §7).
        #expect(try save(#"{"state":1,"ttl_seconds":1.0}"#).ttl == .seconds(1))
        #expect(try save(#"{"state":1,"ttl_seconds":1e3}"#).ttl == .seconds(1000))
        #expect(try save(#"{"state":1,"ttl_seconds":2.5920000e6}"#).ttl == .seconds(2_592_000))
        #expect(try save(#"{"state":1,"ttl_seconds":0.36e4}"#).ttl == .seconds(3600))
        #expect(try save(#"{"state":null,"unknown":{"x":1}}"#).state == Array("null".utf8))
    }

    @Test(arguments: [
        #"{"state":1,"ttl_seconds":"10"}"#, #"{"state":1,"ttl_seconds":1.5}"#, #"{"state":1,"ttl_seconds":0.0}"#,
        #"{"state":1,"ttl_seconds":true}"#, #"{"state":1,"ttl_seconds":0}"#, #"{"state":1,"ttl_seconds":-5}"#,
        #"{"state":1,"ttl_seconds":2592001}"#, #"{"state":1,"ttl_seconds":2.5920001e6}"#, #"{"state":1,"sliding_ttl":"true"}"#,
        #"{"state":1,"sliding_ttl":null}"#, #"{"nostate":1}"#, "[1]", "3",
    ])
    func saveRejectsInvalidRequests(_ text: String) {
        #expect(code(of: text) == "invalid_request")
    }

    @Test(arguments: ["", "{", #"{"state":}"#, "nul", #"{"state":1"#])
    func saveRejectsMalformedJSON(_ text: String) {
        #expect(code(of: text) == "invalid_json")
    }

    /// The problem code a save body is rejected with, or nil when it is accepted.
    private func code(of text: String) -> String? {
        do {
            _ = try save(text)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func appendSplitsMessages() throws {
        let body = try AppendBody(Array(#"{"messages":[{"role":"user"}, 0.1 ,"x"],"ttl_seconds":5}"#.utf8), maxTTL: 100)
        #expect(body.messages.map { String(decoding: $0, as: UTF8.self) } == [#"{"role":"user"}"#, "0.1", #""x""#])
        #expect(body.ttl == .seconds(5))
    }

    @Test func appendCountLimits() throws {
        let thousand = "[" + Array(repeating: "1", count: 1000).joined(separator: ",") + "]"
        #expect(try AppendBody(Array("{\"messages\":\(thousand)}".utf8), maxTTL: 10).messages.count == 1000)
        let tooMany = "[" + Array(repeating: "1", count: 1001).joined(separator: ",") + "]"
        for text in ["{\"messages\":\(tooMany)}", #"{"messages":[]}"#, #"{"messages":{}}"#, #"{"messages":"x"}"#, "{}"] {
            #expect(throws: APIError.self) { try AppendBody(Array(text.utf8), maxTTL: 10) }
        }
    }
}

@Suite(.offCooperativePool)
struct ConfigurationTests {
    private func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws(ConfigurationError) -> AppConfiguration {
        guard case .serve(let config) = try AppConfiguration.parse(arguments: arguments, environment: environment) else {
            throw ConfigurationError(message: "not serve")
        }
        return config
    }

    @Test func defaults() throws {
        let config = try parse([])
        #expect(config == AppConfiguration())
        #expect(config.store == .memory && config.port == 8080 && config.host == "0.0.0.0")
        #expect(config.maxBodyBytes == 1_048_576 && config.maxMessages == 100_000 && config.maxSessionBytes == 67_108_864 && config.maxTTLSeconds == 2_592_000)
    }

    @Test func flagsBeatEnvironment() throws {
        let config = try parse(["--port", "9000", "--max-messages=5"], ["AGENTSTATE_PORT": "7000", "PORT": "6000", "AGENTSTATE_LOG_LEVEL": "debug"])
        #expect(config.port == 9000 && config.maxMessages == 5 && config.logLevel == .debug)
        #expect(try parse([], ["PORT": "6000"]).port == 6000)
        #expect(try parse([], ["AGENTSTATE_PORT": "7000", "PORT": "6000"]).port == 7000)
    }

    @Test func redisURLSelectsRedis() throws {
        let config = try parse([], ["REDIS_URL": "redis://:secret@localhost:6380/2"])
        #expect(config.store == .redis)
        #expect(try parse(["--store", "redis"]).redisURL == "redis://127.0.0.1:6379")
        #expect(try parse(["--store", "memory"], ["REDIS_URL": "redis://h"]).store == .memory)
        let metadata = config.logMetadata.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        #expect(!metadata.contains("secret"))
    }

    @Test(arguments: [
        ["--port", "70000"], ["--port", "x"], ["--store", "disk"], ["--bogus"], ["--max-ttl", "0"], ["--log-level", "loud"],
        ["--log-format", "xml"], ["--port"], ["--default-ttl", "100", "--max-ttl", "10"], ["--max-body-bytes", "-1"],
        ["--redis-url", "http://x"], ["--redis-connections", "0"], ["--event-loops", "0"], ["--event-loops", "65"],
    ])
    func invalidValuesFailWithOneLine(_ arguments: [String]) {
        do {
            _ = try AppConfiguration.parse(arguments: arguments, environment: [:])
            Issue.record("expected a configuration error for \(arguments)")
        } catch {
            #expect(!error.message.contains("\n"))
            #expect(error.message.hasPrefix("agentstate: "))
        }
    }

    @Test func eventLoopsComeFromTheFlagOrTheEnvironment() throws {
        #expect(try parse(["--event-loops", "3"]).eventLoops == 3)
        #expect(try parse([], ["AGENTSTATE_EVENT_LOOPS": "1"]).eventLoops == 1)
        #expect(try parse(["--event-loops", "2"], ["AGENTSTATE_EVENT_LOOPS": "1"]).eventLoops == 2)
        let byDefault = try parse([]).eventLoops
        #expect(byDefault == UsableCores.count)
        #expect(try parse(["--event-loops", "3"]).logMetadata.contains { $0.0 == "event_loops" && $0.1 == .int(3) })
    }

    @Test func helpListsEveryFlag() throws {
        #expect(try AppConfiguration.parse(arguments: ["--help"], environment: [:]) == .help)
        for flag in ["--host", "--port", "--store", "--redis-url", "--key-prefix", "--redis-connections", "--default-ttl", "--max-ttl", "--max-body-bytes",
                     "--max-messages", "--max-connections", "--event-loops", "--shutdown-grace", "--log-level", "--log-format"] {
            #expect(AppConfiguration.helpText.contains(flag))
        }
    }
}
