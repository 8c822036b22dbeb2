/// A backend whose session loads and saves finish without suspending, so the HTTP event loop can run
/// them inline, on its own thread, without starting a task: the embedded store, whose every operation is
/// one short critical section under a shard lock.
///
/// These are the same operations as ``StateStore/save(_:state:options:)`` and ``StateStore/load(_:)``,
/// with the same behaviour and errors; a backend that waits on I/O (Redis) does not conform.
public protocol InlineStateStore: StateStore {
    /// Replaces the state of a session, creating it if missing; see ``StateStore/save(_:state:options:)``.
    func save(_ key: SessionKey, state: [UInt8], options: WriteOptions) throws -> SaveResult

    /// Loads a session with its state; see ``StateStore/load(_:)``.
    func load(_ key: SessionKey) throws -> Session
}

extension InMemoryStateStore: InlineStateStore {}
