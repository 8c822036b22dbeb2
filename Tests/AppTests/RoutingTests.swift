import Testing
import TestSupport
@testable import App

@Suite(.offCooperativePool)
struct RoutingTests {
    @Test(arguments: [
        ("/healthz", Route.healthz), ("/readyz", .readyz), ("/metrics", .metrics), ("/openapi.yaml", .openapi),
        ("/agents/a/sessions", .sessions), ("/agents/a/sessions/s", .session),
        ("/agents/a/sessions/s/messages", .messages), ("/agents/a/sessions/s/messages/last", .lastMessage),
        ("/agents//sessions/x", .session), ("/agents/a/%73essions/s", .session), ("/%61gents/a/sessions/s/m%65ssages/l%61st", .lastMessage),
        ("/agents/a/sessions/s/lease", .lease), ("/agents/a/sessions/s/messages/7", .message),
    ])
    func matchesTemplates(_ path: String, _ route: Route) {
        #expect(RouteMatch(path: path)?.route == route)
    }

    @Test(arguments: ["/", "/agents", "/agents/a", "/agents/a/sessions/", "/agents/a/sessions/s/", "/agents/a/other/s",
                      "/agents/a/sessions/s/messages/last/x", "/agents/a/sessions/s/messages/1/x", "/healthz/", "healthz",
                      "", "/agents/a/sessions/s/lease/x", "/agents/a/sessions/s/x", "/agents/a/sessions/s/messages/1/x/y/z", "/healthzz", "/metric"])
    func unknownPathsDoNotMatch(_ path: String) {
        #expect(RouteMatch(path: path) == nil)
    }

    @Test func segmentsAreTheRawIDBytes() throws {
        let match = try #require(RouteMatch(path: "/agents/a%2Db/sessions/s.1~x/messages/42"))
        #expect(match.agentSegment == "a%2Db" && match.sessionSegment == "s.1~x" && match.seqSegment == "42")
        let session = try #require(RouteMatch(path: "/agents/support-bot/sessions/user-42"))
        #expect(session.agentSegment == "support-bot" && session.sessionSegment == "user-42" && session.seqSegment == nil)
        #expect(try RouteMatch(path: "/agents/a%2Db/sessions/s")?.agentID() == "a-b")
    }

    @Test func messageSeqSegmentsMatchAndAreValidatedLater() throws {
        let match = try #require(RouteMatch(path: "/agents/a/sessions/s/messages/42"))
        #expect(match.route == .message)
        #expect(try match.seq() == 42)
        #expect(RouteMatch(path: "/agents/a/sessions/s/messages/last")?.route == .lastMessage)
        for bad in ["first", "0", "-1", "1.0", "99999999999999999999"] {
            #expect(throws: APIError.self) { try RouteMatch(path: "/agents/a/sessions/s/messages/\(bad)")!.seq() }
        }
    }

    @Test(arguments: ["a", "A9", "support-bot", "user.42", "x~y@z_w-v", String(repeating: "a", count: 128), "a%2Db"])
    func validIDs(_ id: String) throws {
        let decoded = try RouteMatch.decodeID(Substring(id), name: "agent_id")
        #expect(decoded == (id == "a%2Db" ? "a-b" : id))
        // A substring of a longer string, as the router passes it.
        let path = "/agents/\(id)/sessions"
        let segment = path.dropFirst("/agents/".count).prefix(id.utf8.count)
        #expect(try RouteMatch.decodeID(segment, name: "agent_id") == decoded)
    }

    @Test(arguments: ["", "-a", ".a", "a b", "a%2Fb", "%2E%2E", "a%7Bb", "a%zz", "é", "a%C3%A9", String(repeating: "a", count: 129), "a:b"])
    func invalidIDs(_ id: String) {
        #expect(throws: APIError.invalidID("agent_id must match ^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$.")) {
            try RouteMatch.decodeID(Substring(id), name: "agent_id")
        }
    }

    @Test func percentDecodedIDKeepsCase() throws {
        #expect(try RouteMatch.decodeID("Ab%2dC", name: "agent_id") == "Ab-C")
    }
}

@Suite(.offCooperativePool)
struct HeaderRulesTests {
    @Test(arguments: [nil, "application/json", "Application/JSON; charset=utf-8", "application/problem+json", "text/vnd.x+json ; q=1",
                            " \tAPPLICATION/VND.A+JSON\t", "application/json;"])
    func jsonMediaTypes(_ value: String?) {
        #expect(HeaderRules.isJSONMediaType(value))
    }

