extension RedisScripts {
    /// The agent index and its expiry set, shared by every script that changes either
    /// (after `common`, before `session`).
    ///
    /// Two sorted sets per index (per bucket, once cluster mode splits an index):
    /// - the index `X`: member = session ID, score = `updatedAt` ms (positive), so `ZREVRANGE` is the
    ///   list order (newest first, ties by ID descending) and `ZRANGEBYSCORE X t +inf` finds the
    ///   sessions updated since `t`;
    /// - the expiry set `E` (`<index key>::expiry`): member = session ID, score = `expiresAt` ms,
    ///   for the sessions of `X` that have a TTL. A persistent session is in `X` only, so
    ///   `ZCARD X - ZCARD E` counts the persistent sessions, and the top of `E` is the
    ///   longest-lived expiring one: the index TTL follows in O(log n).
    ///
    /// Invariants every script keeps: `E ⊆ X`; a session's score in `E` is its record's `e`; `X` and
    /// `E` carry the same TTL, which is `PERSIST` while any session of `X` is persistent and
    /// otherwise the highest score of `E`. Every mutation also prunes up to `prunePerWrite` expired
    /// entries (from both sets and the ID set; the sessions' own keys expire by themselves), so an
    /// index no one lists still never grows without bound. `pruned` counts what a script removed;
    /// scripts return it (see `RedisScript.reportsPruned`).
    ///
    /// Session keys are derived from a record key `R = <prefix><agent>:<session>` by
    /// `session_key_names`; a script touches a derived key only once it is declared (`DECLARED`).
    static let index = compose(indexBase, indexRest)

    /// The part of `index` that the fast path of `save` needs (`RedisScript.save`): the pruned
    /// count, the ID set's key, the index TTL and a record's metadata. Every script that includes
    /// `index` includes this first.
    static let indexBase = #"""
        local pruned = 0

        -- The agent index's ID set (score 0, member = session ID; ZRANGEBYLEX for prefix lists).
        local function ids_key(X) return X .. '::ids' end

        -- Sets the TTL of X and E (and IDS when given) to the highest score of E, for an index whose
        -- every member is in E (none is persistent).
        local function index_ttl_top(X, E, IDS)
          local top = redis.call('ZRANGE', E, -1, -1, 'WITHSCORES')
          local e = str(tonumber(top[2]))
          redis.call('PEXPIREAT', X, e)
          redis.call('PEXPIREAT', E, e)
          if IDS then redis.call('PEXPIREAT', IDS, e) end
        end

