/// The Lua scripts behind `RedisStateStore`: one script per operation, each run with one
/// [`EVALSHA`](https://redis.io/docs/latest/commands/evalsha/), so every operation is atomic.
///
/// Every script begins with `common` (the clock and helpers) and `index` (the agent index and its
/// expiry set, `RedisScripts+Index.swift`); the session scripts add `session` (the keys of one
/// session and the steps every mutation shares). `save` splits both in two and puts its fast path
/// between the parts (see `RedisScript.save`). Scripts follow one rule: every
/// check (precondition, idempotency, message cap) happens before the first write, so a script
/// that refuses returns a marker and has changed nothing.
///
/// Replies are arrays whose first element is a status string:
/// `OK` (success), `PF` (precondition failed; the current version or nil follows),
/// `NF` (session not found), `NM` (no messages), `TM` (too many messages),
/// `IR` (idempotency key reused), `RP` (idempotent replay; the recorded result follows),
/// `TL` (session too large), `KC` (message key conflict), `MN` (no such message).
///
/// Values are binary-safe: state and message bytes are only stored, concatenated, measured and
/// returned; of a messages-key member only the `<seq>:` or `<seq>#<key length>:<key>` prefix is
/// ever matched by a Lua pattern (anchored, so it never scans the message itself). IDs are compared byte by byte, never with Lua's `<`,
/// which uses the server's collation locale.
enum RedisScripts {
    /// Shared by every script: `now` in milliseconds from the server's
    /// [`TIME`](https://redis.io/docs/latest/commands/time/), so every replica agrees, and helpers.
    ///
    /// [`redis.replicate_commands()`](https://redis.io/docs/latest/develop/interact/programmability/eval-intro/#script-replication)
    /// makes Redis 6.2 replicate the script's effects rather than the script, which a script that
    /// reads `TIME` and then writes requires; Redis 7 always does so and deprecates the call,
    /// hence the `pcall`.
    static let common = #"""
        pcall(redis.replicate_commands)
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

        -- An integer as a decimal string (Lua's tostring may use exponent notation).
        local function str(n) return string.format('%d', n) end

        -- Whether a session record's fields say it has expired (inclusive of its instant, as
        -- the in-memory store; Redis itself drops the key one millisecond later).
        local function expired(e) return e and tonumber(e) <= now end
        """#

    /// Shared by the scripts of one session:
    /// `KEYS = [record, messages, idempotency, index, keys, expiry set, ID set, label index keys…]`;
    /// follows `index`. The label index keys (a label's index and expiry set per label) are those
    /// of the labels the request sets, and of the record's labels once a first run asked for them
    /// (`undeclared_labels`).
    static let session = compose(sessionBase, sessionRest)

    /// The part of `session` that the fast path of `save` needs: the session's keys, the
    /// entity-tag check and the TTL policy. Every script that includes `session` includes this first.
    static let sessionBase = #"""
        -- The session's keys and its index's expiry set.
        local S, M, I, X, K = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
        local E = KEYS[6]

        -- Whether an entity-tag precondition holds. mode: 'n' none, 'm' If-Match, 'x' If-None-Match;
        -- tags: '*' or comma-separated versions (compared as strings; both are canonical decimals).
        local function holds(mode, tags, v)
          if mode == 'n' then return true end
          local matched = false
          if v then
            if tags == '*' then
              matched = true
            else
              for tag in string.gmatch(tags, '[^,]+') do
                if tag == v then matched = true break end
              end
            end
          end
          if mode == 'm' then return matched end
          return not matched
        end

        -- The TTL policy after a write: mode 'k' keep, 'p' persist, 's' seconds;
        -- sliding '' keep, '0' or '1'; default '' (none) or seconds for new sessions.
        -- Returns ttl seconds (nil: never expires) and the sliding flag ('0' or '1').
        -- `t`, `was`: the record's 't' and 'sl' when the script has read them (false: absent),
        -- nil to read them here.
        local function policy(exists, mode, secs, sliding, default, t, was)
          local ttl = nil
          if mode == 'k' then
            if exists then
              if t == nil then t = redis.call('HGET', S, 't') end
              if t then ttl = tonumber(t) end
            elseif default ~= '' then
              ttl = tonumber(default)
            end
          elseif mode == 's' then
            ttl = tonumber(secs)
          end
          local sl = sliding
          if sl == '' then
            if exists and was == nil then was = redis.call('HGET', S, 'sl') end
            sl = exists and was or '0'
          end
          return ttl, sl
        end
        """#

    /// The rest of `session`: the steps every mutation shares.
    static let sessionRest = #"""
        -- The session's ID.
        local SID = session_id_of(S)

