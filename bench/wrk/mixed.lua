-- LOAD_PERCENT % GET, the rest PUT {"state": <STATE_FILE>}, over the same sessions.
-- args: STATE_FILE AGENTS SESSIONS PREFIX LOAD_PERCENT
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")

local gets, puts, load_percent = {}, {}, 80

function init(args)
  bench.seed()
  local state = bench.read(args[1])
  local agents, sessions, prefix = tonumber(args[2]), tonumber(args[3]), args[4]
  load_percent = tonumber(args[5])
  local body = '{"state":' .. state .. '}'
  for a = 0, agents - 1 do
    for j = 0, sessions - 1 do
      local path = string.format("/agents/a%d/sessions/%s%d", a, prefix, j)
      gets[#gets + 1] = wrk.format("GET", path)
      puts[#puts + 1] = wrk.format("PUT", path, { ["Content-Type"] = "application/json" }, body)
    end
  end
end

function request()
  if math.random(100) <= load_percent then
    return gets[math.random(#gets)]
  end
  return puts[math.random(#puts)]
end
