-- GET PATH?limit=LIMIT on one session: the newest LIMIT messages when BEFORE_MAX is 0, else
-- LIMIT messages before a random seq in (LIMIT, BEFORE_MAX], so no page is short.
-- args: PATH LIMIT BEFORE_MAX
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")

function init(args)
  bench.seed()
  local path, limit, before_max = args[1], tonumber(args[2]), tonumber(args[3])
  if before_max == 0 then
    bench.add("GET", string.format("%s?limit=%d", path, limit))
    return
  end
  for _ = 1, 1000 do
    bench.add("GET", string.format("%s?limit=%d&before=%d", path, limit, math.random(limit + 1, before_max)))
  end
end
