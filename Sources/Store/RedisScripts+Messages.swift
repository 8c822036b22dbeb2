extension RedisScript {
    /// `append`. KEYS: as `save`.
    /// ARGV: precondition mode (with the fencing token), tags, ttl mode, ttl seconds, sliding,
    /// default ttl, labels, message cap, session ID, idempotency key ('' for none), body digest, idempotency record lifetime (ms),
    /// session byte cap, has keys ('1'/'0'), then the messages, then (with keys) one key per
    /// message ('' for none).
    /// Reply: `{'OK'|'RP', version, firstSeq, lastSeq, messageCount}`, `{'PF', version|nil}`, `{'SF', token}`,
    /// `{'TM'}`, `{'TL'}`, `{'KC'}` or `{'IR'}`.
    ///
    /// Order of checks: the idempotency record (a live one replays or refuses), the precondition,
    /// the message cap, the byte cap, the keys. A record is
    /// `<created ms>|<version>|<first>|<last>|<count>|<digest>` under the key
    /// in the session's idempotency hash; one older than its lifetime no longer counts and is
    /// overwritten. The hash is pruned of such records whenever it has doubled in size since the
    /// last pruning (field `ip` of the record), which keeps the cost amortised O(1) per append.
    static let append = RedisScript(name: "append", source: RedisScripts.sessionScript(#"""
        refuse_if_out_of_memory()
        local v = current()
        local token, digest, lifetime = ARGV[10], ARGV[11], tonumber(ARGV[12])
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
        local refused = refusal(ARGV[1], ARGV[2], v)
        if refused then return refused end
        local haskeys = ARGV[14] == '1'
        local n = #ARGV - 14
        if haskeys then n = n / 2 end
        local count = 0
        if v then count = redis.call('ZCARD', M) end
        if count + n > tonumber(ARGV[8]) then return {'TM'} end
        local bytes = size(14, n)
        local old = v and (redis.call('HSTRLEN', S, 'st') + mbytes()) or 0
        if old + bytes > tonumber(ARGV[13]) then return {'TL'} end
        local kbase = haskeys and (14 + n) or nil
        if kbase and not keys_ok(kbase, n, v ~= nil) then return {'KC'} end

        local ttl, sl = policy(v ~= nil, ARGV[3], ARGV[4], ARGV[5], ARGV[6])
        if not v then
          redis.call('DEL', M, I, K)
          redis.call('HSET', S, 'c', str(now), 'n', '1')
        end
        set_labels(ARGV[7])
        local first = tonumber(redis.call('HGET', S, 'n'))
        add(first, n, 14, kbase)
        local last = first + n - 1
        redis.call('HSET', S, 'n', str(last + 1), 'mb', str((v and mbytes() or 0) + bytes))
        local version = (v and tonumber(v) or 0) + 1
        local e = stamp(version, ttl, sl)
        if token ~= '' then
          redis.call('HSET', I, token, str(now) .. '|' .. str(version) .. '|' .. str(first) .. '|' ..
            str(last) .. '|' .. str(count + n) .. '|' .. digest)
          local hsize = redis.call('HLEN', I)
          local mark = tonumber(redis.call('HGET', S, 'ip') or '0')
          if hsize >= 64 and hsize >= 2 * mark then
            local all = redis.call('HGETALL', I)
            for k = 1, #all, 2 do
              local at = string.match(all[k + 1], '^(%d+)|')
              if not at or tonumber(at) + lifetime <= now then
                redis.call('HDEL', I, all[k])
                hsize = hsize - 1
              end
            end
            redis.call('HSET', S, 'ip', str(hsize))
          end
        end
        expire(e)
        reindex(ARGV[9], e)
        return {'OK', version, first, last, count + n}
        """#, labels: 7))

    /// `readMessages`: one round trip that reads a page and, for a sliding session, restarts the
    /// clock. KEYS: as `save`. ARGV: limit, form (`r` most
    /// recent, `a` after, `b` before), seq.
    /// Reply: `{'OK', more (0/1), {member, …}, version}` in ascending seq, or `{'NF'}`.
    ///
    /// The most recent N are ranks `-N..-1`; after S they are scores `(S..+inf`, read with
    /// `LIMIT 0 N+1` ([`ZRANGEBYSCORE`](https://redis.io/docs/latest/commands/zrangebyscore/))
    /// to know whether more follow; before S they are scores `(S..-inf` read newest first with
    /// [`ZREVRANGEBYSCORE`](https://redis.io/docs/latest/commands/zrevrangebyscore/) `LIMIT 0 N+1`,
    /// O(log n + N), then put in ascending order.
    static let readMessages = RedisScript(name: "read_messages", source: RedisScripts.sessionScript(#"""
        local v = current()
        if not v then return {'NF'} end
        slide()
        local limit, form = tonumber(ARGV[1]), ARGV[2]
        if limit <= 0 then return {'OK', 0, {}, tonumber(v)} end
        if form == 'r' then return {'OK', 0, redis.call('ZRANGE', M, -limit, -1), tonumber(v)} end
        local page
        if form == 'a' then
          page = redis.call('ZRANGEBYSCORE', M, '(' .. ARGV[3], '+inf', 'LIMIT', 0, limit + 1)
        else
          page = redis.call('ZREVRANGEBYSCORE', M, '(' .. ARGV[3], '-inf', 'LIMIT', 0, limit + 1)
        end
        local more = 0
        if #page > limit then
          more = 1
          page[#page] = nil
        end
        if form == 'b' then
          local n = #page
          for i = 1, math.floor(n / 2) do page[i], page[n + 1 - i] = page[n + 1 - i], page[i] end
        end
        return {'OK', more, page, tonumber(v)}
        """#))

    /// `message(withKey:)`: the message with a key, via the key hash. KEYS: as `save`. ARGV: message key.
    /// Reply: `{'OK', member, version}`, `{'NF'}` or `{'MN'}`.
    static let messageByKey = RedisScript(name: "message_by_key", source: RedisScripts.sessionScript(#"""
        local v = current()
        if not v then return {'NF'} end
        slide()
        local seq = redis.call('HGET', K, ARGV[1])
        if not seq then return {'MN'} end
        local found = redis.call('ZRANGEBYSCORE', M, seq, seq)
        if #found == 0 then return {'MN'} end
        return {'OK', found[1], tonumber(v)}
        """#))

    /// `replaceMessages`: the whole log in one step. KEYS: as `save`.
    /// ARGV: precondition mode (with the fencing token), tags, ttl mode, ttl seconds, sliding,
    /// default ttl, labels, message cap, session ID, session byte cap, has keys ('1'/'0'), then the messages, then (with keys) one key
    /// per message ('' for none).
    /// Reply: `{'OK', created (0/1), version, firstSeq|nil, lastSeq|nil, messageCount}`,
    /// `{'PF', version|nil}`, `{'SF', token}`, `{'TM'}`, `{'TL'}` or `{'KC'}`.
    static let replace = RedisScript(name: "replace_messages", source: RedisScripts.sessionScript(#"""
        refuse_if_out_of_memory()
        local v = current()
        local refused = refusal(ARGV[1], ARGV[2], v)
        if refused then return refused end
        local haskeys = ARGV[11] == '1'
        local n = #ARGV - 11
        if haskeys then n = n / 2 end
        if n > tonumber(ARGV[8]) then return {'TM'} end
        local bytes = size(11, n)
        local st = v and redis.call('HSTRLEN', S, 'st') or 0
        if st + bytes > tonumber(ARGV[10]) then return {'TL'} end
        local kbase = haskeys and (11 + n) or nil
        if kbase and not keys_ok(kbase, n, false) then return {'KC'} end

        local ttl, sl = policy(v ~= nil, ARGV[3], ARGV[4], ARGV[5], ARGV[6])
        local created = 0
        if not v then
          redis.call('DEL', M, I, K)
          redis.call('HSET', S, 'c', str(now), 'n', '1')
          created = 1
        else
          redis.call('DEL', M, K)
        end
        set_labels(ARGV[7])
        local first = tonumber(redis.call('HGET', S, 'n'))
        add(first, n, 11, kbase)
        redis.call('HSET', S, 'n', str(first + n), 'mb', str(bytes))
        local version = (v and tonumber(v) or 0) + 1
        local e = stamp(version, ttl, sl)
        expire(e)
        reindex(ARGV[9], e)
        if n == 0 then return {'OK', created, version, false, false, 0} end
        return {'OK', created, version, first, first + n - 1, n}
        """#, labels: 7))

    /// `trimMessages`: removes every message with seq < S. KEYS: as `save`.
    /// ARGV: precondition mode, tags, S, session ID.
    /// Reply: `{'OK', deleted, version}`, `{'PF', version|nil}`, `{'SF', token}` or `{'NF'}`. Removing nothing
    /// writes nothing.
    static let trim = RedisScript(name: "trim_messages", source: RedisScripts.sessionScript(#"""
        local v = current()
        local refused = refusal(ARGV[1], ARGV[2], v)
        if refused then return refused end
        if not v then return {'NF'} end
        local gone = redis.call('ZRANGEBYSCORE', M, '-inf', '(' .. ARGV[3])
        if #gone == 0 then return {'OK', 0, tonumber(v)} end
        local bytes, keys = 0, {}
        for _, member in ipairs(gone) do
          local _, k, len = parse(member)
          bytes = bytes + len
          if k then keys[#keys + 1] = k end
        end
        redis.call('ZREMRANGEBYSCORE', M, '-inf', '(' .. ARGV[3])
        free(keys)
        redis.call('HSET', S, 'mb', str(mbytes() - bytes))
        local version = tonumber(v) + 1
        local ttl, sl = kept()
        local e = stamp(version, ttl, sl)
        expire(e)
        reindex(ARGV[4], e)
        return {'OK', #gone, version}
        """#))

    /// `deleteMessage`: removes the message with one seq. KEYS: as `save`.
    /// ARGV: precondition mode, tags, seq, session ID.
    /// Reply: `{'OK', member, version}`, `{'PF', version|nil}`, `{'SF', token}`, `{'NF'}` or `{'MN'}`.
    static let deleteMessage = RedisScript(name: "delete_message", source: RedisScripts.sessionScript(#"""
        local v = current()
        local refused = refusal(ARGV[1], ARGV[2], v)
        if refused then return refused end
        if not v then return {'NF'} end
        local found = redis.call('ZRANGEBYSCORE', M, ARGV[3], ARGV[3])
        if #found == 0 then return {'MN'} end
        redis.call('ZREMRANGEBYSCORE', M, ARGV[3], ARGV[3])
        local _, k, len = parse(found[1])
        if k then redis.call('HDEL', K, k) end
        redis.call('HSET', S, 'mb', str(mbytes() - len))
        local version = tonumber(v) + 1
        local ttl, sl = kept()
        local e = stamp(version, ttl, sl)
        expire(e)
        reindex(ARGV[4], e)
        return {'OK', found[1], version}
        """#))

    /// `popMessage`, with [`ZPOPMAX`](https://redis.io/docs/latest/commands/zpopmax/).
    /// KEYS: as `save`. ARGV: precondition mode, tags, session ID.
    /// Reply: `{'OK', member, version}`, `{'PF', version|nil}`, `{'SF', token}`, `{'NF'}` or `{'NM'}`.
    static let pop = RedisScript(name: "pop", source: RedisScripts.sessionScript(#"""
        local v = current()
        local refused = refusal(ARGV[1], ARGV[2], v)
        if refused then return refused end
        if not v then return {'NF'} end
        local top = redis.call('ZPOPMAX', M)
        if #top == 0 then return {'NM'} end
        local _, k, len = parse(top[1])
        if k then redis.call('HDEL', K, k) end
        redis.call('HSET', S, 'mb', str(mbytes() - len))
        local version = tonumber(v) + 1
        local ttl, sl = kept()
        local e = stamp(version, ttl, sl)
        expire(e)
        reindex(ARGV[3], e)
        return {'OK', top[1], version}
        """#))

    /// `clearMessages`: deletes the log and its keys and keeps the seq counter. KEYS: as `save`.
    /// ARGV: precondition mode, tags, session ID.
    /// Reply: `{'OK', meta}`, `{'PF', version|nil}`, `{'SF', token}` or `{'NF'}`.
    static let clear = RedisScript(name: "clear_messages", source: RedisScripts.sessionScript(#"""
        local v = current()
        local refused = refusal(ARGV[1], ARGV[2], v)
        if refused then return refused end
        if not v then return {'NF'} end
        redis.call('DEL', M, K)
        redis.call('HSET', S, 'mb', '0')
        local ttl, sl = kept()
        local e = stamp(tonumber(v) + 1, ttl, sl)
        expire(e)
        reindex(ARGV[3], e)
        return {'OK', meta()}
        """#))
}
