import RedisClient

extension RedisStateStore {
    /// Acquires or renews the session's lease in one `EVALSHA`; see `RedisScript.acquireLease`.
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.leaseHeld`, `StoreError.unavailable`.
    public func acquireLease(_ key: SessionKey, holder: String, ttlMilliseconds: Int64) async throws -> LeaseResult {
        let script = RedisScript.acquireLease
        let arguments = [Self.argument(holder), Self.argument(String(ttlMilliseconds))]
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: arguments), script: script)
        try reply.check(configuration)
        guard reply.values.count == 5, let lease = try Self.lease(.array(Array(reply.values[1...]))) else { throw reply.malformed }
        return LeaseResult(lease: lease, acquired: try reply.int(0) == 1)
    }

    /// The session's live lease, in one `EVALSHA` (the expiry is judged by Redis's clock).
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.leaseNotFound`, `StoreError.unavailable`.
    public func lease(_ key: SessionKey) async throws -> Lease {
        let script = RedisScript.getLease
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: []), script: script)
        try reply.check(configuration)
        guard let lease = try Self.lease(.array(reply.values)) else { throw reply.malformed }
        return lease
    }

    /// Releases `holder`'s live lease in one `EVALSHA`.
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.leaseNotFound`, `StoreError.leaseHeld`,
    ///   `StoreError.unavailable`.
    public func releaseLease(_ key: SessionKey, holder: String) async throws {
        let script = RedisScript.releaseLease
        let reply = try Reply(await run(script, keys: sessionKeys(key), arguments: [Self.argument(holder)]), script: script)
        try reply.check(configuration)
    }
}
