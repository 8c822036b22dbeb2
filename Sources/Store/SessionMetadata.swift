/// Everything about a session except its state document.
///
/// All times are milliseconds since the Unix epoch (UTC).
public struct SessionMetadata: Sendable, Equatable {
    /// The agent that owns the session.
    public var agentID: String
    /// The session, unique within its agent.
    public var sessionID: String
    /// Starts at 1 on creation and grows by exactly 1 on every successful mutation.
    public var version: Int64
    /// When the session was created (ms); unchanged by later writes.
    public var createdAt: Int64
    /// When the last successful mutation happened (ms); orders the session list.
    public var updatedAt: Int64
    /// `nil` when the session never expires.
    public var expiresAt: Int64?
    /// `nil` when the session never expires.
    public var ttlSeconds: Int64?
    /// When true, reads restart the expiry clock as well as writes.
    public var slidingTTL: Bool
    /// Number of messages currently in the log.
    public var messageCount: Int
    /// Size in bytes of the stored state, 0 when it was never set.
    public var stateBytes: Int
    /// Sum of the stored messages' byte lengths (each as the JSON bytes it was sent as).
    public var messageBytes: Int
    /// The session's labels (`[:]` when none).
    public var labels: SessionLabels
    /// The live lease, or nil when there is none or it has expired.
    public var lease: Lease?

    /// Creates metadata from its fields.
    public init(
        agentID: String, sessionID: String, version: Int64, createdAt: Int64, updatedAt: Int64,
        expiresAt: Int64?, ttlSeconds: Int64?, slidingTTL: Bool, messageCount: Int, stateBytes: Int,
        messageBytes: Int = 0, labels: SessionLabels = [:], lease: Lease? = nil
    ) {
        self.agentID = agentID
        self.sessionID = sessionID
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.ttlSeconds = ttlSeconds
        self.slidingTTL = slidingTTL
        self.messageCount = messageCount
        self.stateBytes = stateBytes
        self.messageBytes = messageBytes
        self.labels = labels
        self.lease = lease
    }
}

/// A session with its state document.
public struct Session: Sendable, Equatable {
    /// Everything about the session except its state.
    public var metadata: SessionMetadata
    /// The state exactly as it was saved (raw JSON bytes), or `nil` if it was never set.
    public var state: [UInt8]?

    /// Creates a session from its metadata and state.
    public init(metadata: SessionMetadata, state: [UInt8]?) {
        self.metadata = metadata
        self.state = state
    }
}