        -- Sets the TTL of X and E (and IDS, the agent index's ID set, when given) from E: persistent
        -- while X has a member not in E (a persistent session), else the longest remaining expiry.
        -- O(log n). An empty X takes E and IDS with it.
        local function index_ttl(X, E, IDS)
          local n = redis.call('ZCARD', X)
          if n == 0 then
            redis.call('DEL', E)
            if IDS then redis.call('DEL', IDS) end
            return
          end
          if redis.call('ZCARD', E) < n then
            redis.call('PERSIST', X)
            redis.call('PERSIST', E)
            if IDS then redis.call('PERSIST', IDS) end
            return
          end
          index_ttl_top(X, E, IDS)
        end

        -- The record fields `record_meta` reads, in its order.
        local META = {'v', 'c', 'u', 'e', 't', 'sl', 'mb', 'lb', 'lh', 'lt', 'la', 'le'}

        -- A session's metadata from its record key R and its META fields f: version, created,
        -- updated, expires (-1: never), ttl (-1: none), sliding (0/1), message count, state bytes
        -- (0 when never set), message bytes, labels (encoded, '' when none), and the live lease as
        -- {holder, fencing token, acquired, expires}, or false. `count` and `st` are the message
        -- count and state bytes when the script knows them (nil: read here).
        local function record_meta(R, f, count, st)
          local lease = false
          if f[9] and tonumber(f[12]) > now then lease = {f[9], tonumber(f[10]), tonumber(f[11]), tonumber(f[12])} end
          return {
            tonumber(f[1]), tonumber(f[2]), tonumber(f[3]),
            f[4] and tonumber(f[4]) or -1, f[5] and tonumber(f[5]) or -1,
            f[6] == '1' and 1 or 0,
            count or redis.call('ZCARD', R .. ':messages'), st or redis.call('HSTRLEN', R, 'st'), tonumber(f[7] or '0'),
            f[8] or '', lease
          }
        end
        """#

    /// The rest of `index`: labels, pruning, and dropping a session.
    static let indexRest = #"""
        -- How far a PTTL may be from what a record says, in ms, before the check reports it: PTTL
        -- is measured against Redis's clock when the command runs, `now` when the script started,
        -- and a busy machine can stall a script between the two. Real faults are seconds or more off.
        local SLACK = 1000

        -- Every key of the session whose record key is R.
        local function session_key_names(R) return R, R .. ':messages', R .. ':idem', R .. ':keys' end

        -- The session ID of record key R: after its last ':' (IDs never contain ':'), found with a
        -- plain search (a pattern anchored at the end backtracks).
        local function session_id_of(R) return string.sub(R, #R - string.find(string.reverse(R), ':', 1, true) + 2) end

        -- Removes the sessions `ids` (at most a few thousand: `unpack`) from the index X, its expiry
        -- set E and, when given, its ID set IDS. Returns how many it was given.
        local function index_remove(X, E, IDS, ids)
          if #ids == 0 then return 0 end
          redis.call('ZREM', X, unpack(ids))
          redis.call('ZREM', E, unpack(ids))
          if IDS then redis.call('ZREM', IDS, unpack(ids)) end
          return #ids
        end

        -- A label's index and its expiry set, beside the agent index X.
        local function label_keys(X, k, v) return X .. '::label:' .. k .. ':' .. v, X .. '::label-expiry:' .. k .. ':' .. v end

        -- A record's labels ('lb': '<key>=<value length>:<value>' repeated, keys ascending) as {{k, v}, …}.
        local function labels_of(lb)
          local out, i = {}, 1
          if not lb then return out end
          while i <= #lb do
            local _, e, k, n = string.find(lb, '^([a-z][a-z0-9_]*)=(%d+):', i)
            if not e then break end
            n = tonumber(n)
            out[#out + 1] = {k, string.sub(lb, e + 1, e + n)}
            i = e + n + 1
          end
          return out
        end

        -- Whether encoded labels `lb` include exactly k: v.
        local function has_label(lb, k, v)
          for _, kv in ipairs(labels_of(lb)) do
            if kv[1] == k and kv[2] == v then return true end
          end
          return false
        end

        -- Whether a is after b, byte by byte (the order of sorted-set members with one score).
        local function bytes_after(a, b)
          for i = 1, math.min(#a, #b) do
            local x, y = string.byte(a, i), string.byte(b, i)
            if x ~= y then return x > y end
          end
          return #a > #b
        end

        -- Records a session's expiry `e` (nil: persistent) in E, for a session that is in X.
        local function index_expiry_of(E, sid, e)
          if e then redis.call('ZADD', E, str(e), sid) else redis.call('ZREM', E, sid) end
        end

        -- Removes a session from the indexes of its labels (`lb`, encoded), fixing their TTLs.
        local function unlabel(X, sid, lb)
          for _, kv in ipairs(labels_of(lb)) do
            local L, LE = label_keys(X, kv[1], kv[2])
            redis.call('ZREM', L, sid)
            redis.call('ZREM', LE, sid)
            index_ttl(L, LE)
          end
        end

        -- Deletes every key of the session `sid` and its label entries (not its agent-index
        -- entries). Returns 1 when the session was live, else 0.
        local function drop_session(X, base, sid)
          local R = base .. sid
          local f = redis.call('HMGET', R, 'v', 'e', 'lb')
          if not f[1] then return 0 end
          unlabel(X, sid, f[3])
          redis.call('DEL', session_key_names(R))
          if expired(f[2]) then return 0 end
          return 1
        end

        -- Removes up to `limit` entries whose session has expired by E (its score is the session's
        -- `expiresAt`, which every script that changes a record's expiry writes in the same step),
        -- from X, E and, for the agent index, its ID set IDS. Only these declared keys are touched:
        -- the pruned session's own keys carry the same expiry, so Redis drops them itself, and its
        -- entries in label indexes are pruned the same way, through those indexes' expiry sets.
        local function index_prune(X, E, limit, IDS)
          local ids = redis.call('ZRANGEBYSCORE', E, '-inf', str(now), 'LIMIT', 0, limit)
          pruned = pruned + index_remove(X, E, IDS, ids)
        end

        -- After a mutation of an index: prune a bounded number of expired entries, then fix the TTL.
        -- `label` is true for a label's index (which has no ID set).
        local function index_settle(X, E, label)
          local IDS = not label and ids_key(X) or nil
          index_prune(X, E, \#(prunePerWrite), IDS)
          index_ttl(X, E, IDS)
        end

        -- KEYS as a set. DESIGN §8: every script declares every key it touches, so a key that a
        -- script finds it needs (a label index named by a record, the keys of a session named by an
        -- index) and that is not in KEYS makes it stop before its first write and answer
        -- {'NK', key, …}; the store runs it again with those keys added (`RedisStateStore.run`).
        local DECLARED = {}
        for i = 1, #KEYS do DECLARED[KEYS[i]] = true end

        -- Adds to `missing` (a list, and a set of what it holds) each given key that is not declared.
        local function want(missing, ...)
          for i = 1, select('#', ...) do
            local key = select(i, ...)
            if not DECLARED[key] and not missing[key] then
              missing[key] = true
              missing[#missing + 1] = key
            end
          end
        end

        -- Adds to `missing` the undeclared keys of the label indexes of labels `lb` (encoded) beside X.
        local function want_labels(missing, X, lb)
          for _, kv in ipairs(labels_of(lb)) do want(missing, label_keys(X, kv[1], kv[2])) end
        end

        -- The 'NK' reply naming the keys in `missing`, or nil when there are none.
        local function undeclared(missing)
          if #missing == 0 then return nil end
          local reply = {'NK'}
          for i = 1, #missing do reply[i + 1] = missing[i] end
          return reply
        end
        """#

    /// Expired index entries every mutation removes (besides those a list passes).
    static let prunePerWrite = 16

    /// A session script: `common`, `index`, `session`, then `body`, run as a function whose reply
    /// gets the number of index entries the script pruned appended as its last element (0 for
    /// reads and refusals), which `RedisStateStore.run` strips and reports.
    ///
    /// Before `body`, the script answers 'NK' when a label index it may touch is not declared
    /// (`undeclared_labels`); `labels` is the ARGV index of the labels argument of a script that sets
    /// labels, nil for the others.
    static func sessionScript(_ body: String, labels: Int? = nil) -> String {
        compose(common, index, session, run(declaringLabels(labels) + "\n" + body))
    }

    /// The statements that begin a session script's `main`: the 'NK' answer of `undeclared_labels`.
    static func declaringLabels(_ labels: Int?) -> String {
        let argument = labels.map { "ARGV[\($0)]" } ?? "nil"
        return "local missing_keys = undeclared_labels(\(argument))\nif missing_keys then return missing_keys end"
    }

    /// `body` as the function `main`, then the statements that call it and return its reply with
    /// the pruned count appended.
    static func run(_ body: String) -> String {
        compose("local function main()", body, "end", "local reply = main()", "reply[#reply + 1] = pruned", "return reply")
    }
}

extension RedisScript {
    /// Whether the script's reply ends with the count of index entries it pruned (see
    /// `RedisScripts.sessionScript`), which `RedisStateStore.run` strips and reports.
    var reportsPruned: Bool { RedisScripts.pruningScripts.contains(name) }
}

extension RedisScripts {
    /// The scripts whose replies end with a pruned count: every session script (`sessionScript`).
    static let pruningScripts: Set<String> = [
        "save", "load", "delete", "append", "read_messages", "message_by_key", "pop", "clear_messages",
        "replace_messages", "trim_messages", "delete_message", "lease_acquire", "lease_get", "lease_release",
    ]
}
