-- nginx baseline: GET PATH (a static JSON file).
-- args: PATH
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "common.lua")

function init(args)
  bench.seed()
  bench.add("GET", args[1])
end
