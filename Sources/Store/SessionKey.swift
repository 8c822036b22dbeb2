/// Identifies one session of one agent.
///
/// Both IDs are validated by the HTTP layer against `^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$`
/// before they reach a store, so a store may use them in keys without escaping.
public struct SessionKey: Hashable, Sendable, CustomStringConvertible {
    /// The agent that owns the session.
    public let agentID: String
    /// The session, unique within its agent.
    public let sessionID: String

    /// Creates a key from already-validated IDs.
    public init(agentID: String, sessionID: String) {
        self.agentID = agentID
        self.sessionID = sessionID
    }

    /// `agent/session`, for logs and test output.
    public var description: String { "\(agentID)/\(sessionID)" }
}