    @Test(arguments: ["text/plain", "application/jsonx", "application/x-www-form-urlencoded", "+json", "application/+json", "", "json",
                            "a/b/c+json", "/x+json", "application/js on", "application/jsön", "application/x+jsonx"])
    func nonJSONMediaTypes(_ value: String) {
        #expect(!HeaderRules.isJSONMediaType(value))
    }

    @Test func entityTags() throws {
        let parse = { (values: [String], weak: Bool) throws(APIError) in try HeaderRules.entityTags(values, allowWeak: weak, header: "If-Match") }
        #expect(try parse([], false) == nil)
        #expect(try parse(["*"], false) == .any)
        #expect(try parse([#""3", "4""#], false) == .versions([3, 4]))
        #expect(try parse([#""3","4" ,  "5""#], false) == .versions([3, 4, 5]))
        #expect(try parse([#"W/"3""#], false) == .versions([]))
        #expect(try parse([#"W/"3""#], true) == .versions([3]))
        #expect(try parse([#""x""#, #""""#], true) == .versions([]), "well-formed tags that are no version never match")
        #expect(try parse([#""1""#, #""2""#], false) == .versions([1, 2]))
        // Anything the openapi.yaml pattern refuses is 400.
        for bad in ["", "garbage", "3", #""3"#, #""3","#, #"* , "3""#, #""a b""#, "W/", #"w/"3""#, "\"3\"\t,\"4\""] {
            #expect(throws: APIError.self, "\(bad)") { try parse([bad], false) }
        }
    }

    @Test func idempotencyKeys() {
        #expect(HeaderRules.isValidIdempotencyKey("k"))
        #expect(HeaderRules.isValidIdempotencyKey(String(repeating: "~", count: 128)))
        #expect(!HeaderRules.isValidIdempotencyKey(""))
        #expect(!HeaderRules.isValidIdempotencyKey("has space"))
        #expect(!HeaderRules.isValidIdempotencyKey(String(repeating: "k", count: 129)))
        #expect(!HeaderRules.isValidIdempotencyKey("é"))
    }

    @Test func requestIDs() {
        #expect(HeaderRules.isValidRequestID("abc-123:x@y.z_w"))
        #expect(!HeaderRules.isValidRequestID(""))
        #expect(!HeaderRules.isValidRequestID("a b"))
        #expect(!HeaderRules.isValidRequestID(String(repeating: "a", count: 129)))
        let generator = RequestIDGenerator()
        let first = generator.next()
        #expect(HeaderRules.isValidRequestID(first))
        #expect(first != generator.next())
        // The format: 12 hex digits of prefix, a dash, the counter in at least 8 hex digits.
        let third = generator.next()
        #expect(third.utf8.count == 21)
        #expect(third.hasSuffix("-00000003"))
        #expect(third.prefix(13) == first.prefix(13))
        #expect(third.prefix(12).allSatisfy { "0123456789abcdef".contains($0) })
        #expect(String(decoding: RequestIDGenerator.hex(0xAB, minimumDigits: 8), as: UTF8.self) == "000000ab")
        #expect(String(decoding: RequestIDGenerator.hex(0x1_2345_6789, minimumDigits: 8), as: UTF8.self) == "123456789")
        #expect(String(decoding: RequestIDGenerator.hex(.max, minimumDigits: 12), as: UTF8.self) == "ffffffffffffffff")
        #expect(String(decoding: RequestIDGenerator.hex(0, minimumDigits: 12), as: UTF8.self) == "000000000000")
    }
}

@Suite(.offCooperativePool)
struct QueryParametersTests {
    @Test func parsesAndDecodes() throws {
        let query = try QueryParameters("limit=5&cursor=12-a%7Eb&flag")
        #expect(try query.integer("limit", in: 1...1000, default: 50) == 5)
        #expect(try query.single("cursor") == "12-a~b")
        #expect(try query.single("flag") == "")
        #expect(try query.single("missing") == nil)
        #expect(try query.integer("missing", in: 1...10, default: 7) == 7)
    }

    @Test(arguments: ["limit=0", "limit=1001", "limit=abc", "limit=", "limit=-1", "limit=1.5", "limit=+5", "limit=1&limit=2", "limit=99999999999999999999"])
    func rejectsBadLimits(_ query: String) throws {
        let parameters = try QueryParameters(query)
        #expect(throws: APIError.self) { try parameters.integer("limit", in: 1...1000, default: 50) }
    }

    @Test func rejectsBadEscapes() {
        #expect(throws: APIError.self) { try QueryParameters("cursor=%zz") }
    }
}
