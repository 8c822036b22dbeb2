-- GET /agents/a<i>/sessions/<prefix><j>.
-- args: AGENTS SESSIONS PREFIX
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")

function init(args)
  bench.seed()
  local agents, sessions, prefix = tonumber(args[1]), tonumber(args[2]), args[3]
  for a = 0, agents - 1 do
    for j = 0, sessions - 1 do
      bench.add("GET", string.format("/agents/a%d/sessions/%s%d", a, prefix, j))
    end
  end
end
