-- webdis baseline over keys <PREFIX><n>, n < KEYS:
--   get: GET /GET/<key>
--   set: PUT /SET/<key> with the value (VALUE_FILE) as the body (webdis's "file upload" form)
-- args: get|set KEYS PREFIX [VALUE_FILE]
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")

function init(args)
  bench.seed()
  local mode, keys, prefix = args[1], tonumber(args[2]), args[3]
  local value = nil
  if mode == "set" then value = bench.read(args[4]) end
  for n = 0, keys - 1 do
    if mode == "set" then
      bench.reqs[#bench.reqs + 1] = wrk.format("PUT", string.format("/SET/%s%d", prefix, n), nil, value)
    else
      bench.add("GET", string.format("/GET/%s%d", prefix, n))
    end
  end
end
