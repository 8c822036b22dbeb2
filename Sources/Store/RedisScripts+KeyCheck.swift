extension RedisScripts {
    /// `source` with every `redis.call` checked against `KEYS`: a command whose key is not declared
    /// raises a script error (`undeclared key …`) instead of running. For tests
    /// (`RedisStateStore.init(checksDeclaredKeys:)`): Redis does not check this itself, but DESIGN §8
    /// requires every key to be declared, as Redis Cluster does during a slot migration, where it
    /// redirects a script whose declared keys have moved before the script starts.
    static func checkingDeclaredKeys(_ source: String) -> String {
        keyCheck + "\n" + source.replacingOccurrences(of: "redis.call(", with: "checked_call(")
    }

    /// `checkingDeclaredKeys` of every script's source (the store's and `RedisLayoutChecker`'s), by
    /// script name, made once (each store loads every script, and the replacement over a script's
    /// source is not free).
    static let checkedSources: [String: String] = Dictionary(
        uniqueKeysWithValues: (all + [.checkSession, .checkIndex]).map { ($0.name, checkingDeclaredKeys($0.source)) })

    /// The function that `checkingDeclaredKeys` puts in place of `redis.call`.
    static let keyCheck = #"""
        local DECLARED_KEYS = {}
        for i = 1, #KEYS do DECLARED_KEYS[KEYS[i]] = true end
        -- Of the commands these scripts send (always spelled in capitals), DEL and EXISTS take only
        -- keys, TIME none, and every other one names one key first.
        local ALL_KEYS, NO_KEY = {DEL = true, EXISTS = true}, {TIME = true}
        local function checked_call(command, ...)
          if not NO_KEY[command] then
            local n = ALL_KEYS[command] and select('#', ...) or 1
            for i = 1, n do
              local key = select(i, ...)
              if not DECLARED_KEYS[key] then error('undeclared key ' .. tostring(key) .. ' in ' .. command) end
            end
          end
          return redis.call(command, ...)
        end
        """#
}
