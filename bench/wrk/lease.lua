-- PUT /agents/a<i>/sessions/<PREFIX><j>/lease {"holder":"bench","ttl_ms":60000}: the first
-- request to a session acquires its lease (201), the rest renew it (200), all one holder.
-- args: AGENTS SESSIONS PREFIX
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")

function init(args)
  bench.seed()
  local agents, sessions, prefix = tonumber(args[1]), tonumber(args[2]), args[3]
  local body = '{"holder":"bench","ttl_ms":60000}'
  for a = 0, agents - 1 do
    for j = 0, sessions - 1 do
      bench.add("PUT", string.format("/agents/a%d/sessions/%s%d/lease", a, prefix, j), body)
    end
  end
end
