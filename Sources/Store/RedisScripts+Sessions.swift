extension RedisScript {
    /// `save`. KEYS: record, messages, idempotency, index, keys.
    /// ARGV: precondition mode, tags, ttl mode, ttl seconds, sliding, default ttl, state, session ID,
    /// session byte cap.
    /// Reply: `{'OK', created (0/1), meta}`, `{'PF', version|nil}` or `{'TL'}`.
    static let save = RedisScript(name: "save", source: RedisScripts.compose(RedisScripts.common, RedisScripts.session, #"""
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
    static let load = RedisScript(name: "load", source: RedisScripts.compose(RedisScripts.common, RedisScripts.session, #"""
        if not current() then return {'NF'} end
        slide()
        return {'OK', meta(), redis.call('HGET', S, 'st')}
        """#))

    /// `delete`. KEYS: record, messages, idempotency, index, keys. ARGV: precondition mode, tags, session ID.
    /// Reply: `{'OK'}`, `{'PF', version|nil}` or `{'NF'}`.
    static let delete = RedisScript(name: "delete", source: RedisScripts.compose(RedisScripts.common, RedisScripts.session, #"""
        local v = current()
        if not holds(ARGV[1], ARGV[2], v) then return failed(v) end
        if not v then return {'NF'} end
        redis.call('DEL', S, M, I, K)
        redis.call('ZREM', X, ARGV[3])
        return {'OK'}
        """#))

    /// `list`: one page of the index, from the cursor, pruning entries whose session is gone.
    ///
    /// KEYS: index. ARGV: session key prefix (`<prefix><agent>:`), limit, cursor score
    /// (`-updatedAt`, or '' for the first page), cursor session ID.
    /// Reply: `{'OK', pruned, more (0/1), {{sessionID, meta}, …}}`.
    ///
    /// The start is found in O(log n): [`ZCOUNT`](https://redis.io/docs/latest/commands/zcount/)
    /// gives the rank range of the cursor's score, and a binary search by rank over that tie group
    /// compares IDs byte by byte. Then ranks are read in batches of `limit + 1` until the page and
    /// one more live session are found; stale entries found on the way are removed, so each costs
    /// once. The session keys are derived from the index members, which a cluster layout must
    /// revisit (DESIGN §4).
    static let list = RedisScript(name: "list", source: RedisScripts.compose(RedisScripts.common, #"""
        local X, base, limit = KEYS[1], ARGV[1], tonumber(ARGV[2])

        -- Whether a sorts after b, byte by byte (the order of sorted-set members with one score).
        local function after(a, b)
          for i = 1, math.min(#a, #b) do
            local x, y = string.byte(a, i), string.byte(b, i)
            if x ~= y then return x > y end
          end
          return #a > #b
        end

        local start = 0
        if ARGV[3] ~= '' then
          local low = redis.call('ZCOUNT', X, '-inf', '(' .. ARGV[3])
          local high = redis.call('ZCOUNT', X, '-inf', ARGV[3])
          while low < high do
            local mid = math.floor((low + high) / 2)
            if after(redis.call('ZRANGE', X, mid, mid)[1], ARGV[4]) then high = mid else low = mid + 1 end
          end
          start = low
        end

        local page, pruned, more, batch = {}, 0, 0, limit + 1
        while limit > 0 do
          local ids = redis.call('ZRANGE', X, start, start + batch - 1)
          local stale = {}
          for _, sid in ipairs(ids) do
            local S = base .. sid
            local f = redis.call('HMGET', S, 'v', 'c', 'u', 'e', 't', 'sl', 'mb')
            if not f[1] or expired(f[4]) then
              if f[1] then redis.call('DEL', S, S .. ':messages', S .. ':idem', S .. ':keys') end
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
            pruned = pruned + #stale
          end
          if more == 1 or #ids < batch then break end
          start = start + #ids - #stale
        end
        return {'OK', pruned, more, page}
        """#))

    /// `deleteAll`, one batch: deletes up to `batch` sessions of the index (all their keys) and
    /// their entries. KEYS: index. ARGV: session key prefix (`<prefix><agent>:`), batch size.
    /// Reply: `{live sessions deleted, entries left in the index}`.
    static let deleteAll = RedisScript(name: "delete_all", source: RedisScripts.compose(RedisScripts.common, #"""
        local X, base = KEYS[1], ARGV[1]
        local ids = redis.call('ZRANGE', X, 0, tonumber(ARGV[2]) - 1)
        local live = 0
        for _, sid in ipairs(ids) do
          local S = base .. sid
          local f = redis.call('HMGET', S, 'v', 'e')
          if f[1] and not expired(f[2]) then live = live + 1 end
          redis.call('DEL', S, S .. ':messages', S .. ':idem', S .. ':keys')
        end
        if #ids > 0 then redis.call('ZREM', X, unpack(ids)) end
        return {live, redis.call('ZCARD', X)}
        """#))
}
