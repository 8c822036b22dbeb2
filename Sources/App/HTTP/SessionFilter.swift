import Store

/// What the session list (or its DELETE) is limited to: everything, one label, or an ID prefix (DESIGN §11).
enum SessionFilter: Sendable, Equatable {
    case all
    /// `?label=<key>:<value>`, split at the first `:`.
    case label(LabelFilter)
    /// `?prefix=P`: a non-empty prefix of a valid ID, hence itself a valid ID.
    case prefix(String)

    /// Reads `label` and `prefix` from a query.
    /// - Throws: `invalid_request` for either given twice, both given, or a malformed value.
    init(_ query: QueryParameters) throws(APIError) {
        let label = try query.single("label")
        let prefix = try query.single("prefix")
        switch (label, prefix) {
        case (nil, nil):
            self = .all
        case (_?, _?):
            throw APIError.invalidRequest("Query parameters 'label' and 'prefix' are exclusive.")
        case (let label?, nil):
            let parts = label.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, LabelRules.isValidKey(String(parts[0])), LabelRules.isValidValue(String(parts[1])) else {
                throw APIError.invalidRequest(
                    "Query parameter 'label' must be <key>:<value>: a key matching ^[a-z][a-z0-9_]{0,62}$ and a value of 1 to \(LabelRules.maxValueBytes) bytes.")
            }
            self = .label(LabelFilter(key: String(parts[0]), value: String(parts[1])))
        case (nil, let prefix?):
            guard SessionID.isValid(prefix.utf8) else {
                throw APIError.invalidRequest("Query parameter 'prefix' must be 1 to 128 characters that can begin a session ID (^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$).")
            }
            self = .prefix(prefix)
        }
    }
}
