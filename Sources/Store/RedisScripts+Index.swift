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
    /// Invariants every script keeps: `E ⊆ X`; `X` and `E` carry the same TTL, which is `PERSIST`
    /// while any session of `X` is persistent and otherwise the highest score of `E`. Every mutation
    /// also prunes up to `prunePerWrite` expired entries (from both sets, deleting any leftover keys
    /// of their sessions), so an index no one lists still never grows without bound. `pruned`
    /// counts what a script removed; scripts return it (see `RedisScript.reportsPruned`).
    ///
    /// Session keys are derived from a record key `R = <prefix><agent>:<session>` by
    /// `session_key_names`. In cluster mode every key of a bucket's sessions shares the bucket's
    /// slot (hash tag), so these derived keys stay in the script's slot.
    static let index = #"""
        local pruned = 0

        -- Every key of the session whose record key is R.
        local function session_key_names(R) return R, R .. ':messages', R .. ':idem', R .. ':keys' end

        -- Whether a is after b, byte by byte (the order of sorted-set members with one score).
        local function bytes_after(a, b)
          for i = 1, math.min(#a, #b) do
            local x, y = string.byte(a, i), string.byte(b, i)
            if x ~= y then return x > y end
          end
          return #a > #b
        end

        -- Sets the TTL of X and E from E: persistent while X has a member not in E (a persistent
        -- session), else the longest remaining expiry. O(log n). An empty X takes E with it.
        local function index_ttl(X, E)
          local n = redis.call('ZCARD', X)
          if n == 0 then redis.call('DEL', E) return end
          if redis.call('ZCARD', E) < n then
            redis.call('PERSIST', X)
            redis.call('PERSIST', E)
            return
          end
          local top = redis.call('ZRANGE', E, -1, -1, 'WITHSCORES')
          local e = str(tonumber(top[2]))
          redis.call('PEXPIREAT', X, e)
          redis.call('PEXPIREAT', E, e)
        end

        -- Records a session's expiry `e` (nil: persistent) in E, for a session that is in X.
        local function index_expiry_of(E, sid, e)
          if e then redis.call('ZADD', E, str(e), sid) else redis.call('ZREM', E, sid) end
        end

        -- Removes up to `limit` entries whose session has expired (by E), with any leftover keys
        -- of those sessions. An entry of E that its record contradicts (a live record) is
        -- corrected instead. `base` is `<prefix><agent>:`.
        local function index_prune(X, E, base, limit)
          local ids = redis.call('ZRANGEBYSCORE', E, '-inf', str(now), 'LIMIT', 0, limit)
          for _, sid in ipairs(ids) do
            local R = base .. sid
            local f = redis.call('HMGET', R, 'v', 'e')
            if f[1] and not expired(f[2]) then
              index_expiry_of(E, sid, f[2] and tonumber(f[2]) or nil)
            else
              redis.call('DEL', session_key_names(R))
              redis.call('ZREM', X, sid)
              redis.call('ZREM', E, sid)
              pruned = pruned + 1
            end
          end
        end

        -- After a mutation of the index: prune a bounded number of expired entries, then fix the TTL.
        local function index_settle(X, E, base)
          index_prune(X, E, base, \#(prunePerWrite))
          index_ttl(X, E)
        end
        """#

    /// Expired index entries every mutation removes (besides those a list passes).
    static let prunePerWrite = 16

    /// A session script: `common`, `index`, `session`, then `body`, run as a function whose reply
    /// gets the number of index entries the script pruned appended as its last element (0 for
    /// reads and refusals), which `RedisStateStore.run` strips and reports.
    static func sessionScript(_ body: String) -> String {
        compose(common, index, session, "local function main()", body, "end",
                "local reply = main()", "reply[#reply + 1] = pruned", "return reply")
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
        "replace_messages", "trim_messages", "delete_message",
    ]
}
