extension RedisScript {
    /// `check_session`: verifies one session's keys against the layout in one atomic step and,
    /// with repair, fixes what it found in the same step (`RedisLayoutChecker`).
    ///
    /// KEYS: record, messages, idempotency, keys, index, expiry set, ID set. ARGV: session ID, repair ('1'/'0').
    /// Reply: a flat list `{invariant, detail, …}` of the violations found (repaired when asked).
    static let checkSession = RedisScript(name: "check_session", source: RedisScripts.compose(RedisScripts.common, RedisScripts.index, #"""
        local S, M, I, K, X, E, IDS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
        local sid, repair = ARGV[1], ARGV[2] == '1'
        local found = {}
        local function report(code, detail)
          found[#found + 1] = code
          found[#found + 1] = detail
        end

        local f = redis.call('HMGET', S, 'v', 'u', 'e', 'mc', 'n')
        if not f[1] then
          for _, key in ipairs({M, I, K}) do
            if redis.call('EXISTS', key) == 1 then
              report('orphan_key', key .. ' exists without its session record')
              if repair then redis.call('DEL', key) end
            end
          end
          return found
        end
        if expired(f[3]) then return found end
        local e = f[3] and tonumber(f[3]) or nil
        local touched = false

        local card = redis.call('ZCARD', M)
        if tonumber(f[4] or '-1') ~= card then
          report('message_count', "record field 'mc' is " .. tostring(f[4]) .. ', the messages key holds ' .. card)
          if repair then redis.call('HSET', S, 'mc', str(card)) end
        end

        local odd = {}
        for _, key in ipairs({S, M, I, K}) do
          local left = redis.call('PTTL', key)
          if left ~= -2 then
            local ok
            if e then ok = left >= 0 and math.abs(left - (e - now)) <= SLACK else ok = left == -1 end
            if not ok then odd[#odd + 1] = key .. ' (PTTL ' .. left .. ')' end
          end
        end
        if #odd > 0 then
          local want = e and ('expires_at ' .. str(e)) or 'no TTL'
          report('key_expiry', 'session has ' .. want .. ' but ' .. table.concat(odd, ', '))
          if repair then
            for _, key in ipairs({S, M, I, K}) do
              if e then redis.call('PEXPIREAT', key, str(e)) else redis.call('PERSIST', key) end
            end
          end
        end

        local score = redis.call('ZSCORE', X, sid)
        if not score then
          report('not_in_index', 'the record is not in its index ' .. X)
          if repair then redis.call('ZADD', X, f[2], sid) touched = true end
        elseif tonumber(score) ~= tonumber(f[2]) then
          report('index_score', 'index score ' .. score .. ' differs from updated_at ' .. f[2])
          if repair then redis.call('ZADD', X, f[2], sid) touched = true end
        end

        local es = redis.call('ZSCORE', E, sid)
        if (e and (not es or tonumber(es) ~= e)) or (not e and es) then
          report('expiry_set', 'expiry-set score ' .. tostring(es) .. ', session expires_at ' .. (e and str(e) or 'never'))
          if repair then index_expiry_of(E, sid, e) touched = true end
        end

        -- The save's fast path trusts a record's 'ix' flag to mean the session is in the ID set.
        if not redis.call('ZSCORE', IDS, sid) then
          report('not_in_id_set', 'the record is not in its index ID set ' .. IDS)
          if repair then redis.call('ZADD', IDS, '0', sid) touched = true end
        end

        local xl = redis.call('PTTL', X)
        if xl ~= -2 and ((not e and xl ~= -1) or (e and xl >= 0 and now + xl < e - SLACK)) then
          report('index_expires_early', 'index PTTL ' .. xl .. ' ms, session expires ' .. (e and ('in ' .. (e - now) .. ' ms') or 'never'))
          touched = true
        end

        if redis.call('EXISTS', I) == 1 then
          local v, n = tonumber(f[1]), tonumber(f[5] or '1')
          local all = redis.call('HGETALL', I)
          local bad = {}
          for j = 1, #all, 2 do
            local at, rv, rf, rl, rc = string.match(all[j + 1], '^(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|.*$')
            if not at or tonumber(at) > now + 60000 or tonumber(rv) > v or tonumber(rf) > tonumber(rl)
                or tonumber(rl) >= n or tonumber(rc) < tonumber(rl) - tonumber(rf) + 1 then
              bad[#bad + 1] = all[j]
            end
          end
          if #bad > 0 then
            report('idempotency_record', #bad .. ' idempotency record(s) out of bounds (first: ' .. bad[1] .. ')')
            if repair then redis.call('HDEL', I, unpack(bad)) end
          end
        end

        if repair and touched then index_ttl(X, E, ids_key(X)) end
        return found
        """#))

    /// `check_index`: verifies a batch of one index (phase `x`: every entry has a record; `e`: every
    /// expiry-set entry is in the index) or its TTL (phase `t`), and with repair fixes what it
    /// found in the same step. KEYS: index, expiry set, ID set, then (phase `x`) the batch's
    /// records, which a first run asks for with `{'NK', key, …}`. ARGV: `<prefix><agent>:`,
    /// repair, phase, start rank, count.
    /// Reply: `{scanned, removed, awaiting prune, {invariant, detail, …}}` or `{'NK', key, …}`.
    static let checkIndex = RedisScript(name: "check_index", source: RedisScripts.compose(RedisScripts.common, RedisScripts.index, #"""
        local X, E, base, repair, phase = KEYS[1], KEYS[2], ARGV[1], ARGV[2] == '1', ARGV[3]
        local start, count = tonumber(ARGV[4]), tonumber(ARGV[5])
        local found, removed, waiting = {}, 0, 0
        local function report(code, detail)
          found[#found + 1] = code
          found[#found + 1] = detail
        end

        if phase == 't' then
          local n = redis.call('ZCARD', X)
          if n == 0 then
            if redis.call('EXISTS', E) == 1 then
              report('orphan_key', E .. ' exists without its index')
              if repair then redis.call('DEL', E) end
            end
            return {0, 0, 0, found}
          end
          local xl, el = redis.call('PTTL', X), redis.call('PTTL', E)
          local m = redis.call('ZCARD', E)
          local want = -1
          if m == n then want = tonumber(redis.call('ZRANGE', E, -1, -1, 'WITHSCORES')[2]) - now end
          local wrong = (want == -1 and xl ~= -1) or (want ~= -1 and (xl < 0 or math.abs(xl - want) > SLACK))
          if wrong then
            report('index_ttl', 'index PTTL ' .. xl .. ' ms, expected ' .. (want == -1 and 'none (a session is persistent)' or (want .. ' ms (the longest-lived session)')))
          end
          if m > 0 and el ~= xl and math.abs(el - xl) > SLACK then
            report('expiry_set_ttl', 'expiry-set PTTL ' .. el .. ' ms differs from the index PTTL ' .. xl .. ' ms')
            wrong = true
          end
          if wrong and repair then index_ttl(X, E, ids_key(X)) end
          return {n, 0, 0, found}
        end

        local ids = redis.call('ZRANGE', phase == 'x' and X or E, start, start + count - 1)
        if phase == 'x' then
          local missing = {}
          for _, sid in ipairs(ids) do want(missing, base .. sid) end
          missing = undeclared(missing)
          if missing then return missing end
        end
        for _, sid in ipairs(ids) do
          if phase == 'x' then
            local f = redis.call('HMGET', base .. sid, 'v', 'e')
            if not f[1] or expired(f[2]) then
              local es = redis.call('ZSCORE', E, sid)
              if f[1] or (es and tonumber(es) <= now) then
                waiting = waiting + 1
              else
                report('entry_without_record', sid .. '\t' .. 'index entry without a session record')
                if repair then
                  redis.call('ZREM', X, sid)
                  redis.call('ZREM', E, sid)
                  removed = removed + 1
                end
              end
            end
          elseif not redis.call('ZSCORE', X, sid) then
            report('expiry_entry_not_in_index', sid .. '\t' .. 'expiry-set entry not in the index')
            if repair then
              redis.call('ZREM', E, sid)
              removed = removed + 1
            end
          end
        end
        if removed > 0 then index_ttl(X, E, ids_key(X)) end
        return {#ids, removed, waiting, found}
        """#))
}
