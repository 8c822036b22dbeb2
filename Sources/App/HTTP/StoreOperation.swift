import HTTPServer

/// The store operation a route and method perform; the `operation` metric label.
enum StoreOperation: String, Sendable {
    case save, load, list, delete
    case deleteAll = "delete_all"
    case append
    case readMessages = "read_messages"
    case pop
    case clearMessages = "clear_messages"
    case replaceMessages = "replace_messages"
    case trimMessages = "trim_messages"
    case deleteMessage = "delete_message"

    /// The operation of a route, method and query, or nil for the operations routes.
    /// `DELETE …/messages` is a trim when the query has `before`, else a clear.
    init?(route: Route, method: HTTPMethod, query: String?) {
        if route == .messages, method == .DELETE, let query, (try? QueryParameters(query).has("before")) == true {
            self = .trimMessages
            return
        }
        self.init(route: route, method: method)
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
        default: return nil
        }
    }
}
