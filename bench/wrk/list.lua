-- GET /agents/<AGENT>/sessions?limit=<LIMIT> (the first page).
-- args: AGENT LIMIT
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")

function init(args)
  bench.seed()
  bench.add("GET", string.format("/agents/%s/sessions?limit=%d", args[1], tonumber(args[2])))
end
