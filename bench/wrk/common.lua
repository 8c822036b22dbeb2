-- Shared by every bench script (loaded with dofile from the script's own folder).
--
-- * setup() numbers the threads so each seeds math.random differently.
-- * Requests are built once per thread in init() over a bounded set and picked with
--   math.random, so the load generator spends its time on the wire, not in Lua.
-- * done() prints one machine-readable line, BENCH_RESULT {...}, with wrk's own counters:
--   errors.status counts responses with status > 399 (printed by wrk as "Non-2xx or 3xx
--   responses"); connect/read/write/timeout are socket errors. bench/report.py counts all of
--   them as errors. No scenario sends a conditional or redirected request, so a 3xx cannot
--   occur; bench/tools.py checks a sample of every scenario's requests for 2xx beforehand.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

bench = {}

function bench.seed()
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  for _ = 1, 10 do math.random() end
end

function bench.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Pre-built requests: bench.reqs[1..n]
bench.reqs = {}

function bench.add(method, path, body)
  local headers = nil
  if body then headers = { ["Content-Type"] = "application/json" } end
  bench.reqs[#bench.reqs + 1] = wrk.format(method, path, headers, body)
end

function request()
  return bench.reqs[math.random(#bench.reqs)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
