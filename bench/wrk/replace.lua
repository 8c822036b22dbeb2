-- PUT /agents/a<i>/sessions/<prefix><j>/messages with the whole log (BODY_FILE, 100 messages).
-- args: BODY_FILE AGENTS SESSIONS PREFIX
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")

function init(args)
  bench.seed()
  local body = bench.read(args[1])
  local agents, sessions, prefix = tonumber(args[2]), tonumber(args[3]), args[4]
  for a = 0, agents - 1 do
    for j = 0, sessions - 1 do
      bench.add("PUT", string.format("/agents/a%d/sessions/%s%d/messages", a, prefix, j), body)
    end
  end
end
