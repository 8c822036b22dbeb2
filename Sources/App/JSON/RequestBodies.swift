import Store

/// The parsed body of `PUT /agents/{a}/sessions/{s}`.
struct SaveBody: Sendable {
    /// The raw bytes of the `state` member, exactly as sent.
    var state: [UInt8]
    var ttl: TTLChange
    var slidingTTL: Bool?
    /// nil when the body has no `labels` (the session keeps its own).
    var labels: SessionLabels?

    /// Parses and validates a save body (DESIGN §7 "Request bodies", §11 labels).
    /// - Throws: `invalid_json` for malformed JSON; `invalid_request` for a non-object, a missing `state`,
    ///   or a bad `ttl_seconds`/`sliding_ttl`.
    init(_ body: [UInt8], maxTTL: Int64) throws(APIError) {
        let members = try RequestBodyFields.members(of: body)
        guard let state = members.last(where: { $0.name == "state" }) else {
            throw APIError.invalidRequest("The body must have a 'state' member (any JSON value).")
        }
        self.state = Array(body[state.range])
        (ttl, slidingTTL) = try RequestBodyFields.ttlPolicy(members, body: body, maxTTL: maxTTL)
        labels = try RequestBodyFields.labels(members, body: body)
    }
}

/// The parsed body of `POST` (append) and `PUT` (replace) of `/agents/{a}/sessions/{s}/messages`.
struct AppendBody: Sendable {
    /// Each message's raw bytes, exactly as sent.
    var messages: [[UInt8]]
    /// One key (or nil) per message, when the body has `keys`.
    var keys: [String?]?
    var ttl: TTLChange
    var slidingTTL: Bool?
    /// nil when the body has no `labels` (the session keeps its own).
    var labels: SessionLabels?

    /// Most messages one append or replace may carry.
    static let maxMessagesPerAppend = 1000

    /// Parses and validates an append body (1–1000 messages) or, with `allowEmpty`, a replace
    /// body (0–1000).
    /// - Throws: `invalid_json`, or `invalid_request` when `messages` is not an array of the
    ///   allowed size, or `keys` is not a parallel array of keys (1–128 visible ASCII) and nulls.
    init(_ body: [UInt8], maxTTL: Int64, allowEmpty: Bool = false) throws(APIError) {
        let members = try RequestBodyFields.members(of: body)
        let range = (allowEmpty ? 0 : 1)...AppendBody.maxMessagesPerAppend
        let sizes = "\(range.lowerBound) to \(range.upperBound)"
        guard let list = members.last(where: { $0.name == "messages" }), list.kind == .array else {
            throw APIError.invalidRequest("The body must have a 'messages' member: an array of \(sizes) JSON values.")
        }
        let ranges = JSONScanner.arrayElements(of: body, in: list.range)
        guard range.contains(ranges.count) else {
            throw APIError.invalidRequest("'messages' must hold \(sizes) values; it holds \(ranges.count).")
        }
        messages = ranges.map { Array(body[$0]) }
        if let keyList = members.last(where: { $0.name == "keys" }), keyList.kind != .null {
            let invalid = APIError.invalidRequest(
                "'keys' must be an array as long as 'messages' of keys (1 to 128 visible ASCII characters) or nulls.")
            guard keyList.kind == .array else { throw invalid }
            let keyRanges = JSONScanner.arrayElements(of: body, in: keyList.range)
            guard keyRanges.count == ranges.count else { throw invalid }
            var parsed: [String?] = []
            parsed.reserveCapacity(keyRanges.count)
            for keyRange in keyRanges {
                switch body[keyRange.lowerBound] {
                case UInt8(ascii: "n"): parsed.append(nil)
                case UInt8(ascii: "\""):
                    let key = JSONScanner.decodedString(of: body, in: keyRange)
                    guard HeaderRules.isValidIdempotencyKey(key) else { throw invalid }
                    parsed.append(key)
                default: throw invalid
                }
            }
            keys = parsed
        }
        (ttl, slidingTTL) = try RequestBodyFields.ttlPolicy(members, body: body, maxTTL: maxTTL)
        labels = try RequestBodyFields.labels(members, body: body)
    }
}

/// The parsed body of `PUT /agents/{a}/sessions/{s}/lease`: `{"holder", "ttl_ms"}`.
struct LeaseBody: Sendable {
    /// 1–128 visible ASCII characters.
    var holder: String
    /// `Lease.ttlRange`.
    var ttlMilliseconds: Int64

