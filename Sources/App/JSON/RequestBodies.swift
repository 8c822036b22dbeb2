import Store

/// The parsed body of `PUT /agents/{a}/sessions/{s}`.
struct SaveBody: Sendable {
    /// The raw bytes of the `state` member, exactly as sent.
    var state: [UInt8]
    var ttl: TTLChange
    var slidingTTL: Bool?

    /// Parses and validates a save body (DESIGN §7 "Request bodies").
    /// - Throws: `invalid_json` for malformed JSON; `invalid_request` for a non-object, a missing `state`,
    ///   or a bad `ttl_seconds`/`sliding_ttl`.
    init(_ body: [UInt8], maxTTL: Int64) throws(APIError) {
        let members = try RequestBodyFields.members(of: body)
        guard let state = members.last(where: { $0.name == "state" }) else {
            throw APIError.invalidRequest("The body must have a 'state' member (any JSON value).")
        }
        self.state = Array(body[state.range])
        (ttl, slidingTTL) = try RequestBodyFields.ttlPolicy(members, body: body, maxTTL: maxTTL)
    }
}

/// The parsed body of `POST /agents/{a}/sessions/{s}/messages`.
struct AppendBody: Sendable {
    /// Each message's raw bytes, exactly as sent.
    var messages: [[UInt8]]
    var ttl: TTLChange
    var slidingTTL: Bool?

    /// Most messages one append may carry.
    static let maxMessagesPerAppend = 1000

    /// Parses and validates an append body.
    /// - Throws: `invalid_json`, or `invalid_request` when `messages` is not an array of 1–1000 values.
    init(_ body: [UInt8], maxTTL: Int64) throws(APIError) {
        let members = try RequestBodyFields.members(of: body)
        guard let list = members.last(where: { $0.name == "messages" }), list.kind == .array else {
            throw APIError.invalidRequest("The body must have a 'messages' member: an array of 1 to 1000 JSON values.")
        }
        let ranges = JSONScanner.arrayElements(of: body, in: list.range)
        guard (1...AppendBody.maxMessagesPerAppend).contains(ranges.count) else {
            throw APIError.invalidRequest("'messages' must hold 1 to 1000 values; it holds \(ranges.count).")
        }
        messages = ranges.map { Array(body[$0]) }
        (ttl, slidingTTL) = try RequestBodyFields.ttlPolicy(members, body: body, maxTTL: maxTTL)
    }
}

/// Member extraction shared by the request bodies.
enum RequestBodyFields {
    /// Validates the whole body and returns its top-level members.
    static func members(of body: [UInt8]) throws(APIError) -> [JSONScanner.Member] {
        let members: [JSONScanner.Member]?
        do {
            members = try JSONScanner.topLevelMembers(of: body)
        } catch {
            throw APIError.invalidJSON("The body is not valid JSON: \(error.reason) at byte \(error.offset).")
        }
        guard let members else { throw APIError.invalidRequest("The body must be a JSON object.") }
        return members
    }

    /// Reads `ttl_seconds` (integer literal 1…maxTTL, or null) and `sliding_ttl` (true/false).
    /// When a name appears more than once, the last one counts.
    static func ttlPolicy(_ members: [JSONScanner.Member], body: [UInt8], maxTTL: Int64) throws(APIError) -> (TTLChange, Bool?) {
        var ttl = TTLChange.keep
        if let member = members.last(where: { $0.name == "ttl_seconds" }) {
            if member.kind == .null {
                ttl = .persist
            } else {
                let text = body[member.range]
                guard member.kind == .number, text.count <= 19, text.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                      let seconds = Int64(String(decoding: text, as: UTF8.self)), seconds >= 1, seconds <= maxTTL else {
                    throw APIError.invalidRequest("'ttl_seconds' must be an integer from 1 to \(maxTTL), or null.")
                }
                ttl = .seconds(seconds)
            }
        }
        var sliding: Bool?
        if let member = members.last(where: { $0.name == "sliding_ttl" }) {
            guard member.kind == .bool else { throw APIError.invalidRequest("'sliding_ttl' must be true or false.") }
            sliding = body[member.range.lowerBound] == UInt8(ascii: "t")
        }
        return (ttl, sliding)
    }
}
