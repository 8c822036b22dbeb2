/// The result of a save.
public struct SaveResult: Sendable, Equatable {
    /// The session after the save.
    public var metadata: SessionMetadata
    /// True when the save created the session (HTTP 201), false when it replaced the state (200).
    public var created: Bool

    /// Creates a save result.
    public init(metadata: SessionMetadata, created: Bool) {
        self.metadata = metadata
        self.created = created
    }
}

/// The result of an append; replayed as-is for a retried `Idempotency-Key`.
public struct AppendResult: Sendable, Equatable {
    /// The session's version after the append.
    public var version: Int64
    /// The `seq` of the first appended message.
    public var firstSeq: Int64
    /// The `seq` of the last appended message.
    public var lastSeq: Int64
    /// Messages in the log after the append.
    public var messageCount: Int

    /// Creates an append result.
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
    /// The message's key (unique within its session), nil when it has none.
    public var key: String?

    /// Creates a message.
    public init(seq: Int64, data: [UInt8], key: String? = nil) {
        self.seq = seq
        self.data = data
        self.key = key
    }
}

/// Which messages a read returns; every form answers in ascending `seq`.
public enum MessageQuery: Sendable, Hashable {
    /// The most recent `limit` messages.
    case recent
    /// The first `limit` messages with `seq > S`.
    case after(Int64)
    /// The newest `limit` messages with `seq < S`.
    case before(Int64)
}

/// A page of messages in ascending `seq`.
public struct MessagePage: Sendable, Equatable {
    /// The messages, ascending `seq`.
    public var messages: [Message]
    /// The `seq` of the last message returned when messages with a higher `seq` exist, else nil
    /// (set by the `after` form only).
    public var nextAfter: Int64?
    /// The smallest `seq` returned when older messages exist, else nil (set by the `before` form only).
    public var nextBefore: Int64?
    /// The session's version when the page was read (its ETag).
    public var version: Int64

    /// Creates a page of messages.
    public init(messages: [Message], nextAfter: Int64?, nextBefore: Int64? = nil, version: Int64 = 0) {
        self.messages = messages
        self.nextAfter = nextAfter
        self.nextBefore = nextBefore
        self.version = version
    }
}

/// The result of popping the newest message, or of deleting one by `seq`.
public struct PopResult: Sendable, Equatable {
    /// The message that was removed.
    public var message: Message
    /// The session's version after the pop.
    public var version: Int64

    /// Creates a pop result.
    public init(message: Message, version: Int64) {
        self.message = message
        self.version = version
    }
}

/// The result of replacing a session's whole log.
public struct ReplaceResult: Sendable, Equatable {
    /// The session's version after the replace.
    public var version: Int64
    /// The `seq` of the first new message, nil when the new log is empty.
    public var firstSeq: Int64?
    /// The `seq` of the last new message, nil when the new log is empty.
    public var lastSeq: Int64?
    /// Messages in the log after the replace.
    public var messageCount: Int
    /// True when the replace created the session (HTTP 201), false when it existed (200).
    public var created: Bool

    /// Creates a replace result.
    public init(version: Int64, firstSeq: Int64?, lastSeq: Int64?, messageCount: Int, created: Bool) {
        self.version = version
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.messageCount = messageCount
        self.created = created
    }
}

/// The result of a trim (`DELETE …/messages?before=S`).
public struct TrimResult: Sendable, Equatable {
    /// How many messages were removed; 0 means nothing changed.
    public var deleted: Int
    /// The session's version after the trim (unchanged when nothing was removed).
    public var version: Int64

    /// Creates a trim result.
    public init(deleted: Int, version: Int64) {
        self.deleted = deleted
        self.version = version
    }
}

/// A page of an agent's sessions, newest `updatedAt` first, ties by `sessionID` descending.
public struct SessionPage: Sendable, Equatable {
    /// The page's sessions, in list order.
    public var sessions: [SessionMetadata]
    /// Where the next page starts, or nil when no session follows.
    public var nextCursor: ListCursor?

    /// Creates a page of sessions.
    public init(sessions: [SessionMetadata], nextCursor: ListCursor?) {
        self.sessions = sessions
        self.nextCursor = nextCursor
    }
}
