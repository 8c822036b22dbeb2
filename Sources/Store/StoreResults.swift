/// The result of a save.
public struct SaveResult: Sendable, Equatable {
    public var metadata: SessionMetadata
    /// True when the save created the session (HTTP 201), false when it replaced the state (200).
    public var created: Bool

    public init(metadata: SessionMetadata, created: Bool) {
        self.metadata = metadata
        self.created = created
    }
}

/// The result of an append; replayed as-is for a retried `Idempotency-Key`.
public struct AppendResult: Sendable, Equatable {
    public var version: Int64
    public var firstSeq: Int64
    public var lastSeq: Int64
    public var messageCount: Int

    public init(version: Int64, firstSeq: Int64, lastSeq: Int64, messageCount: Int) {
        self.version = version
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.messageCount = messageCount
    }
}

/// One message of a session's log.
public struct Message: Sendable, Equatable {
    /// Starts at 1 per session and is never reused, even after a pop or a clear.
    public var seq: Int64
    /// The message exactly as appended (raw JSON bytes).
    public var data: [UInt8]

    public init(seq: Int64, data: [UInt8]) {
        self.seq = seq
        self.data = data
    }
}

/// A page of messages in ascending `seq`.
public struct MessagePage: Sendable, Equatable {
    public var messages: [Message]
    /// The `seq` of the last message returned when messages with a higher `seq` exist, else nil.
    public var nextAfter: Int64?

    public init(messages: [Message], nextAfter: Int64?) {
        self.messages = messages
        self.nextAfter = nextAfter
    }
}

/// The result of popping the newest message.
public struct PopResult: Sendable, Equatable {
    public var message: Message
    /// The session's version after the pop.
    public var version: Int64

    public init(message: Message, version: Int64) {
        self.message = message
        self.version = version
    }
}

/// A page of an agent's sessions, newest `updatedAt` first, ties by `sessionID` ascending.
public struct SessionPage: Sendable, Equatable {
    public var sessions: [SessionMetadata]
    /// Where the next page starts, or nil when no session follows.
    public var nextCursor: ListCursor?

    public init(sessions: [SessionMetadata], nextCursor: ListCursor?) {
        self.sessions = sessions
        self.nextCursor = nextCursor
    }
}
