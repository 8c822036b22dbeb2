import RedisClient

/// Loads and saves without a task (``CallbackStateStore``): the command goes out through
/// ``RedisClient/send(_:read:reply:)`` and the reply is decoded where it is read. What the common
/// case does not cover goes to the async operation, in a task, with the same outcome: a sliding session's
/// load (the script), a save before its script is loaded, with `WAIT`, or whose node lacks the script
/// (`NOSCRIPT`) or asks for more keys (`NK`); neither of the last two ran anything.
extension RedisStateStore: CallbackStateStore {
    /// Whether the client sends at once (a pool; not the Cluster client, whose commands run in tasks).
    public var completesWithoutTask: Bool { client.sendsWithoutTask }

    public func load(_ key: SessionKey, completion: @escaping @Sendable (Result<Session, any Error>) -> Void) {
        client.send(loadCommand(key), read: true) { [self] (result: Result<RESPReply, any Error>) in
            do {
                let reply = try result.mapError { Self.storeError($0, operation: "load") }.get()
                if let session = try loaded(reply, key: key) { return completion(.success(session)) }
            } catch {
                return completion(.failure(error))
            }
            Task { completion(await outcome { try await self.loadWithScript(key) }) }
        }
    }

    public func save(_ key: SessionKey, state: [UInt8], options: WriteOptions,
                     completion: @escaping @Sendable (Result<SaveResult, any Error>) -> Void) {
        let script = RedisScript.save
        guard !waitsForReplicas(script), let sha = loadedSHA(script) else {
            Task { completion(await outcome { try await self.save(key, state: state, options: options) }) }
            return
        }
        client.send(saveCommand(key, state: state, options: options, sha: sha), read: false) { [self] (result: Result<RESPReply, any Error>) in
            do {
                let bytes = try result.get()
                if let result = try saved(bytes, key: key) { return completion(.success(result)) }
                let reply = bytes.value()
                if Self.undeclaredKeys(reply) == nil {
                    return completion(.success(try saved(reportingPruned(reply, script: script), key: key)))
                }
            } catch let error as RedisError where error.code == "NOSCRIPT" {
                // Not run: the async save loads it (EVAL) and runs it.
            } catch {
                return completion(.failure(Self.storeError(error, operation: script.name)))
            }
            Task { completion(await outcome { try await self.save(key, state: state, options: options) }) }
        }
    }
}
