import Foundation
import Testing
import TestSupport
@testable import App

/// Bearer-token auth (DESIGN §9) against the real binary: every rule, reloads, metrics protection
/// and logs that never carry a token.
@Suite(.offCooperativePool)
struct AuthTests {
    /// A tokens file in a fresh temporary directory, plus the tokens it admits.
    struct TokenFixture {
        let directory: String
        let path: String
        static let writer = "ast_writer-token-0123456789"
        static let reader = "ast_reader-token-0123456789"
        static let support = "ast_support-token-0123456789"

        init(lines: [String]? = nil) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentstate-auth-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            path = directory + "/tokens"
            try write(lines ?? [
                "# name digest access agents",
                "writer \(Self.digest(Self.writer)) write *",
                "",
                "reader \(Self.digest(Self.reader)) read *   # read-only, every agent",
                "support \(Self.digest(Self.support)) write support-*,exact-agent",
            ])
        }

        static func digest(_ token: String) -> String { SHA256.hexDigest(Array(token.utf8)) }

        func write(_ lines: [String], mode: Int = 0o600) throws {
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    private static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

    @Test func missingMalformedAndUnknownTokensAre401WithTheChallenge() async throws {
        let tokens = try TokenFixture()
        defer { tokens.remove() }
        let server = try await AgentStateProcess(["--auth-tokens-file", tokens.path])
        let path = "/agents/a/sessions/s"
        for headers in [[], [("Authorization", "Basic d3JpdGVyOng=")], [("Authorization", "Bearer")], [("Authorization", "Bearer ")],
                        [("Authorization", "Bearer \(TokenFixture.writer)x")], [("Authorization", TokenFixture.writer)]] {
            let response = try await server.call("GET", path, headers: headers)
            #expect(response.status == 401, "\(headers)")
            #expect(response.header("WWW-Authenticate") == #"Bearer realm="agentstate""#)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.json["code"] as? String == "unauthorized")
            #expect(response.json["request_id"] as? String == response.header("X-Request-Id"))
        }
        // The scheme is case-insensitive, and the right token opens the route.
        #expect(try await server.call("GET", path, headers: [("Authorization", "bearer \(TokenFixture.writer)")]).status == 404)
        let metrics = try await server.call("GET", "/metrics").text
        #expect(metrics.contains(#"agentstate_auth_failures_total{reason="missing"} 1"#))
        #expect(metrics.contains(#"agentstate_auth_failures_total{reason="invalid"} 5"#))
    }

    @Test func readTokensReadAndAreForbiddenOnEveryMutation() async throws {
        let tokens = try TokenFixture()
        defer { tokens.remove() }
        let server = try await AgentStateProcess(["--auth-tokens-file", tokens.path])
        let writer = Self.bearer(TokenFixture.writer), reader = Self.bearer(TokenFixture.reader)
        let session = "/agents/a/sessions/s"
        #expect(try await server.call("PUT", session, headers: writer, body: #"{"state":1}"#).status == 201)
        #expect(try await server.call("POST", session + "/messages", headers: writer, body: #"{"messages":[1,2]}"#).status == 201)

        #expect(try await server.call("GET", session, headers: reader).status == 200)
        #expect(try await server.call("HEAD", session, headers: reader).status == 200)
        #expect(try await server.call("GET", session + "/messages", headers: reader).status == 200)
        #expect(try await server.call("GET", "/agents/a/sessions", headers: reader).status == 200)
        let mutations: [(String, String, String?)] = [
            ("PUT", session, #"{"state":2}"#), ("DELETE", session, nil), ("DELETE", "/agents/a/sessions", nil),
            ("POST", session + "/messages", #"{"messages":[3]}"#), ("DELETE", session + "/messages", nil),
            ("DELETE", session + "/messages/last", nil),
        ]
        for (method, path, body) in mutations {
            let response = try await server.call(method, path, headers: reader, body: body)
            #expect(response.status == 403, "\(method) \(path)")
            #expect(response.json["code"] as? String == "forbidden")
            #expect(response.header("WWW-Authenticate") == nil)
        }
        // Nothing was written by the refused requests.
        let loaded = try await server.call("GET", session, headers: reader)
        #expect(loaded.json["version"] as? Int == 2)
        #expect(loaded.json["message_count"] as? Int == 2)
        #expect(try await server.call("GET", "/metrics").text.contains(#"agentstate_auth_failures_total{reason="forbidden"} 6"#))
    }

    @Test(arguments: [("support-bot", 201), ("support-", 201), ("exact-agent", 201), ("exact-agent2", 403), ("sales", 403), ("Support-bot", 403)])
    func patternsCoverOnlyTheirAgents(_ agent: String, _ status: Int) async throws {
        let tokens = try TokenFixture()
        defer { tokens.remove() }
        let server = try await AgentStateProcess(["--auth-tokens-file", tokens.path])
        let response = try await server.call("PUT", "/agents/\(agent)/sessions/s", headers: Self.bearer(TokenFixture.support), body: #"{"state":1}"#)
        #expect(response.status == status)
    }

    @Test func checksComeAfterRouteAndMethodAndBeforeIDs() async throws {
        let tokens = try TokenFixture()
        defer { tokens.remove() }
        let server = try await AgentStateProcess(["--auth-tokens-file", tokens.path])
        #expect(try await server.call("GET", "/nowhere").status == 404)
        #expect(try await server.call("PATCH", "/agents/a/sessions/s").status == 405)
        #expect(try await server.call("GET", "/agents/bad%2Fid/sessions/s").status == 401, "auth before IDs")
        #expect(try await server.call("GET", "/agents/bad%2Fid/sessions/s", headers: Self.bearer(TokenFixture.writer)).status == 400)
        #expect(try await server.call("PUT", "/agents/a/sessions/s", headers: [("Content-Type", "text/plain")], body: "x").status == 401,
                "auth before the media type")
        // Open routes stay open; /metrics too without --metrics-token-file.
        for path in ["/healthz", "/readyz", "/openapi.yaml", "/metrics"] {
            #expect(try await server.call("GET", path).status == 200, "\(path)")
        }
    }

    @Test func metricsTokenProtectsMetricsWithOrWithoutAPITokens() async throws {
        let tokens = try TokenFixture()
        defer { tokens.remove() }
        let metricsFile = tokens.directory + "/metrics-token"
        try "scrape-secret-42\r\n".write(toFile: metricsFile, atomically: true, encoding: .utf8)
        for extra in [[], ["--auth-tokens-file", tokens.path]] {
            let server = try await AgentStateProcess(["--metrics-token-file", metricsFile] + extra)
            #expect(try await server.call("GET", "/metrics").status == 401)
            #expect(try await server.call("GET", "/metrics", headers: Self.bearer("scrape-secret-4")).status == 401, "a prefix is not the token")
            #expect(try await server.call("GET", "/metrics", headers: Self.bearer(TokenFixture.writer)).status == 401, "API tokens do not open /metrics")
            let scrape = try await server.call("GET", "/metrics", headers: Self.bearer("scrape-secret-42"))
            #expect(scrape.status == 200)
            #expect(scrape.text.contains("agentstate_build_info"))
            #expect(try await server.call("GET", "/healthz").status == 200)
            let api = try await server.call("GET", "/agents/a/sessions/s")
            #expect(api.status == (extra.isEmpty ? 404 : 401))
        }
    }

    @Test func sighupReloadsAndABrokenFileKeepsTheOldTokens() async throws {
        let tokens = try TokenFixture()
        defer { tokens.remove() }
        let server = try await AgentStateProcess(["--auth-tokens-file", tokens.path])
        let newcomer = "ast_newcomer-token-42"
        let path = "/agents/a/sessions/s"
        #expect(try await server.call("GET", path, headers: Self.bearer(newcomer)).status == 401)

        try tokens.write(["newcomer \(TokenFixture.digest(newcomer)) read *"])
        server.child.send(SIGHUP)
        var reloaded = false
        for _ in 0..<100 where !reloaded {
            reloaded = try await server.call("GET", path, headers: Self.bearer(newcomer)).status == 404
            if !reloaded { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(reloaded, "the new token works after SIGHUP")
        #expect(try await server.call("GET", path, headers: Self.bearer(TokenFixture.writer)).status == 401, "the old file's tokens are gone")

        try tokens.write(["# fine", "newcomer \(TokenFixture.digest(newcomer)) read *", "broken line"])
        server.child.send(SIGHUP)
        var logged = false
        for _ in 0..<100 where !logged {
            logged = server.log().contains("tokens file rejected")
            if !logged { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(logged)
        let line = try #require(server.log().split(separator: "\n").first { $0.contains("tokens file rejected") })
        #expect(line.contains(#""line":3"#), "names the physical line: \(line)")
        #expect(try await server.call("GET", path, headers: Self.bearer(newcomer)).status == 404, "the old tokens stay in force")
        #expect(server.child.pollExit() == nil)
    }

    @Test func logsCarryTheTokenNameNeverTheToken() async throws {
        let tokens = try TokenFixture()
        defer { tokens.remove() }
        let metricsFile = tokens.directory + "/metrics-token"
        try "scrape-secret-42\n".write(toFile: metricsFile, atomically: true, encoding: .utf8)
        let server = try await AgentStateProcess(["--auth-tokens-file", tokens.path, "--metrics-token-file", metricsFile, "--log-level", "debug"])
        #expect(try await server.call("PUT", "/agents/a/sessions/s", headers: Self.bearer(TokenFixture.writer), body: #"{"state":1}"#).status == 201)
        #expect(try await server.call("GET", "/agents/a/sessions/s", headers: Self.bearer(TokenFixture.reader)).status == 200)
        #expect(try await server.call("GET", "/agents/a/sessions/s", headers: Self.bearer("ast_not-a-known-token")).status == 401)
        #expect(try await server.call("GET", "/metrics", headers: Self.bearer("scrape-secret-42")).status == 200)
        let log = server.log()
        #expect(log.contains(#""token_name":"writer""#))
        #expect(log.contains(#""token_name":"reader""#))
        for secret in [TokenFixture.writer, TokenFixture.reader, "ast_not-a-known-token", "scrape-secret-42", "token-0123456789"] {
            #expect(!log.contains(secret), "\(secret) leaked into the log")
        }
    }

    @Test func startupRefusesBrokenTokensFilesAndWarnsAboutReadableOnes() async throws {
        let tokens = try TokenFixture()
        defer { tokens.remove() }
        try tokens.write(["# header", "", "writer \(TokenFixture.digest(TokenFixture.writer)) admin *"])
        var (status, output) = try await AgentStateProcess.run(["--auth-tokens-file", tokens.path])
        #expect(status == 2)
        #expect(output.split(separator: "\n").count == 1)
        #expect(output.contains("line 3"), "\(output)")

        (status, output) = try await AgentStateProcess.run(["--auth-tokens-file", tokens.directory + "/missing"])
        #expect(status == 2)
        #expect(output.hasPrefix("agentstate: cannot read --auth-tokens-file"))

        try tokens.write(["writer \(TokenFixture.digest(TokenFixture.writer)) write *"], mode: 0o644)
        let server = try await AgentStateProcess(["--auth-tokens-file", tokens.path])
        #expect(server.log().contains("secret file is readable by other users"))
        #expect(try await server.call("GET", "/agents/a/sessions", headers: Self.bearer(TokenFixture.writer)).status == 200)
    }

    @Test func tokenCommandPrintsATokenAndALineTheServerAccepts() async throws {
        let (status, output) = try await AgentStateProcess.run(["token", "--name", "ci-bot", "--access", "read", "--agents", "a*,b"])
        #expect(status == 0)
        let lines = output.split(separator: "\n").filter { !$0.hasPrefix("#") }
        try #require(lines.count == 2, "\(output)")
        let token = String(lines[0])
        #expect(token.hasPrefix("ast_") && token.utf8.count == 68)
        #expect(lines[1] == "ci-bot \(TokenFixture.digest(token)) read a*,b")
        let again = try await AgentStateProcess.run(["token"]).output
        #expect(!again.contains(token), "every token is new")
        #expect(try await AgentStateProcess.run(["token", "--access", "admin"]).status == 2)

        let tokens = try TokenFixture(lines: [String(lines[1])])
        defer { tokens.remove() }
        let server = try await AgentStateProcess(["--auth-tokens-file", tokens.path])
        #expect(try await server.call("GET", "/agents/abc/sessions", headers: Self.bearer(token)).status == 200)
        #expect(try await server.call("DELETE", "/agents/abc/sessions", headers: Self.bearer(token)).status == 403)
        #expect(try await server.call("GET", "/agents/c/sessions", headers: Self.bearer(token)).status == 403)
    }
}

/// The parts of auth that need no process: the file format, globs, the header and comparisons.
@Suite(.offCooperativePool)
struct AuthRulesTests {
    @Test(arguments: [
        ("*", "anything", true), ("support-*", "support-bot", true), ("support-*", "support-", true), ("support-*", "support", false),
        ("*-bot", "support-bot", true), ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXbYY", false), ("exact", "exact", true),
        ("exact", "exact2", false), ("**", "", true), ("a*a*a", "aaaa", true), ("a*a*a", "aa", false),
    ])
    func globs(_ pattern: String, _ agent: String, _ matches: Bool) throws {
        let parsed = try #require(AgentPattern(pattern[...]))
        #expect(parsed.matches(agent[...]) == matches)
    }

    @Test func tokenFileRejectsEachKindOfBadLineByNumber() {
        let digest = String(repeating: "ab", count: 32)
        let bad: [(String, String)] = [
            ("one two three", "expected 4 fields"),
            ("n \(digest.dropLast()) read *", "64 hex"),
            ("n \(digest) admin *", "read or write"),
            ("n \(digest) read a/b", "agent pattern"),
            ("n \(digest) read a,,b", "agent pattern"),
            ("n!x \(digest) read *", "token name"),
        ]
        for (line, reason) in bad {
            #expect {
                _ = try TokenFile.parse("# comment\n\n\(line)\n")
            } throws: { error in
                let error = error as? TokenFile.ParseError
                return error?.line == 3 && error?.reason.contains(reason) == true
            }
        }
        #expect(throws: TokenFile.ParseError.self) { try TokenFile.parse("a \(digest) read *\na \(String(repeating: "cd", count: 32)) read *") }
        #expect(throws: TokenFile.ParseError.self) { try TokenFile.parse("a \(digest) read *\nb \(digest.uppercased()) read *") }
        let parsed = try? TokenFile.parse("a \(digest.uppercased()) write x,y*  # trailing comment\r\n")
        #expect(parsed?.count == 1)
        #expect(parsed?.first?.digest == TokenFile.hexBytes(digest[...]))
        #expect(parsed?.first?.patterns.count == 2)
    }

    @Test func bearerHeaderParsing() {
        #expect(Authenticator.bearerToken("Bearer abc") == "abc")
        #expect(Authenticator.bearerToken("BEARER   abc") == "abc")
        for header in ["Bearer", "Bearer ", "Basic abc", "Bearer a b", "Bearerabc", "abc", "Bearer \u{7F}"] {
            #expect(Authenticator.bearerToken(header) == nil, "\(header)")
        }
    }

    @Test func constantTimeEqualityAndDigests() {
        #expect(SHA256.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!SHA256.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!SHA256.constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(SHA256.digest(Array("abc".utf8)).count == 32)
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