        -- The first statement of every script that can grow memory (save, append, replace).
        -- Redis checks maxmemory only at a script's first write command, and only while the script
        -- has written nothing: a script that began with DEL (never refused) would then write past
        -- the limit. This ZADD XX of a member that never exists (IDs are never empty) changes
        -- nothing, but it is a write that Redis refuses at maxmemory, so such a script fails with
        -- -OOM before it writes anything. Works the same on Redis 6.2, 7 and Valkey.
        local function refuse_if_out_of_memory() redis.call('ZADD', X, 'XX', '0', '') end

        -- The current version (a decimal string), or nil when the session is missing. A record
        -- found expired at its very instant is deleted with its other keys first (its entries in
        -- the indexes carry the same expiry and are pruned through the expiry sets).
        local function current()
          local f = redis.call('HMGET', S, 'v', 'e')
          if not f[1] then return nil end
          if expired(f[2]) then
            redis.call('DEL', S, M, I, K)
            return nil
          end
          return f[1]
        end

        -- The 'NK' reply (see `DECLARED`) when a label index this script may touch is not in KEYS:
        -- those of the live record's labels and of the labels `arg` sets (a write's labels argument,
        -- nil or '' when it keeps them), else nil. Every session script asks before its first write.
        local function undeclared_labels(arg)
          local missing = {}
          local f = redis.call('HMGET', S, 'lb', 'e')
          if f[1] and not expired(f[2]) then want_labels(missing, X, f[1]) end
          if arg and arg ~= '' then want_labels(missing, X, string.sub(arg, 2)) end
          return undeclared(missing)
        end

        -- The 'PF' reply for a current version `v` (nil when missing).
        local function failed(v)
          if v then return {'PF', tonumber(v)} end
          return {'PF', false}
        end

        -- The refusal of a mutation's precondition, or nil when it holds. `mode` is the
        -- entity-tag mode ('n', 'm' or 'x') followed by the Fencing-Token's digits, if any: a token
        -- below the session's ('lt', 0 when it never had a lease) is refused with {'SF', token}.
        local function refusal(mode, tags, v)
          if not holds(string.sub(mode, 1, 1), tags, v) then return failed(v) end
          local fence = string.sub(mode, 2)
          if fence ~= '' and v then
            local t = tonumber(redis.call('HGET', S, 'lt') or '0')
            if tonumber(fence) < t then return {'SF', t} end
          end
          return nil
        end

        -- A write's labels argument: '' keeps them; '=' followed by the encoded set replaces them
        -- ('=' alone clears them). The old set leaves its label indexes; `reindex` adds the new.
        local function set_labels(arg)
          if arg == '' then return end
          local new = string.sub(arg, 2)
          local old = redis.call('HGET', S, 'lb')
          if old == new then return end
          if old then
            local keep = {}
            for _, kv in ipairs(labels_of(new)) do keep[kv[1] .. '=' .. kv[2]] = true end
            for _, kv in ipairs(labels_of(old)) do
              if not keep[kv[1] .. '=' .. kv[2]] then
                local L, LE = label_keys(X, kv[1], kv[2])
                redis.call('ZREM', L, SID)
                redis.call('ZREM', LE, SID)
                index_ttl(L, LE)
              end
            end
          end
          if new == '' then redis.call('HDEL', S, 'lb') else redis.call('HSET', S, 'lb', new) end
        end

        -- The existing session's policy.
        local function kept()
          local f = redis.call('HMGET', S, 't', 'sl')
          return f[1] and tonumber(f[1]) or nil, f[2] or '0'
        end

        -- Stamps a mutation: version, updatedAt, policy and a restarted clock. Returns expiresAt.
        local function stamp(v, ttl, sl)
          -- 'mc' mirrors the log's size so a plain HMGET of the record is a whole, atomic snapshot.
          redis.call('HSET', S, 'v', str(v), 'u', str(now), 'sl', sl, 'mc', str(redis.call('ZCARD', M)))
          if not ttl then
            redis.call('HDEL', S, 't', 'e')
            return nil
          end
          local e = now + ttl * 1000
          redis.call('HSET', S, 't', str(ttl), 'e', str(e))
          return e
        end

        -- Gives every existing key of the session the expiry `e` (nil: persistent). Keys that do
        -- not exist are skipped by Redis; writes therefore come before this call.
        local function expire(e)
          for _, key in ipairs({S, M, I, K}) do
            if e then redis.call('PEXPIREAT', key, str(e)) else redis.call('PERSIST', key) end
          end
        end

        -- Moves the session to the top of the index and of its labels' indexes (score updatedAt),
        -- records its expiry `e` (nil: persistent) in their expiry sets and its ID in the ID set,
        -- prunes a few expired entries of each and fixes their TTLs.
        local function reindex(sid, e)
          redis.call('ZADD', X, str(now), sid)
          redis.call('ZADD', ids_key(X), '0', sid)
          index_expiry_of(E, sid, e)
          index_settle(X, E)
          for _, kv in ipairs(labels_of(redis.call('HGET', S, 'lb'))) do
            local L, LE = label_keys(X, kv[1], kv[2])
            redis.call('ZADD', L, str(now), sid)
            index_expiry_of(LE, sid, e)
            index_settle(L, LE, true)
          end
        end

        -- Removes the session from the index, its ID set and the indexes of its labels `lb`,
        -- prunes a few expired entries and fixes the index TTL.
        local function unindex(sid, lb)
          redis.call('ZREM', X, sid)
          redis.call('ZREM', E, sid)
          redis.call('ZREM', ids_key(X), sid)
          unlabel(X, sid, lb)
          index_settle(X, E)
        end

        -- The session's metadata (see `record_meta`).
        local function meta() return record_meta(S, redis.call('HMGET', S, unpack(META))) end

        -- The message bytes the record counts ('mb', kept by every script; 0 when absent).
        local function mbytes() return tonumber(redis.call('HGET', S, 'mb') or '0') end

        -- A messages-key member's seq (a string), key (nil when none) and data length. Members
        -- are '<seq>:<data>', or '<seq>#<key length>:<key><data>' for a message with a key.
        local function parse(member)
          local _, e, seq = string.find(member, '^(%d+):')
          if seq then return seq, nil, #member - e end
          local _, e2, seq2, klen = string.find(member, '^(%d+)#(%d+):')
          klen = tonumber(klen)
          return seq2, string.sub(member, e2 + 1, e2 + klen), #member - e2 - klen
        end

        -- Whether the n keys at ARGV[base + 1 ..] ('' for none) are distinct and, when
        -- `existing`, absent from the session's key hash.
        local function keys_ok(base, n, existing)
          local seen = {}
          for j = 1, n do
            local k = ARGV[base + j]
            if k ~= '' then
              if seen[k] or (existing and redis.call('HEXISTS', K, k) == 1) then return false end
              seen[k] = true
            end
          end
          return true
        end

        -- The total length of the n messages at ARGV[base + 1 ..].
        local function size(base, n)
          local bytes = 0
          for j = 1, n do bytes = bytes + #ARGV[base + j] end
          return bytes
        end

        -- Adds the n messages at ARGV[mbase + 1 ..] with seqs from `first`, and their keys from
        -- ARGV[kbase + 1 ..] when `kbase` is set, in chunks that stay far below Lua's limit on
        -- unpacked values.
        local function add(first, n, mbase, kbase)
          local i = 1
          while i <= n do
            local args, fields = {}, {}
            for j = i, math.min(n, i + 499) do
              local seq = str(first + j - 1)
              local k = kbase and ARGV[kbase + j] or ''
              args[#args + 1] = seq
              if k ~= '' then
                args[#args + 1] = seq .. '#' .. str(#k) .. ':' .. k .. ARGV[mbase + j]
                fields[#fields + 1] = k
                fields[#fields + 1] = seq
              else
                args[#args + 1] = seq .. ':' .. ARGV[mbase + j]
              end
            end
            redis.call('ZADD', M, unpack(args))
            if #fields > 0 then redis.call('HSET', K, unpack(fields)) end
            i = i + 500
          end
        end

        -- Deletes the given message keys from the key hash, in chunks.
        local function free(keys)
          for i = 1, #keys, 500 do
            redis.call('HDEL', K, unpack(keys, i, math.min(#keys, i + 499)))
          end
        end

        -- A read of a sliding session restarts its clock (on every key and the index TTL).
        local function slide()
          local f = redis.call('HMGET', S, 'sl', 't')
          if f[1] ~= '1' or not f[2] then return end
          local e = now + tonumber(f[2]) * 1000
          redis.call('HSET', S, 'e', str(e))
          expire(e)
          if redis.call('ZSCORE', X, SID) then
            index_expiry_of(E, SID, e)
            index_ttl(X, E, ids_key(X))
          end
          for _, kv in ipairs(labels_of(redis.call('HGET', S, 'lb'))) do
            local L, LE = label_keys(X, kv[1], kv[2])
            if redis.call('ZSCORE', L, SID) then
              index_expiry_of(LE, SID, e)
              index_ttl(L, LE)
            end
          end
        end
        """#

    /// A script's source: its parts, one after another on separate lines.
    static func compose(_ parts: String...) -> String {
        parts.joined(separator: "\n")
    }

    /// Every script, in the order `RedisStateStore.loadScripts()` loads them.
    static let all: [RedisScript] = [
        .save, .load, .delete, .list, .listRecords, .deleteAll, .append, .readMessages, .pop, .clear,
        .messageByKey, .replace, .trim, .deleteMessage, .listByPrefix, .deleteByPrefix,
        .acquireLease, .getLease, .releaseLease,
    ]
}

/// One Lua script of `RedisStateStore`, identified by name; its SHA-1 comes from
/// [`SCRIPT LOAD`](https://redis.io/docs/latest/commands/script-load/).
struct RedisScript: Sendable, Hashable, CustomStringConvertible {
    /// The operation it implements, for errors and logs.
    let name: String
    /// The full Lua source.
    let source: String

    var description: String { name }
}
