import Testing
import TestSupport
@testable import RedisClient

@Suite(.offCooperativePool)
struct RedisURLTests {
    @Test(arguments: [
        ("redis://localhost", RedisURL(host: "localhost")),
        ("redis://127.0.0.1:6380", RedisURL(host: "127.0.0.1", port: 6380)),
        ("redis://cache.internal:6379/3", RedisURL(host: "cache.internal", database: 3)),
        ("redis://cache/", RedisURL(host: "cache")),
        ("REDIS://Cache:1/0", RedisURL(host: "Cache", port: 1)),
        ("redis://:secret@h", RedisURL(host: "h", password: "secret")),
        ("redis://alice:secret@h:7000/2", RedisURL(host: "h", port: 7000, username: "alice", password: "secret", database: 2)),
        ("redis://alice@h", RedisURL(host: "h", username: "alice")),
        ("redis://al%40ice:p%3Aw%2F%40d%25@h", RedisURL(host: "h", username: "al@ice", password: "p:w/@d%")),
        ("redis://:p@ss@h", RedisURL(host: "h", password: "p@ss")),
        ("redis://[::1]", RedisURL(host: "::1")),
        ("redis://[::1]:6390/1", RedisURL(host: "::1", port: 6390, database: 1)),
        ("redis://u:p@[fe80::1]:1", RedisURL(host: "fe80::1", port: 1, username: "u", password: "p")),
        ("rediss://h:6380", RedisURL(scheme: .rediss, host: "h", port: 6380)),
        ("redis://h/5?ignored=1", RedisURL(host: "h", database: 5)),
    ])
    func parsesEveryForm(text: String, expected: RedisURL) throws {
        #expect(try RedisURL(parsing: text) == expected)
    }

    @Test(arguments: [
        "localhost:6379",
        "http://h",
        "redis://",
        "redis://:pw@",
        "redis://h:0",
        "redis://h:65536",
        "redis://h:abc",
        "redis://h:+80",
        "redis://h/-1",
        "redis://h/x",
        "redis://[::1",
        "redis://[::1]x",
        "redis://:bad%zzsecret@h",
        // Hosts are visible ASCII: the last one is the input Fuzz/FuzzRedisURL found (U+070F joins the ":" after it).
        "redis://h\u{0}", "redis://h\u{1}:6379", "redis://hé", "redis://h\u{7F}", "redis://a,b\u{070F}",
    ])
    func rejectsMalformedURLs(text: String) {
        #expect(throws: RedisURLError.self) { try RedisURL(parsing: text) }
    }

    @Test func errorMessagesNeverContainThePassword() {
        for text in ["redis://:hunter2@h:99999", "redis://u:hunter2%zz@h", "redis://u:hunter2@h/x", "redis://u:hunter2@"] {
            do {
                _ = try RedisURL(parsing: text)
                Issue.record("expected \(text) to fail")
            } catch {
                #expect(!error.description.contains("hunter2"))
                #expect(!error.message.contains("hunter2"))
            }
        }
    }

    @Test(arguments: [
        ("redis://alice:hunter2@h:6379/0", "redis://alice:***@h:6379/0"),
        ("redis://:hunter2@h", "redis://:***@h:6379/0"),
        ("redis://h", "redis://h:6379/0"),
        ("redis://[::1]:7000/2", "redis://[::1]:7000/2"),
        ("rediss://a%20b@h", "rediss://a%20b@h:6379/0"),
    ])
    func descriptionRedactsThePassword(text: String, expected: String) throws {
        let url = try RedisURL(parsing: text)
        #expect(url.description == expected)
        #expect(!String(reflecting: url).contains("hunter2"))
        var dumped = ""
        dump(url, to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }
}
