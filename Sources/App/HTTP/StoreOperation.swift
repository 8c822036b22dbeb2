import HTTPServer

/// The store operation a route and method perform; the `operation` metric label.
enum StoreOperation: String, Sendable, CaseIterable {
    case save, load, list, delete
    case deleteAll = "delete_all"
    case append
    case readMessages = "read_messages"
    case pop
    case clearMessages = "clear_messages"
    case replaceMessages = "replace_messages"
    case trimMessages = "trim_messages"
    case deleteMessage = "delete_message"
    case listByLabel = "list_by_label"
    case listByPrefix = "list_by_prefix"
    case deleteByPrefix = "delete_by_prefix"
    case leaseAcquire = "lease_acquire"
    case leaseGet = "lease_get"
    case leaseRelease = "lease_release"

    /// The operation of a route, method and query, or nil for the operations routes.
    /// `DELETE …/messages` is a trim when the query has `before`, else a clear; the session list
    /// is by label or by prefix when the query has `label` or `prefix`.
    init?(route: Route, method: HTTPMethod, query: String?) {
        self.init(route: route, method: method)
        guard let query, self == .clearMessages || self == .list || self == .deleteAll,
              let parameters = try? QueryParameters(query) else { return }
        switch self {
        case .clearMessages where parameters.has("before"): self = .trimMessages
        case .list where parameters.has("label"): self = .listByLabel
        case .list where parameters.has("prefix"): self = .listByPrefix
        case .deleteAll where parameters.has("prefix"): self = .deleteByPrefix
        default: break
        }
    }

    /// The operation of a route and method, or nil for the operations routes.
    init?(route: Route, method: HTTPMethod) {
        switch (route, method) {
        case (.session, .GET), (.session, .HEAD): self = .load
        case (.session, .PUT): self = .save
        case (.session, .DELETE): self = .delete
        case (.sessions, .GET), (.sessions, .HEAD): self = .list
        case (.sessions, .DELETE): self = .deleteAll
        case (.messages, .POST): self = .append
        case (.messages, .GET), (.messages, .HEAD): self = .readMessages
        case (.messages, .DELETE): self = .clearMessages
        case (.messages, .PUT): self = .replaceMessages
        case (.lastMessage, .DELETE): self = .pop
        case (.message, .DELETE): self = .deleteMessage
        case (.lease, .PUT): self = .leaseAcquire
        case (.lease, .GET), (.lease, .HEAD): self = .leaseGet
        case (.lease, .DELETE): self = .leaseRelease
        default: return nil
        }
    }
}
