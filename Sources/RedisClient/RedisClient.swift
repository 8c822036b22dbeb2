/// Something that sends Redis commands and returns their replies: a ``RedisConnection`` or a ``RedisConnectionPool``.
public protocol RedisClient: Sendable {
    /// Sends one command and returns its reply.
    ///
    /// Commands sent concurrently are pipelined; each caller gets its own reply.
    /// A top-level `-ERR` reply is thrown as ``RedisError``; errors nested inside arrays are returned as ``RESPValue/error(_:)``.
    /// - Parameter arguments: The command name and its arguments, each binary-safe.
    /// - Returns: The reply.
    /// - Throws: ``RedisError`` for an error reply, ``RedisClientError`` when the command could not complete.
    func send(_ arguments: [[UInt8]]) async throws -> RESPValue

    /// Sends one command that only reads (never a script), which a client may send on a connection
    /// of its own so that it does not queue behind writes.
    /// - Parameter arguments: The command name and its arguments, each binary-safe.
    /// - Returns: The reply.
    /// - Throws: As ``send(_:)``.
    func sendRead(_ arguments: [[UInt8]]) async throws -> RESPValue

    /// Sends one command without suspending the caller: `reply` gets the reply, read in place, or the error
    /// (as ``send(_:)`` throws it) exactly once, on whichever thread has it, possibly before this returns.
    /// It must not block, and must decode what it needs before it returns. The default runs ``send(_:)`` or
    /// ``sendRead(_:)`` in a task and encodes the value for `reply`.
    /// - Parameters:
    ///   - command: The encoded command.
    ///   - read: Whether the command only reads (never a script), as for ``sendRead(_:)``.
    ///   - reply: Gets the reply or the error.
    func send(_ command: RESPCommand, read: Bool, reply: @escaping @Sendable (Result<RESPReply, any Error>) -> Void)

    /// Whether ``send(_:read:reply:)`` sends at once and calls back from the thread that reads the reply, rather
    /// than from a task of its own (the default), which would cost a caller on an event loop one more hop.
    var sendsWithoutTask: Bool { get }
}

extension RedisClient {
    /// By default reads share the writes' connections.
    public func sendRead(_ arguments: [[UInt8]]) async throws -> RESPValue {
        try await send(arguments)
    }

    /// False: ``send(_:read:reply:)`` runs in a task.
    public var sendsWithoutTask: Bool { false }

    /// Runs the command in a task.
    public func send(_ command: RESPCommand, read: Bool, reply: @escaping @Sendable (Result<RESPReply, any Error>) -> Void) {
        Task {
            let arguments = command.arguments
            do {
                RESPReply.with(try await read ? sendRead(arguments) : send(arguments)) { reply(.success($0)) }
            } catch {
                reply(.failure(error))
            }
        }
    }

    /// Sends one command given as strings (encoded as UTF-8), e.g. `send("SET", key, value)`.
    /// - Parameter arguments: The command name and its arguments.
    /// - Returns: The reply.
    /// - Throws: ``RedisError`` for an error reply, ``RedisClientError`` when the command could not complete.
    public func send(_ arguments: String...) async throws -> RESPValue {
        try await send(arguments.map { Array($0.utf8) })
    }

    /// Sends one command given as strings (encoded as UTF-8).
    /// - Parameter arguments: The command name and its arguments.
    /// - Returns: The reply.
    /// - Throws: ``RedisError`` for an error reply, ``RedisClientError`` when the command could not complete.
    public func send(_ arguments: [String]) async throws -> RESPValue {
        try await send(arguments.map { Array($0.utf8) })
    }
}
