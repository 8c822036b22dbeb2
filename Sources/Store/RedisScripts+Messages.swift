extension RedisScript {
    /// `append`. KEYS: record, messages, idempotency, index.
    /// ARGV: precondition mode, tags, ttl mode, ttl seconds, sliding, default ttl, message cap,
    /// session ID, idempotency key ('' for none), body digest, idempotency record lifetime (ms),
    /// then the messages.
    /// Reply: `{'OK'|'RP', version, firstSeq, lastSeq, messageCount}`, `{'PF', version|nil}`,
    /// `{'TM'}` or `{'IR'}`.
    ///
    /// Order of checks: the idempotency record (a live one replays or refuses), the precondition,
    /// the cap. A record is `<created ms>|<version>|<first>|<last>|<count>|<digest>` under the key
    /// in the session's idempotency hash; one older than its lifetime no longer counts and is
    /// overwritten. The hash is pruned of such records whenever it has doubled in size since the
    /// last pruning (field `ip` of the record), which keeps the cost amortised O(1) per append.
    static let append = RedisScript(name: "append", source: RedisScripts.compose(RedisScripts.common, RedisScripts.session, #"""
        local v = current()
        local token, digest, lifetime = ARGV[9], ARGV[10], tonumber(ARGV[11])
        if v and token ~= '' then
          local record = redis.call('HGET', I, token)
          if record then
            local at, rv, rf, rl, rc, rd = string.match(record, '^(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(.*)$')
            if at and tonumber(at) + lifetime > now then
              if rd ~= digest then return {'IR'} end
              return {'RP', tonumber(rv), tonumber(rf), tonumber(rl), tonumber(rc)}
            end
          end
        end
        if not holds(ARGV[1], ARGV[2], v) then return failed(v) end
        local count, n = 0, #ARGV - 11
        if v then count = redis.call('ZCARD', M) end
        if count + n > tonumber(ARGV[7]) then return {'TM'} end

        local ttl, sl = policy(v ~= nil, ARGV[3], ARGV[4], ARGV[5], ARGV[6])
        if not v then
          redis.call('DEL', M, I)
          redis.call('HSET', S, 'c', str(now), 'n', '1')
        end
        local first = tonumber(redis.call('HGET', S, 'n'))
        -- Members are '<seq>:<bytes>' scored by seq; ZADD in chunks to stay far below
        -- Lua's limit on unpacked values.
        local i = 1
        while i <= n do
          local args = {}
          for j = i, math.min(n, i + 499) do
            local seq = str(first + j - 1)
            args[#args + 1] = seq
            args[#args + 1] = seq .. ':' .. ARGV[11 + j]
          end
          redis.call('ZADD', M, unpack(args))
          i = i + 500
        end
        local last = first + n - 1
        redis.call('HSET', S, 'n', str(last + 1))
        local version = (v and tonumber(v) or 0) + 1
        local e = stamp(version, ttl, sl)
        if token ~= '' then
          redis.call('HSET', I, token, str(now) .. '|' .. str(version) .. '|' .. str(first) .. '|' ..
            str(last) .. '|' .. str(count + n) .. '|' .. digest)
          local size = redis.call('HLEN', I)
          local mark = tonumber(redis.call('HGET', S, 'ip') or '0')
          if size >= 64 and size >= 2 * mark then
            local all = redis.call('HGETALL', I)
            for k = 1, #all, 2 do
              local at = string.match(all[k + 1], '^(%d+)|')
              if not at or tonumber(at) + lifetime <= now then
                redis.call('HDEL', I, all[k])
                size = size - 1
              end
            end
            redis.call('HSET', S, 'ip', str(size))
          end
        end
        expire(e)
        reindex(ARGV[8], e)
        return {'OK', version, first, last, count + n}
        """#))

    /// `readMessages`: one round trip that reads a page and, for a sliding session, restarts the
    /// clock. KEYS: record, messages, idempotency, index. ARGV: limit, after ('' for the most recent).
    /// Reply: `{'OK', more (0/1), {member, …}}` in ascending seq, or `{'NF'}`.
    ///
    /// The most recent N are ranks `-N..-1`; after S they are scores `(S..+inf`, read with
    /// `LIMIT 0 N+1` ([`ZRANGEBYSCORE`](https://redis.io/docs/latest/commands/zrangebyscore/))
    /// to know whether more follow.
    static let readMessages = RedisScript(name: "read_messages", source: RedisScripts.compose(RedisScripts.common, RedisScripts.session, #"""
        if not current() then return {'NF'} end
        slide()
        local limit = tonumber(ARGV[1])
        if limit <= 0 then return {'OK', 0, {}} end
        if ARGV[2] == '' then return {'OK', 0, redis.call('ZRANGE', M, -limit, -1)} end
        local page = redis.call('ZRANGEBYSCORE', M, '(' .. ARGV[2], '+inf', 'LIMIT', 0, limit + 1)
        local more = 0
        if #page > limit then
          more = 1
          page[#page] = nil
        end
        return {'OK', more, page}
        """#))

    /// `popMessage`, with [`ZPOPMAX`](https://redis.io/docs/latest/commands/zpopmax/).
    /// KEYS: record, messages, idempotency, index. ARGV: precondition mode, tags, session ID.
    /// Reply: `{'OK', member, version}`, `{'PF', version|nil}`, `{'NF'}` or `{'NM'}`.
    static let pop = RedisScript(name: "pop", source: RedisScripts.compose(RedisScripts.common, RedisScripts.session, #"""
        local v = current()
        if not holds(ARGV[1], ARGV[2], v) then return failed(v) end
        if not v then return {'NF'} end
        local top = redis.call('ZPOPMAX', M)
        if #top == 0 then return {'NM'} end
        local version = tonumber(v) + 1
        local ttl, sl = kept()
        local e = stamp(version, ttl, sl)
        expire(e)
        reindex(ARGV[3], e)
        return {'OK', top[1], version}
        """#))

    /// `clearMessages`: deletes the log and keeps the seq counter. KEYS: record, messages,
    /// idempotency, index. ARGV: precondition mode, tags, session ID.
    /// Reply: `{'OK', meta}`, `{'PF', version|nil}` or `{'NF'}`.
    static let clear = RedisScript(name: "clear_messages", source: RedisScripts.compose(RedisScripts.common, RedisScripts.session, #"""
        local v = current()
        if not holds(ARGV[1], ARGV[2], v) then return failed(v) end
        if not v then return {'NF'} end
        redis.call('DEL', M)
        local ttl, sl = kept()
        local e = stamp(tonumber(v) + 1, ttl, sl)
        expire(e)
        reindex(ARGV[3], e)
        return {'OK', meta()}
        """#))
}
