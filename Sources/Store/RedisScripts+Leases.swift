extension RedisScript {
    /// `acquireLease`: acquires (a new fencing token, `lt` + 1) or renews (same holder, live lease)
    /// the session's lease, kept in its record (`lh` holder, `lt` fencing token, `la` acquired at,
    /// `le` expires at). Changes neither the version, `updatedAt`, nor any TTL.
    /// KEYS: as `save`. ARGV: holder, TTL in ms.
    /// Reply: `{'OK', acquired (0/1), holder, token, acquired at, expires at}`, `{'LH', holder,
    /// expires at}` (another holder's live lease) or `{'NF'}`.
    static let acquireLease = RedisScript(name: "lease_acquire", source: RedisScripts.sessionScript(#"""
        refuse_if_out_of_memory()
        if not current() then return {'NF'} end
        local f = redis.call('HMGET', S, 'lh', 'lt', 'la', 'le')
        local e = now + tonumber(ARGV[2])
        if f[1] and tonumber(f[4]) > now then
          if f[1] ~= ARGV[1] then return {'LH', f[1], tonumber(f[4])} end
          redis.call('HSET', S, 'le', str(e))
          return {'OK', 0, f[1], tonumber(f[2]), tonumber(f[3]), e}
        end
        local t = tonumber(f[2] or '0') + 1
        redis.call('HSET', S, 'lh', ARGV[1], 'lt', str(t), 'la', str(now), 'le', str(e))
        return {'OK', 1, ARGV[1], t, now, e}
        """#))

    /// `lease`: the session's live lease. KEYS: as `save`.
    /// Reply: `{'OK', holder, token, acquired at, expires at}`, `{'NL'}` (none or expired) or `{'NF'}`.
    static let getLease = RedisScript(name: "lease_get", source: RedisScripts.sessionScript(#"""
        if not current() then return {'NF'} end
        local f = redis.call('HMGET', S, 'lh', 'lt', 'la', 'le')
        if not f[1] or tonumber(f[4]) <= now then return {'NL'} end
        return {'OK', f[1], tonumber(f[2]), tonumber(f[3]), tonumber(f[4])}
        """#))

    /// `releaseLease`: removes the holder's live lease; the fencing token (`lt`) stays.
    /// KEYS: as `save`. ARGV: holder.
    /// Reply: `{'OK'}`, `{'LH', holder, expires at}`, `{'NL'}` or `{'NF'}`.
    static let releaseLease = RedisScript(name: "lease_release", source: RedisScripts.sessionScript(#"""
        if not current() then return {'NF'} end
        local f = redis.call('HMGET', S, 'lh', 'le')
        if not f[1] or tonumber(f[2]) <= now then return {'NL'} end
        if f[1] ~= ARGV[1] then return {'LH', f[1], tonumber(f[2])} end
        redis.call('HDEL', S, 'lh', 'la', 'le')
        return {'OK'}
        """#))
}
