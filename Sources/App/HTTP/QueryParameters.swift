/// The decoded parameters of a request's query string.
struct QueryParameters: Sendable {
    private var pairs: [(name: String, value: String)] = []

    /// Parses `a=1&b=2`. Empty pieces are skipped.
    /// - Throws: `invalid_request` for a malformed percent-escape.
    init(_ query: String?) throws(APIError) {
        guard let query, !query.isEmpty else { return }
        for piece in query.utf8.split(separator: UInt8(ascii: "&")) {
            let parts = piece.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentEncoding.decode(parts[0]),
                  let value = PercentEncoding.decode(parts.count > 1 ? parts[1] : piece[piece.endIndex...]) else {
                throw APIError.invalidRequest("The query string has a malformed percent-escape.")
            }
            pairs.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
    }

    /// The value of a parameter given at most once; nil when absent.
    /// - Throws: `invalid_request` when the parameter is repeated.
    func single(_ name: String) throws(APIError) -> String? {
        var found: String?
        for pair in pairs where pair.name == name {
            guard found == nil else { throw APIError.invalidRequest("Query parameter '\(name)' is given more than once.") }
            found = pair.value
        }
        return found
    }

    /// Whether a parameter is present (with any value).
    func has(_ name: String) -> Bool {
        pairs.contains { $0.name == name }
    }

    /// An integer parameter in `range`, or `defaultValue` when absent.
    /// - Throws: `invalid_request` when it is not a plain decimal integer in range.
    func integer(_ name: String, in range: ClosedRange<Int64>, default defaultValue: Int64?) throws(APIError) -> Int64? {
        guard let text = try single(name) else { return defaultValue }
        guard !text.isEmpty, text.utf8.count <= 19, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let value = Int64(text), range.contains(value) else {
            throw APIError.invalidRequest("Query parameter '\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound).")
        }
        return value
    }
}
