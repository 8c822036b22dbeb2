import Testing
import TestSupport
@testable import HTTPServer

/// The `Date` header (RFC 9110 §5.6.7 IMF-fixdate).
@Suite(.offCooperativePool)
struct HTTPDateTests {
    @Test(arguments: [
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_795_322_897, "Sun, 22 Nov 2026 04:48:17 GMT"),
    ])
    func formatsIMFFixdate(_ seconds: Int, _ expected: String) {
        #expect(HTTPDateCache.format(seconds) == expected)
    }
}
