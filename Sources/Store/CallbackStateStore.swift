/// A backend whose session loads and saves can run without a task: it sends its command and calls the
/// completion when the reply is read, so an HTTP event loop that also reads the backend's replies (Redis
/// connections on the loops) serves a request on one thread, without a task or a thread hop.
///
/// These are the same operations as ``StateStore/save(_:state:options:)`` and ``StateStore/load(_:)``,
/// with the same behaviour and errors. The completion runs exactly once, on whichever thread has the
/// outcome (possibly before the call returns), and must not block.
public protocol CallbackStateStore: StateStore {
    /// Replaces the state of a session, creating it if missing; see ``StateStore/save(_:state:options:)``.
    func save(_ key: SessionKey, state: [UInt8], options: WriteOptions,
              completion: @escaping @Sendable (Result<SaveResult, any Error>) -> Void)

    /// Loads a session with its state; see ``StateStore/load(_:)``.
    func load(_ key: SessionKey, completion: @escaping @Sendable (Result<Session, any Error>) -> Void)

    /// Whether the common case completes without a task of the store's own. When false, the callbacks still
    /// work, but a caller that has a task anyway (or prefers the caller's executor) should use the async form.
    var completesWithoutTask: Bool { get }
}

/// The outcome of `body`, for a completion.
func outcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
