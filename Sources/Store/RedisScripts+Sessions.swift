extension RedisScript {
    /// `save`. KEYS: record, messages, idempotency, index, keys, expiry set, ID set, then the keys of
    /// the label indexes the script touches (`RedisScripts.session`).
    /// ARGV: precondition mode (with the fencing token), tags, ttl mode, ttl seconds, sliding,
    /// default ttl, labels, state, session ID, session byte cap.
    /// Reply: `{'OK', created (0/1), meta}`, `{'PF', version|nil}`, `{'SF', token}` or `{'TL'}`.
    ///
    /// Two paths. The fast one takes the common case: a live session without labels, the state
    /// replaced, its persistence kept (persistent stays persistent, expiring stays expiring), no
    /// labels set, nothing to prune, and a record that says it is in the ID set (`ix`) and counts
    /// its messages (`mc`). It reads first (the record in one `HMGET`, one expired entry of the
    /// expiry set, the index's TTL) and decides before it writes anything; then it
    /// writes only what can change: one `HSET`, the session keys' expiry when it has one, the index
    /// score, the expiry-set score and, for an index that expires, the index TTL. What it skips
    /// holds by the layout's invariants: a persistent session's keys, index and ID set are already
    /// persistent and it is not in the expiry set; a record with `ix` is in the ID set unless its
    /// index was emptied (then `ZADD` adds it back, and the ID set and index TTL are redone); an
    /// index that is persistent while this session was expiring has another, persistent session;
    /// a log with `mc` 0 has no messages key and no keys hash. Its first write is an `HSET`, which
    /// Redis refuses at maxmemory like `refuse_if_out_of_memory`.
    ///
    /// Every other case (creation, an expired record, refusals, labels, a TTL set or removed,
    /// expired entries to prune, a record written before `ix`) goes on to the general save, which
    /// also sets `ix`. Its helpers (`indexRest`, `sessionRest`) come after the fast path, so Lua
    /// builds their closures only when the general save runs: building closures (with their
    /// upvalues) was a third of the script's cost.
    static let save = RedisScript(name: "save", source: RedisScripts.compose(RedisScripts.common, RedisScripts.indexBase, RedisScripts.sessionBase, #"""
        -- META's fields, then 'mc' and 'ix' (written out: a table built and unpacked per call costs more).
        local f = redis.call('HMGET', S, 'v', 'c', 'u', 'e', 't', 'sl', 'mb', 'lb', 'lh', 'lt', 'la', 'le', 'mc', 'ix')
        local v, fence = f[1], string.sub(ARGV[1], 2)
        local fast = v and not expired(f[4]) and not f[8] and f[13] and f[14] == '1'
          and (ARGV[7] == '' or ARGV[7] == '=') and holds(string.sub(ARGV[1], 1, 1), ARGV[2], v)
          and (fence == '' or tonumber(fence) >= tonumber(f[10] or '0'))
          and #ARGV[8] + tonumber(f[7] or '0') <= tonumber(ARGV[10])
        local ttl, sl, at = nil, nil, str(now)
        if fast then
          ttl, sl = policy(true, ARGV[3], ARGV[4], ARGV[5], ARGV[6], f[5], f[6])
          fast = (ttl ~= nil) == (f[4] ~= false) and #redis.call('ZRANGEBYSCORE', E, '-inf', at, 'LIMIT', 0, 1) == 0
        end
        if fast then
          local persistent_index = ttl and redis.call('PTTL', X) == -1
          -- Numbers where the script has them: record_meta's tonumber passes a number through, but
          -- parses a string (strtod), and formatting one (str) costs as much.
          local version, expires, e = tonumber(v) + 1, nil, nil
          local args = {'st', ARGV[8], 'v', str(version), 'u', at}
          if sl ~= f[6] then args[#args + 1], args[#args + 2] = 'sl', sl end
          if ttl then
            expires = now + ttl * 1000
            e = str(expires)
            args[#args + 1], args[#args + 2], args[#args + 3], args[#args + 4] = 't', str(ttl), 'e', e
          end
          redis.call('HSET', S, unpack(args))
          if e then
            redis.call('PEXPIREAT', S, e)
            redis.call('PEXPIREAT', I, e)
            if f[13] ~= '0' then
              redis.call('PEXPIREAT', M, e)
              redis.call('PEXPIREAT', K, e)
            end
          end
          local sid = ARGV[9]
          local added = redis.call('ZADD', X, at, sid)
          if e then redis.call('ZADD', E, e, sid) end
          if added == 1 then
            redis.call('ZADD', ids_key(X), '0', sid)
            index_ttl(X, E, ids_key(X))
          elseif e and not persistent_index then
            index_ttl_top(X, E, ids_key(X))
          end
          local m = {version, f[2], now, expires or false, ttl or false, sl, f[7], false, f[9], f[10], f[11], f[12]}
          return {'OK', 0, record_meta(S, m, tonumber(f[13]), #ARGV[8]), pruned}
        end
        """#, RedisScripts.indexRest, RedisScripts.sessionRest, RedisScripts.run(RedisScripts.declaringLabels(7) + #"""

        refuse_if_out_of_memory()
        local v = current()
        local refused = refusal(ARGV[1], ARGV[2], v)
        if refused then return refused end
        if #ARGV[8] + (v and mbytes() or 0) > tonumber(ARGV[10]) then return {'TL'} end
        local ttl, sl = policy(v ~= nil, ARGV[3], ARGV[4], ARGV[5], ARGV[6])
        local created = 0
        if not v then
          redis.call('DEL', M, I, K)
          redis.call('HSET', S, 'c', str(now), 'n', '1')
          created = 1
        end
        redis.call('HSET', S, 'st', ARGV[8], 'ix', '1')
        set_labels(ARGV[7])
        local e = stamp((v and tonumber(v) or 0) + 1, ttl, sl)
        expire(e)
        reindex(ARGV[9], e)
        return {'OK', created, meta()}
        """#)))

    /// `load`: one round trip that reads and, for a sliding session, restarts the clock.
    /// KEYS: as `save`. Reply: `{'OK', meta, state|nil}` or `{'NF'}`.
    static let load = RedisScript(name: "load", source: RedisScripts.sessionScript(#"""
        if not current() then return {'NF'} end
        slide()
        return {'OK', meta(), redis.call('HGET', S, 'st')}
        """#))

    /// `delete`. KEYS: as `save`. ARGV: precondition mode (with the fencing token), tags, session ID.
    /// Reply: `{'OK'}`, `{'PF', version|nil}`, `{'SF', token}` or `{'NF'}`.
    static let delete = RedisScript(name: "delete", source: RedisScripts.sessionScript(#"""
        local v = current()
        local refused = refusal(ARGV[1], ARGV[2], v)
        if refused then return refused end
        if not v then return {'NF'} end
        local lb = redis.call('HGET', S, 'lb')
        redis.call('DEL', S, M, I, K)
        unindex(ARGV[3], lb)
        return {'OK'}
        """#))

    /// `list`, first step: the IDs of one page of the agent index, or of a label's index, from the
    /// cursor, pruning entries whose session has expired by the expiry set. The second step,
    /// `listRecords`, reads the page's records with their keys declared.
    ///
    /// KEYS: the agent index, its expiry set, its ID set (for a label list the label's index and
    /// expiry set: `<index>::label:<key>:<value>`, `<index>::label-expiry:<key>:<value>`).
    /// ARGV: limit, cursor score (`updatedAt`, or '' for the first page), cursor session ID.
    /// Reply: `{'OK', pruned, more (0/1), {sessionID, score, sessionID, score, …}}`.
    ///
    /// The list order is [`ZREVRANGE`](https://redis.io/docs/latest/commands/zrevrange/)'s: score
    /// descending, ties by ID descending. The start is found in O(log n):
    /// [`ZCOUNT`](https://redis.io/docs/latest/commands/zcount/) gives the reverse-rank range of
    /// the cursor's score, and a binary search by reverse rank over that tie group compares IDs
    /// byte by byte. Then ranks are read in batches of `limit + 1` until the page and one more live
    /// entry are found; expired entries found on the way are removed (from both sets and the ID
    /// set, and the index TTL is fixed), so each costs once.
    static let list = RedisScript(name: "list", source: RedisScripts.compose(RedisScripts.common, RedisScripts.index, #"""
        local X, E, IDS, limit = KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1])

        local start = 0
        if ARGV[2] ~= '' then
          local low = redis.call('ZCOUNT', X, '(' .. ARGV[2], '+inf')
          local high = redis.call('ZCOUNT', X, ARGV[2], '+inf')
          while low < high do
            local mid = math.floor((low + high) / 2)
            if bytes_after(ARGV[3], redis.call('ZREVRANGE', X, mid, mid)[1]) then high = mid else low = mid + 1 end
          end
          start = low
        end

        local page, found, more, batch = {}, 0, 0, limit + 1
        while limit > 0 do
          local entries = redis.call('ZREVRANGE', X, start, start + batch - 1, 'WITHSCORES')
          local stale = {}
          for j = 1, #entries, 2 do
            local sid = entries[j]
            local e = redis.call('ZSCORE', E, sid)
            if e and tonumber(e) <= now then
              stale[#stale + 1] = sid
            elseif found < limit then
              page[#page + 1], page[#page + 2] = sid, entries[j + 1]
              found = found + 1
            else
              more = 1
              break
            end
          end
          pruned = pruned + index_remove(X, E, IDS, stale)
          if more == 1 or #entries < 2 * batch then break end
          start = start + #entries / 2 - #stale
        end
        if pruned > 0 then index_ttl(X, E, IDS) end
        return {'OK', pruned, more, page}
        """#))

    /// `list` and `listByPrefix`, second step: the metadata of the sessions a first step named, read
    /// in one atomic step with every record declared, and the removal of the entries whose session
    /// is gone.
    ///
    /// KEYS: the first step's index keys (index, expiry set and ID set; for a label list the label's
    /// index and expiry set), then per session its record and messages key. ARGV: label key ('' for
    /// none), label value, then per session the index score the first step saw ('' for no check).
    /// Reply: `{'OK', pruned, {meta or false, …}}`: false for a session that is gone, has expired or
    /// lacks the label (its entries are removed from the index keys, and the index TTL is fixed), or
    /// that was updated since the first step (it has moved up the list, out of this page).
    static let listRecords = RedisScript(name: "list_records", source: RedisScripts.compose(RedisScripts.common, RedisScripts.index, #"""
        local lk, lv = ARGV[1], ARGV[2]
        local X, E, IDS, first = KEYS[1], KEYS[2], nil, 3
        if lk == '' then IDS, first = KEYS[3], 4 end
        local out, stale = {}, {}
        for j = 1, (#KEYS - first + 1) / 2 do
          local R, score = KEYS[first + 2 * j - 2], ARGV[2 + j]
          local f = redis.call('HMGET', R, unpack(META))
          local sid = session_id_of(R)
          if not f[1] or expired(f[4]) or (lk ~= '' and not has_label(f[8], lk, lv)) then
            stale[#stale + 1] = sid
            out[j] = false
          elseif score ~= '' and tonumber(score) ~= tonumber(f[3]) then
            out[j] = false
          else
            out[j] = record_meta(R, f)
          end
        end
        pruned = index_remove(X, E, IDS, stale)
        if pruned > 0 then index_ttl(X, E, IDS) end
        return {'OK', pruned, out}
        """#))

    /// `listByPrefix`, first step: the IDs of one page of the sessions whose ID starts with a
    /// prefix, by ID ascending, from the agent index's ID set (`<index>::ids`, every member at score
    /// 0) with [`ZRANGEBYLEX`](https://redis.io/docs/latest/commands/zrangebylex/): O(log n + page).
    /// Entries whose session has expired by the expiry set are removed from the ID set, the index
    /// and its expiry set. The second step is `listRecords`.
    ///
    /// KEYS: the agent index, its expiry set, its ID set. ARGV: limit, the ID prefix, the last ID of
    /// the previous page ('' for the first page; never below the prefix).
    /// Reply: `{'OK', pruned, more (0/1), {sessionID, '', sessionID, '', …}}`.
    static let listByPrefix = RedisScript(name: "list_by_prefix", source: RedisScripts.compose(RedisScripts.common, RedisScripts.index, #"""
        local X, E, IDS, limit, prefix = KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1]), ARGV[2]
        local low = ARGV[3] ~= '' and ('(' .. ARGV[3]) or ('[' .. prefix)
        local high = '[' .. prefix .. '\255'
        local page, found, more = {}, 0, 0
        while limit > 0 do
          local ids = redis.call('ZRANGEBYLEX', IDS, low, high, 'LIMIT', 0, limit + 1)
          local stale = {}
          for _, sid in ipairs(ids) do
            local e = redis.call('ZSCORE', E, sid)
            if e and tonumber(e) <= now then
              stale[#stale + 1] = sid
            elseif found < limit then
              page[#page + 1], page[#page + 2] = sid, ''
              found = found + 1
            else
              more = 1
              break
            end
          end
          pruned = pruned + index_remove(X, E, IDS, stale)
          if more == 1 or #ids < limit + 1 then break end
          low = '(' .. ids[#ids]
        end
        if pruned > 0 then index_ttl(X, E, IDS) end
        return {'OK', pruned, more, page}
        """#))

    /// The part of the batch deletes that declares keys: for the IDs `ids` of a batch, the 'NK'
    /// reply naming every key of their sessions, then every label index of their records, that is
    /// not yet in KEYS (each answer adds the keys of one kind, so a batch takes at most three
    /// runs), else nil.
    static let declaringBatch = #"""
        local function undeclared_batch(X, base, ids)
          local missing = {}
          for _, sid in ipairs(ids) do want(missing, session_key_names(base .. sid)) end
          if #missing > 0 then return undeclared(missing) end
          for _, sid in ipairs(ids) do
            local lb = redis.call('HGET', base .. sid, 'lb')
            if lb then want_labels(missing, X, lb) end
          end
          return undeclared(missing)
        end
        """#

    /// `deleteAll`, one batch: deletes up to `batch` sessions of the index (all their keys and
    /// label entries) and their entries in the index, its expiry set and its ID set.
    /// KEYS: index, expiry set, ID set, then the keys of the batch's sessions and their label
    /// indexes (`declaringBatch`). ARGV: session key prefix (`<prefix><agent>:`), batch size.
    /// Reply: `{live sessions deleted, entries left in the index}` or `{'NK', key, …}`.
    static let deleteAll = RedisScript(name: "delete_all", source: RedisScripts.compose(RedisScripts.common, RedisScripts.index, declaringBatch, #"""
        local X, E, IDS, base = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
        local ids = redis.call('ZRANGE', X, 0, tonumber(ARGV[2]) - 1)
        local missing = undeclared_batch(X, base, ids)
        if missing then return missing end
        local live = 0
        for _, sid in ipairs(ids) do live = live + drop_session(X, base, sid) end
        index_remove(X, E, IDS, ids)
        local left = redis.call('ZCARD', X)
        index_ttl(X, E, IDS)
        return {live, left}
        """#))

    /// `deleteByPrefix`, one batch: deletes up to `batch` sessions whose ID starts with a prefix
    /// (found in the ID set by `ZRANGEBYLEX`), like `deleteAll`.
    /// KEYS: as `deleteAll`. ARGV: session key prefix (`<prefix><agent>:`), batch size, ID prefix.
    /// Reply: `{live sessions deleted, 1 when the batch was full (more may follow) else 0}` or
    /// `{'NK', key, …}`.
    static let deleteByPrefix = RedisScript(name: "delete_by_prefix", source: RedisScripts.compose(RedisScripts.common, RedisScripts.index, declaringBatch, #"""
        local X, E, IDS, base, batch, prefix = KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]), ARGV[3]
        local ids = redis.call('ZRANGEBYLEX', IDS, '[' .. prefix, '[' .. prefix .. '\255', 'LIMIT', 0, batch)
        local missing = undeclared_batch(X, base, ids)
        if missing then return missing end
        local live = 0
        for _, sid in ipairs(ids) do live = live + drop_session(X, base, sid) end
        if index_remove(X, E, IDS, ids) > 0 then index_ttl(X, E, IDS) end
        return {live, #ids == batch and 1 or 0}
        """#))
}
