-- GET /agents/<AGENT>/sessions?limit=<LIMIT><EXTRA> (the first page).
-- args: AGENT LIMIT [EXTRA query, e.g. &label=tier:gold]
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")

function init(args)
  bench.seed()
  bench.add("GET", string.format("/agents/%s/sessions?limit=%d%s", args[1], tonumber(args[2]), args[3] or ""))
end
