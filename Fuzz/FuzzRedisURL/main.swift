// libFuzzer entry for the Redis URL parser (Sources/RedisClient/RedisURL.swift). Build and run with scripts/fuzz.
// Oracle: no trap; a parsed URL's description does not depend on the password, and parses back to the same URL
// (with the password redacted to "***").
import RedisClient

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedisURL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let url = try? RedisURL(parsing: text) else { return 0 }
    precondition(url.port > 0 && url.port <= 65535, "port out of range")
    precondition(url.database >= 0, "negative database")
    let shown = url.description
    var redacted = url
    if redacted.password != nil { redacted.password = "***" }
    precondition(shown == redacted.description, "the description depends on the password")
    guard let reparsed = try? RedisURL(parsing: shown) else { preconditionFailure("description does not parse: \(shown)") }
    precondition(reparsed == redacted, "description does not round-trip: \(shown)")
    return 0
}
