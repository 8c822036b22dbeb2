import Testing
import TestSupport
@testable import HTTPServer

/// Field lookups ignore case, keep order, and never mistake one name for another that shares its length and
/// (lowercased) first byte.
@Suite(.offCooperativePool)
struct HTTPHeadersTests {
    @Test func lookupsIgnoreCaseAndKeepOrder() {
        var headers = HTTPHeaders([("Content-Type", "a"), ("X-Two", "1"), ("x-two", "2"), ("Host", "h")])
        #expect(headers["content-type"] == "a" && headers["HOST"] == "h" && headers["Hos"] == nil)
        #expect(headers.values("X-TWO") == ["1", "2"] && headers.count(of: "x-Two") == 2 && headers.contains("x-two"))
        headers.set("X-TWO", "3")
        #expect(headers.values("x-two") == ["3"] && headers.count == 3)
        #expect(Array(headers).map(\.name) == ["Content-Type", "X-TWO", "Host"], "set keeps the first field's place")
        headers.remove("content-TYPE")
        #expect(!headers.contains("Content-Type") && headers.count == 2)
    }

    /// `@` and `` ` `` differ by the bit that lowercases letters: same length, same lowered first byte, but
    /// different names.
    @Test func namesThatOnlyLookAlikeDoNotMatch() {
        let headers = HTTPHeaders([("@a", "at"), ("Ab", "letter")])
        #expect(headers["`a"] == nil)
        #expect(headers["@a"] == "at")
        #expect(headers["aB"] == "letter" && headers["`b"] == nil)
        #expect(headers.containsToken("letter", in: "ab") && !headers.containsToken("at", in: "`a"))
    }
}
