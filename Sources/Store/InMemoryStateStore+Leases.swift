extension InMemoryStateStore {
    /// Acquires or renews the session's lease; never changes `version`, `updatedAt` or the TTL.
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.leaseHeld`.
    public func acquireLease(_ key: SessionKey, holder: String, ttlMilliseconds: Int64) throws -> LeaseResult {
        try withSession(key) { record, now in
            guard record != nil else { throw StoreError.sessionNotFound }
            let expiresAt = now + ttlMilliseconds
            if let lease = record!.liveLease(at: now) {
                guard lease.holder == holder else { throw StoreError.leaseHeld(holder: lease.holder, expiresAt: lease.expiresAt) }
                record!.lease!.expiresAt = expiresAt
                return LeaseResult(lease: record!.lease!, acquired: false)
            }
            record!.fencingToken += 1
            let lease = Lease(holder: holder, fencingToken: record!.fencingToken, acquiredAt: now, expiresAt: expiresAt)
            record!.lease = lease
            return LeaseResult(lease: lease, acquired: true)
        }
    }

    /// The session's live lease.
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.leaseNotFound`.
    public func lease(_ key: SessionKey) throws -> Lease {
        try withSession(key) { record, now in
            guard record != nil else { throw StoreError.sessionNotFound }
            guard let lease = record!.liveLease(at: now) else { throw StoreError.leaseNotFound }
            return lease
        }
    }

    /// Releases `holder`'s live lease, keeping the fencing token.
    /// - Throws: `StoreError.sessionNotFound`, `StoreError.leaseNotFound`, `StoreError.leaseHeld`.
    public func releaseLease(_ key: SessionKey, holder: String) throws {
        try withSession(key) { record, now in
            guard record != nil else { throw StoreError.sessionNotFound }
            guard let lease = record!.liveLease(at: now) else { throw StoreError.leaseNotFound }
            guard lease.holder == holder else { throw StoreError.leaseHeld(holder: lease.holder, expiresAt: lease.expiresAt) }
            record!.lease = nil
        }
    }
}
