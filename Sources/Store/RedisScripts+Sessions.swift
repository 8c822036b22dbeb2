extension RedisScript {
    /// `save`. KEYS: record, messages, idempotency, index, keys.
    /// ARGV: precondition mode, tags, ttl mode, ttl seconds, sliding, default ttl, state, session ID,
    /// session byte cap.
    /// Reply: `{'OK', created (0/1), meta}`, `{'PF', version|nil}` or `{'TL'}`.
    static let save = RedisScript(name: "save", source: RedisScripts.sessionScript(#"""
        refuse_if_out_of_memory()
        local v = current()
        if not holds(ARGV[1], ARGV[2], v) then return failed(v) end
        if #ARGV[7] + (v and mbytes() or 0) > tonumber(ARGV[9]) then return {'TL'} end
        local ttl, sl = policy(v ~= nil, ARGV[3], ARGV[4], ARGV[5], ARGV[6])
        local created = 0
        if not v then
          redis.call('DEL', M, I, K)
          redis.call('HSET', S, 'c', str(now), 'n', '1')
          created = 1
        end
        redis.call('HSET', S, 'st', ARGV[7])
        local e = stamp((v and tonumber(v) or 0) + 1, ttl, sl)
        expire(e)
        reindex(ARGV[8], e)
        return {'OK', created, meta()}
        """#))

    /// `load`: one round trip that reads and, for a sliding session, restarts the clock.
    /// KEYS: record, messages, idempotency, index, keys. Reply: `{'OK', meta, state|nil}` or `{'NF'}`.
    static let load = RedisScript(name: "load", source: RedisScripts.sessionScript(#"""
        if not current() then return {'NF'} end
        slide()
        return {'OK', meta(), redis.call('HGET', S, 'st')}
        """#))

    /// `delete`. KEYS: record, messages, idempotency, index, keys. ARGV: precondition mode, tags, session ID.
    /// Reply: `{'OK'}`, `{'PF', version|nil}` or `{'NF'}`.
    static let delete = RedisScript(name: "delete", source: RedisScripts.sessionScript(#"""
        local v = current()
        if not holds(ARGV[1], ARGV[2], v) then return failed(v) end
        if not v then return {'NF'} end
        redis.call('DEL', S, M, I, K)
        unindex(ARGV[3])
        return {'OK'}
        """#))

    /// `list`: one page of the index, from the cursor, pruning entries whose session is gone.
    ///
    /// KEYS: index, expiry set. ARGV: session key prefix (`<prefix><agent>:`), limit, cursor score
    /// (`updatedAt`, or '' for the first page), cursor session ID.
    /// Reply: `{'OK', pruned, more (0/1), {{sessionID, meta}, …}}`.
    ///
    /// The list order is [`ZREVRANGE`](https://redis.io/docs/latest/commands/zrevrange/)'s: score
    /// descending, ties by ID descending. The start is found in O(log n):
    /// [`ZCOUNT`](https://redis.io/docs/latest/commands/zcount/) gives the reverse-rank range of
    /// the cursor's score, and a binary search by reverse rank over that tie group compares IDs
    /// byte by byte. Then ranks are read in batches of `limit + 1` until the page and one more live
    /// session are found; stale entries found on the way are removed (from both sets, and the index
    /// TTL is fixed), so each costs once.
    static let list = RedisScript(name: "list", source: RedisScripts.compose(RedisScripts.common, RedisScripts.index, #"""
        local X, E, base, limit = KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2])

        local start = 0
        if ARGV[3] ~= '' then
          local low = redis.call('ZCOUNT', X, '(' .. ARGV[3], '+inf')
          local high = redis.call('ZCOUNT', X, ARGV[3], '+inf')
          while low < high do
            local mid = math.floor((low + high) / 2)
            if bytes_after(ARGV[4], redis.call('ZREVRANGE', X, mid, mid)[1]) then high = mid else low = mid + 1 end
          end
          start = low
        end

        local page, more, batch = {}, 0, limit + 1
        while limit > 0 do
          local ids = redis.call('ZREVRANGE', X, start, start + batch - 1)
          local stale = {}
          for _, sid in ipairs(ids) do
            local S = base .. sid
            local f = redis.call('HMGET', S, 'v', 'c', 'u', 'e', 't', 'sl', 'mb')
            if not f[1] or expired(f[4]) then
              if f[1] then redis.call('DEL', session_key_names(S)) end
              stale[#stale + 1] = sid
            elseif #page < limit then
              page[#page + 1] = {sid, {
                tonumber(f[1]), tonumber(f[2]), tonumber(f[3]),
                f[4] and tonumber(f[4]) or -1, f[5] and tonumber(f[5]) or -1,
                f[6] == '1' and 1 or 0,
                redis.call('ZCARD', S .. ':messages'), redis.call('HSTRLEN', S, 'st'), tonumber(f[7] or '0')
              }}
            else
              more = 1
              break
            end
          end
          if #stale > 0 then
            redis.call('ZREM', X, unpack(stale))
            redis.call('ZREM', E, unpack(stale))
            pruned = pruned + #stale
          end
          if more == 1 or #ids < batch then break end
          start = start + #ids - #stale
        end
        if pruned > 0 then index_ttl(X, E) end
        return {'OK', pruned, more, page}
        """#))

    /// `deleteAll`, one batch: deletes up to `batch` sessions of the index (all their keys) and
    /// their entries in both sets. KEYS: index, expiry set. ARGV: session key prefix
    /// (`<prefix><agent>:`), batch size.
    /// Reply: `{live sessions deleted, entries left in the index}`.
    static let deleteAll = RedisScript(name: "delete_all", source: RedisScripts.compose(RedisScripts.common, RedisScripts.index, #"""
        local X, E, base = KEYS[1], KEYS[2], ARGV[1]
        local ids = redis.call('ZRANGE', X, 0, tonumber(ARGV[2]) - 1)
        local live = 0
        for _, sid in ipairs(ids) do
          local S = base .. sid
          local f = redis.call('HMGET', S, 'v', 'e')
          if f[1] and not expired(f[2]) then live = live + 1 end
          redis.call('DEL', session_key_names(S))
        end
        if #ids > 0 then
          redis.call('ZREM', X, unpack(ids))
          redis.call('ZREM', E, unpack(ids))
        end
        local left = redis.call('ZCARD', X)
        if left == 0 then redis.call('DEL', E) end
        return {live, left}
        """#))
}