    /// Parses and validates a lease body.
    /// - Throws: `invalid_json`, or `invalid_request` for a missing or bad `holder` or `ttl_ms`.
    init(_ body: [UInt8]) throws(APIError) {
        let members = try RequestBodyFields.members(of: body)
        guard let holder = members.last(where: { $0.name == "holder" }), holder.kind == .string,
              case let name = JSONScanner.decodedString(of: body, in: holder.range), HeaderRules.isValidIdempotencyKey(name) else {
            throw APIError.invalidRequest("'holder' must be a string of 1 to 128 visible ASCII characters.")
        }
        let range = Lease.ttlRange
        guard let ttl = members.last(where: { $0.name == "ttl_ms" }), ttl.kind == .number,
              let milliseconds = RequestBodyFields.integralValue(body[ttl.range]), range.contains(milliseconds) else {
            throw APIError.invalidRequest("'ttl_ms' must be an integer from \(range.lowerBound) to \(range.upperBound).")
        }
        self.holder = name
        self.ttlMilliseconds = milliseconds
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

    /// Reads `labels` (DESIGN §11): nil when absent, else an object of at most 16 members whose
    /// names match `^[a-z][a-z0-9_]{0,62}$` and whose values are strings of 1–256 bytes. A name
    /// given twice counts once, with its last value.
    /// - Throws: `invalid_request` for anything else, `null` included.
    static func labels(_ members: [JSONScanner.Member], body: [UInt8]) throws(APIError) -> SessionLabels? {
        guard let member = members.last(where: { $0.name == "labels" }) else { return nil }
        let invalid = APIError.invalidRequest(
            "'labels' must be an object of at most \(LabelRules.maxLabels) labels: keys matching ^[a-z][a-z0-9_]{0,62}$, values strings of 1 to \(LabelRules.maxValueBytes) bytes.")
        guard member.kind == .object,
              let entries = try? JSONScanner.topLevelMembers(of: Array(body[member.range])) else { throw invalid }
        let object = Array(body[member.range])
        var labels: SessionLabels = [:]
        for entry in entries {
            guard LabelRules.isValidKey(entry.name), entry.kind == .string else { throw invalid }
            let value = JSONScanner.decodedString(of: object, in: entry.range)
            guard LabelRules.isValidValue(value) else { throw invalid }
            labels[entry.name] = value
        }
        guard labels.count <= LabelRules.maxLabels else { throw invalid }
        return labels
    }

    /// Reads `ttl_seconds` (integer literal 1…maxTTL, or null) and `sliding_ttl` (true/false).
    /// When a name appears more than once, the last one counts.
    static func ttlPolicy(_ members: [JSONScanner.Member], body: [UInt8], maxTTL: Int64) throws(APIError) -> (TTLChange, Bool?) {
        var ttl = TTLChange.keep
        if let member = members.last(where: { $0.name == "ttl_seconds" }) {
            if member.kind == .null {
                ttl = .persist
            } else {
                guard member.kind == .number, let seconds = integralValue(body[member.range]), seconds >= 1, seconds <= maxTTL else {
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

    /// The value of a valid JSON number literal when it is a non-negative integer, as JSON Schema's
    /// `integer` counts them (`3600`, `3600.0`, `3.6e3`), computed exactly; nil for fractions,
    /// negatives and values beyond `Int64`.
    static func integralValue(_ text: ArraySlice<UInt8>) -> Int64? {
        var digits: [UInt8] = []
        var exponent = 0
        var index = text.startIndex
        guard index < text.endIndex, text[index] != UInt8(ascii: "-") else { return nil }
        while index < text.endIndex, text[index] >= 0x30, text[index] <= 0x39 {
            digits.append(text[index] - 0x30)
            index += 1
        }
        if index < text.endIndex, text[index] == UInt8(ascii: ".") {
            index += 1
            while index < text.endIndex, text[index] >= 0x30, text[index] <= 0x39 {
                digits.append(text[index] - 0x30)
                exponent -= 1
                index += 1
            }
        }
        if index < text.endIndex, text[index] == UInt8(ascii: "e") || text[index] == UInt8(ascii: "E") {
            index += 1
            var negative = false
            if index < text.endIndex, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                negative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            var value = 0
            while index < text.endIndex, text[index] >= 0x30, text[index] <= 0x39 {
                value = min(value * 10 + Int(text[index] - 0x30), 100_000)
                index += 1
            }
            exponent += negative ? -value : value
        }
        guard index == text.endIndex else { return nil }
        while let first = digits.first, first == 0 { digits.removeFirst() }
        if digits.isEmpty { return 0 }
        while exponent < 0, digits.last == 0 {
            digits.removeLast()
            exponent += 1
        }
        guard exponent >= 0, digits.count + exponent <= 19 else { return nil }
        var result: Int64 = 0
        for digit in digits + [UInt8](repeating: 0, count: exponent) {
            let (times, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            result = sum
        }
        return result
    }
}
