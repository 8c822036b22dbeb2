#!/usr/bin/env python3
"""Parses the raw outputs of one bench/run and writes the Markdown report.

    report.py report RESULTS_DIR OUT.md [--check]
        RESULTS_DIR holds wrk-*.txt (wrk output with a BENCH_RESULT line from
        bench/wrk/common.lua), rb-*.csv / rb-*.txt (redis-benchmark) and meta.env
        (key=value lines written by bench/run). --check exits 1 unless every scenario
        and baseline is there with zero errors (what `bench/run --smoke` asserts).
    report.py wrk FILE
        prints "<requests> <errors>" of one wrk output (used by bench/run's 1M-request loop).
    report.py line FILE
        prints a one-line summary of one wrk or redis-benchmark output (progress output).
    report.py rb-rps FILE
        prints the largest requests/second in one redis-benchmark output (to size N).
"""
import csv
import json
import os
import re
import sys

# ---------------------------------------------------------------- parsing

_TIME_UNITS_US = {"us": 1.0, "µs": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def parse_time_us(text):
    """'850.12us', '3.76ms', '1.02s', '2.00m' -> microseconds."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*(us|µs|ms|s|m|h)\s*", text)
    if not m:
        raise ValueError(f"not a wrk time: {text!r}")
    return float(m.group(1)) * _TIME_UNITS_US[m.group(2)]


def _metric_number(text):
    """wrk's '12.34k' style counts."""
    m = re.fullmatch(r"([0-9.]+)([kMG]?)", text.strip())
    scale = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m.group(2)]
    return float(m.group(1)) * scale


def parse_wrk(text):
    """Returns dict(rps, p50_us, p99_us, requests, errors, duration_s) or None.

    The BENCH_RESULT line printed by common.lua's done() is exact and preferred; the
    human-readable lines (Requests/sec:, the --latency distribution, "Non-2xx or 3xx
    responses", "Socket errors") are parsed too, as a fallback and as a cross-check."""
    out = {}
    m = re.search(r"^BENCH_RESULT (\{.*\})\s*$", text, re.M)
    if m:
        j = json.loads(m.group(1))
        dur = j["duration_us"] / 1e6
        out = {
            "requests": j["requests"],
            "duration_s": dur,
            "rps": j["requests"] / dur if dur > 0 else 0.0,
            "p50_us": float(j["p50_us"]),
            "p99_us": float(j["p99_us"]),
            "errors_status": j["errors_status"],
            "errors_socket": j["errors_connect"] + j["errors_read"] + j["errors_write"] + j["errors_timeout"],
        }
    # Text fallback / cross-check.
    txt = {}
    m = re.search(r"^Requests/sec:\s*([0-9.]+)", text, re.M)
    if m:
        txt["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_us"), ("99", "p99_us")):
        m = re.search(rf"^\s*{pct}(?:\.0+)?%\s+([0-9.]+\s*(?:us|µs|ms|s|m|h))\s*$", text, re.M)
        if m:
            txt[key] = parse_time_us(m.group(1))
    m = re.search(r"^\s*([0-9]+) requests in ([0-9.]+\s*(?:us|ms|s|m|h))", text, re.M)
    if m:
        txt["requests"] = int(m.group(1))
        txt["duration_s"] = parse_time_us(m.group(2)) / 1e6
    m = re.search(r"Non-2xx or 3xx responses:\s*([0-9]+)", text)
    txt["errors_status"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)", text)
    txt["errors_socket"] = sum(int(x) for x in m.groups()) if m else 0
    if not out:
        if "rps" not in txt or "p99_us" not in txt:
            return None
        out = txt
    else:
        # Whichever reports more errors wins; they should agree.
        out["errors_status"] = max(out["errors_status"], txt["errors_status"])
        out["errors_socket"] = max(out["errors_socket"], txt["errors_socket"])
    out["errors"] = out["errors_status"] + out["errors_socket"]
    return out


def parse_redis_benchmark(text):
    """Returns {TEST: dict(rps, p50_us, p99_us, requests)} from redis-benchmark output.

    Understands the --csv format of Redis >= 7 (rps, avg/min/p50/p95/p99/max latency in ms),
    the plain output's "latency summary (msec)" table (Redis >= 6.2/7) and the older plain
    format ("====== SET ======", "99.00% <= 1 milliseconds", "N requests per second")."""
    res = {}
    stripped = text.strip()
    if stripped.startswith('"test"'):
        lines = stripped.splitlines()
        header = next(csv.reader([lines[0]]))
        numeric = len(header) - 1
        for line in lines[1:]:
            # The test name is not escaped (a custom command's arguments may hold quotes and
            # commas), so take the numeric fields from the right.
            parts = line.rsplit(",", numeric)
            if len(parts) != numeric + 1:
                continue
            name = parts[0].strip().strip('"')
            row = dict(zip(header[1:], (p.strip().strip('"') for p in parts[1:])))
            try:
                entry = {"rps": float(row["rps"])}
                if "p50_latency_ms" in row and "p99_latency_ms" in row:
                    entry["p50_us"] = float(row["p50_latency_ms"]) * 1e3
                    entry["p99_us"] = float(row["p99_latency_ms"]) * 1e3
            except (KeyError, ValueError):
                continue
            res[name] = entry
        return res
    # Plain output: sections start with "====== NAME ======".
    sections = re.split(r"^={6} (.*?) ={6}\s*$", text, flags=re.M)
    for name, body in zip(sections[1::2], sections[2::2]):
        entry = {}
        m = re.search(r"([0-9.]+) requests per second", body)
        if m:
            entry["rps"] = float(m.group(1))
        m = re.search(r"^\s*([0-9]+) requests completed", body, re.M)
        if m:
            entry["requests"] = int(m.group(1))
        m = re.search(r"latency summary \(msec\):\s*\n\s*avg\s+min\s+p50\s+p95\s+p99\s+max\s*\n\s*([0-9. ]+)", body)
        if m:
            vals = [float(v) for v in m.group(1).split()]
            entry["p50_us"], entry["p99_us"] = vals[2] * 1e3, vals[4] * 1e3
        else:
            # Old format: cumulative "P% <= T milliseconds" lines.
            cum = [(float(p), float(t)) for p, t in re.findall(r"([0-9.]+)% <= ([0-9.]+) milliseconds", body)]
            for want, key in ((50.0, "p50_us"), (99.0, "p99_us")):
                for p, t in cum:
                    if p >= want:
                        entry[key] = t * 1e3
                        break
        if "rps" in entry:
            res[name.strip()] = entry
    return res


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def read_meta(path):
    meta = {}
    for line in (read(path) or "").splitlines():
        if "=" in line:
            k, _, v = line.partition("=")
            meta[k.strip()] = v.strip()
    return meta


# ---------------------------------------------------------------- model

# id, label, nginx size class, redis-benchmark test (same size), 1 KiB counterpart
SCENARIOS = [
    ("save1k", "save 1 KiB", "1k", ("SET", "1k"), None),
    ("save16k", "save 16 KiB", "16k", ("SET", "16k"), "save1k"),
    ("load1k", "load 1 KiB", "1k", ("GET", "1k"), None),
    ("load16k", "load 16 KiB", "16k", ("GET", "16k"), "load1k"),
    ("mixed1k", "mixed 80 % load / 20 % save, 1 KiB", "1k", None, None),
    ("list50", "list a page of 50 (agent with 1,000 sessions)", "1k", None, None),
    ("list50of10k", "list a page of 50 (agent with 10,000 sessions)", "1k", None, None),
    ("label50of10k", "list a page of 50 by label (1,000 of 10,000 labelled)", "1k", None, None),
    ("lease", "acquire/renew a lease", "1k", None, None),
    ("append1", "append 1 message", "1k", None, None),
    ("read20", "read the last 20 messages", "1k", None, None),
    ("last20of10k", "read the last 20 of a 10,000-message log", "1k", None, None),
    ("before20of10k", "read 20 before a seq, 10,000-message log", "1k", None, None),
    ("replace100", "replace a 100-message log", "1k", None, None),
]
BACKENDS = [("redis", "Redis"), ("memory", "memory")]
# Run over TLS (rediss://, backend "redistls") too, against the same redis-server's TLS port.
TLS_SCENARIOS = [("save1k", "save 1 KiB"), ("load1k", "load 1 KiB")]
TLS_MAX_COST = 0.15  # target: TLS costs at most 15 % of the plaintext throughput
ONE_KIB_SCENARIOS = ("save1k", "load1k", "mixed1k")  # what the p99 target calls "1 KiB scenarios"
WEBDIS_FOR = {"load1k": "webdis-get1k", "save1k": "webdis-set1k"}
EVALSHA_FOR = ("save1k", "append1")

MIB = 1024.0


def load_results(d, meta):
    r = {}
    for sid, *_ in SCENARIOS:
        for b, _ in BACKENDS:
            key = f"as-{b}-{sid}"
            text = read(os.path.join(d, f"wrk-{key}.txt"))
            r[key] = parse_wrk(text) if text else None
    for sid, _ in TLS_SCENARIOS:
        key = f"as-redistls-{sid}"
        text = read(os.path.join(d, f"wrk-{key}.txt"))
        r[key] = parse_wrk(text) if text else None
    for key in ("nginx-1k", "nginx-16k", "webdis-get1k", "webdis-set1k"):
        text = read(os.path.join(d, f"wrk-{key}.txt"))
        r[key] = parse_wrk(text) if text else None
        if r[key] is not None and key.startswith("webdis"):
            # webdis answers 200 with {"SET":[false,"ERR ..."]} when Redis refuses: count
            # Redis's own error replies during the run too.
            extra = int(meta.get(f"{key}_redis_errors", "0") or 0)
            r[key]["errors"] += extra
    for size in ("1k", "16k"):
        text = read(os.path.join(d, f"rb-{size}.txt")) or read(os.path.join(d, f"rb-{size}.csv"))
        parsed = parse_redis_benchmark(text) if text else {}
        errs = int(meta.get(f"rb-{size}_redis_errors", "0") or 0)
        for test in ("SET", "GET"):
            e = parsed.get(test)
            if e is not None:
                e = dict(e, errors=errs, requests=int(meta.get(f"rb-{size}_n", "0") or 0))
            r[f"rb-{test.lower()}-{size}"] = e
    text = read(os.path.join(d, "rb-evalsha.txt")) or read(os.path.join(d, "rb-evalsha.csv"))
    parsed = parse_redis_benchmark(text) if text else {}
    e = next(iter(parsed.values()), None)
    if e is not None:
        e = dict(e, errors=int(meta.get("rb-evalsha_redis_errors", "0") or 0),
                 requests=int(meta.get("rb-evalsha_n", "0") or 0))
    r["rb-evalsha"] = e
    return r


# ---------------------------------------------------------------- formatting

def fmt_ms(us):
    if us is None:
        return "n/a"
    ms = us / 1e3
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms:.3f} ms"


def fmt_rps(x):
    return "n/a" if x is None else f"{x:,.0f}"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}×"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def get(r, key, field):
    e = r.get(key)
    return None if e is None else e.get(field)


def mib(kb):
    return None if kb in (None, "") else int(kb) / MIB


def cpu_summary(before, after, time_text, generator, clk_tck):
    """'wall=W <generator>=G <server>=S ... other=O' in CPU seconds over one measured run.

    before/after are bench/run's cpu_ticks lines ("sys=T name=T ..."): sys is the machine's busy
    ticks (all CPUs), the rest utime+stime of each watched server. time_text is bash's `time`
    output "%R %U %S" for the load generator. "other" is everything else the machine did."""
    b = dict(x.split("=", 1) for x in before.split() if "=" in x)
    a = dict(x.split("=", 1) for x in after.split() if "=" in x)
    wall, user, system = (float(x) for x in time_text.strip().splitlines()[-1].split()[:3])
    gen = user + system
    parts = [f"wall={wall:.3f}", f"{generator}={gen:.2f}"]
    servers = 0.0
    for k in a:
        if k == "sys" or not a[k] or not b.get(k):
            continue
        v = (int(a[k]) - int(b[k])) / clk_tck
        servers += v
        parts.append(f"{k}={v:.2f}")
    if a.get("sys") and b.get("sys"):
        total = (int(a["sys"]) - int(b["sys"])) / clk_tck
        parts.append(f"other={max(0.0, total - gen - servers):.2f}")
    return " ".join(parts)


def cpu_cell(meta, key):
    """'agentstate 78 % · redis-server 21 % · wrk 55 %' from meta cpu_<key> (CPU seconds)."""
    raw = meta.get(f"cpu_{key}")
    if not raw:
        return ""
    vals = dict(x.split("=", 1) for x in raw.split() if "=" in x)
    try:
        wall = float(vals.pop("wall"))
    except (KeyError, ValueError):
        return ""
    if wall <= 0:
        return ""
    attempts = vals.pop("attempts", "1")
    gens = [k for k in vals if k in ("wrk", "redis-benchmark")]
    tail = ["other"] if "other" in vals else []
    order = [k for k in vals if k not in gens and k not in tail] + gens + tail
    cell = " · ".join(f"{k} {100 * float(vals[k]) / wall:.0f} %" for k in order)
    if attempts != "1":
        cell += f" (attempt {attempts})"
    return cell


def build_report(d, meta, r):
    L = []
    w = L.append
    mode = meta.get("mode", "full")
    w(f"# agentstate benchmark — {meta.get('date', '?')} on `{meta.get('host', '?')}`")
    w("")
    if mode != "full":
        w(f"**{mode} mode**: every scenario ran {meta.get('duration', '?')} after a {meta.get('warmup', '?')} warm-up; "
          "these numbers only prove the script works.")
        w("")
    w(f"- Commit: `{meta.get('commit', '?')}`; agentstate {meta.get('agentstate_version', '?')} "
      f"(release build, {meta.get('swift_version', '?')})")
    w(f"- Machine: {meta.get('cpu', '?')}, {meta.get('nproc', '?')} CPUs, {meta.get('mem', '?')}; "
      f"kernel {meta.get('kernel', '?')}")
    w(f"- Load average before / after the run: {meta.get('loadavg_start', '?')} / {meta.get('loadavg_end', '?')} "
      "(other work shares this machine, so expect noise)")
    w(f"- Pinning: {meta.get('pinning', '?')}")
    w(f"- Load: `wrk -t2 -c50 -d{meta.get('duration', '?')} --latency` after a {meta.get('warmup', '?')} warm-up of the "
      f"same scenario; redis-benchmark `-c 50` ({meta.get('rb_note', '')}).")
    w(f"- Tools: wrk {meta.get('wrk_version', '?')}, nginx {meta.get('nginx_version', '?')}, "
      f"Redis {meta.get('redis_version', '?')}, webdis {meta.get('webdis_version', '?')}")
    w(f"- agentstate threads (from /proc): {meta.get('agentstate_threads', '?')}")
    w("")

    # ---- main table
    w("## Results")
    w("")
    w("| Scenario | Backend | req/s | p50 | p99 | errors | requests | CPU during the run (% of one core) |")
    w("|---|---|---:|---:|---:|---:|---:|---|")
    for sid, label, *_ in SCENARIOS:
        for b, bl in BACKENDS:
            e = r.get(f"as-{b}-{sid}")
            if e is None:
                w(f"| {label} | {bl} | missing | | | | | |")
                continue
            w(f"| {label} | {bl} | {fmt_rps(e['rps'])} | {fmt_ms(e['p50_us'])} | {fmt_ms(e['p99_us'])} | "
              f"{e['errors']} | {e.get('requests', 0):,} | {cpu_cell(meta, f'as-{b}-{sid}')} |")
    baselines = [
        ("nginx-1k", "nginx static 1 KiB JSON", "wrk"),
        ("nginx-16k", "nginx static 16 KiB JSON", "wrk"),
        ("rb-set-1k", "redis-benchmark SET 1 KiB", "redis-benchmark"),
        ("rb-get-1k", "redis-benchmark GET 1 KiB", "redis-benchmark"),
        ("rb-set-16k", "redis-benchmark SET 16 KiB", "redis-benchmark"),
        ("rb-get-16k", "redis-benchmark GET 16 KiB", "redis-benchmark"),
        ("rb-evalsha", "redis-benchmark EVALSHA SET+ZADD 1 KiB", "redis-benchmark"),
        ("webdis-get1k", "webdis GET 1 KiB", "wrk"),
        ("webdis-set1k", "webdis SET 1 KiB (PUT body)", "wrk"),
    ]
    for key, label, tool in baselines:
        e = r.get(key)
        if e is None:
            w(f"| {label} | baseline | missing | | | | | |")
            continue
        reqs = e.get("requests")
        if key.startswith("rb-") and key != "rb-evalsha":
            cpu = cpu_cell(meta, "rb-" + key.split("-")[-1])
            cpu = cpu + " (SET and GET together)" if cpu else ""
        else:
            cpu = cpu_cell(meta, key)
        w(f"| {label} | baseline | {fmt_rps(e['rps'])} | {fmt_ms(e.get('p50_us'))} | {fmt_ms(e.get('p99_us'))} | "
          f"{e.get('errors', 0)} | {(reqs or 0):,} | {cpu} |")
    w("")
    if meta.get("max_attempts", "1") == "1":
        repeat_note = "Runs are not repeated in this mode."
    else:
        repeat_note = (f"A run during which it passed {meta.get('other_max', '?')} % of a core was measured again, "
                       f"up to {meta.get('max_attempts', '?')} attempts in all (at most "
                       f"{meta.get('retry_budget', '?')} repeats per bench/run; {meta.get('retries_used', '?')} "
                       "were used), and the least disturbed attempt is shown; \"(attempt N)\" marks one that is "
                       "not the first.")
    w("Errors are wrk's non-2xx/3xx responses plus socket errors (connect, read, write, timeout); "
      "for redis-benchmark and webdis also Redis's own error replies during the run "
      "(`total_error_replies` in `INFO stats`). p50/p99 of redis-benchmark are its own figures. "
      "CPU is each process's user+system time from /proc during the measured run, divided by its wall time; "
      "the servers share CPU 0 and the load generator has CPU 1 when pinned, so a server total near 100 % "
      "means the server core was the limit. \"other\" is the CPU time every other process on the machine "
      f"used meanwhile (busy time from /proc/stat minus ours): noise. " + repeat_note)
    w("")

    # ---- TLS
    w("## TLS to Redis beside plaintext")
    w("")
    w("The same agentstate build against the same redis-server, once on its plaintext port (`redis://`) and "
      "once on its TLS port (`rediss://`, TLS 1.3, server certificate verified against a test CA), one Redis "
      "connection each, `wrk -c 50`.")
    w("")
    w("| Scenario | plaintext req/s | TLS req/s | TLS ÷ plaintext | plaintext p99 | TLS p99 | CPU during the TLS run |")
    w("|---|---:|---:|---:|---:|---:|---|")
    for sid, label in TLS_SCENARIOS:
        p, t = r.get(f"as-redis-{sid}"), r.get(f"as-redistls-{sid}")
        if p is None or t is None:
            w(f"| {label} | {fmt_rps(p['rps']) if p else 'missing'} | {fmt_rps(t['rps']) if t else 'missing'} | | | | |")
            continue
        w(f"| {label} | {fmt_rps(p['rps'])} | {fmt_rps(t['rps'])} | {fmt_ratio(ratio(t['rps'], p['rps']))} | "
          f"{fmt_ms(p['p99_us'])} | {fmt_ms(t['p99_us'])} | {cpu_cell(meta, f'as-redistls-{sid}')} |")
    w("")

    # ---- CPU per request
    w("## CPU time per request")
    w("")
    w("Each server's user+system CPU time during the measured run divided by the requests served: "
      "how much work one request costs, which other processes on the machine disturb far less than "
      "throughput or latency. For redis-benchmark SET and GET ran in one process, so their rows share a figure.")
    w("")
    w("| Scenario | Backend | agentstate µs/request | redis-server µs/request | total µs/request |")
    w("|---|---|---:|---:|---:|")

    def per_req(key, reqs):
        raw = meta.get(f"cpu_{key}")
        if not raw or not reqs:
            return {}
        vals = dict(x.split("=", 1) for x in raw.split() if "=" in x)
        out = {}
        for k, v in vals.items():
            if k in ("wall", "attempts", "other", "wrk", "redis-benchmark"):
                continue
            try:
                out[k] = float(v) * 1e6 / reqs
            except ValueError:
                pass
        return out

    def us(x):
        return "—" if x is None else f"{x:.0f}"

    for sid, label, *_ in SCENARIOS:
        for b, bl in BACKENDS:
            e = r.get(f"as-{b}-{sid}")
            if e is None:
                continue
            c = per_req(f"as-{b}-{sid}", e.get("requests"))
            if not c:
                continue
            w(f"| {label} | {bl} | {us(c.get('agentstate'))} | {us(c.get('redis-server'))} | {us(sum(c.values()))} |")
    w("")
    w("| Baseline | server µs/request |")
    w("|---|---:|")
    for key, label, server in (("nginx-1k", "nginx static 1 KiB", "nginx"), ("nginx-16k", "nginx static 16 KiB", "nginx"),
                               ("webdis-get1k", "webdis GET 1 KiB", None), ("webdis-set1k", "webdis SET 1 KiB", None)):
        e = r.get(key)
        c = per_req(key, e.get("requests") if e else None)
        if c:
            detail = " + ".join(f"{k} {v:.0f}" for k, v in c.items())
            w(f"| {label} | {sum(c.values()):.0f} ({detail}) |")
    for size, label in (("1k", "redis-benchmark SET+GET 1 KiB"), ("16k", "redis-benchmark SET+GET 16 KiB")):
        n = int(meta.get(f"rb-{size}_n", "0") or 0)
        c = per_req(f"rb-{size}", 2 * n)
        if c:
            w(f"| {label} | {sum(c.values()):.1f} (redis-server) |")
    n = int(meta.get("rb-evalsha_n", "0") or 0)
    c = per_req("rb-evalsha", n)
    if c:
        w(f"| redis-benchmark EVALSHA SET+ZADD 1 KiB | {sum(c.values()):.1f} (redis-server) |")
    w("")

    # ---- Redis commands
    rows = []
    for sid, label, *_ in SCENARIOS:
        stats = read(os.path.join(d, f"redis-as-redis-{sid}.txt"))
        warm = parse_wrk(read(os.path.join(d, f"warm-as-redis-{sid}.txt")) or "")
        if not stats or not warm or not warm.get("requests"):
            continue
        cmds = []
        for name, calls, per_call in re.findall(r"^cmdstat_([a-z|_-]+):calls=([0-9]+),usec=[0-9]+,usec_per_call=([0-9.]+)",
                                                stats, re.M):
            if name in ("info", "config|resetstat", "config", "ping"):
                continue
            cmds.append((int(calls) / warm["requests"], name.upper(), float(per_call)))
        cmds.sort(reverse=True)
        rows.append((label, warm["requests"], cmds))
    if rows:
        w("## Redis commands per request (Redis backend)")
        w("")
        w("Counted by Redis (`INFO commandstats`, reset before each warm-up) over the warm-up run of each "
          "scenario, divided by the requests wrk completed in it. Commands run inside a Lua script are counted "
          "too, so an EVALSHA shows up together with the commands its script called. \"µs/call\" is Redis's own "
          "time per call (for EVALSHA: the whole script).")
        w("")
        w("| Scenario | warm-up requests | commands per request (µs/call) |")
        w("|---|---:|---|")
        for label, n, cmds in rows:
            w(f"| {label} | {n:,} | " + ", ".join(f"{name} {per:.2f} ({us_:.1f})" for per, name, us_ in cmds if per >= 0.005)
              + " |")
        w("")

    # ---- ratios
    w("## Ratios to the baselines")
    w("")
    w("req/s ratios above 1 and p99 ratios below 1 favour agentstate. nginx of the same size class "
      "(16 KiB scenarios against nginx 16 KiB, the rest against nginx 1 KiB); save/load against "
      "redis-benchmark SET/GET of the same size; save 1 KiB and append (one EVALSHA each) against the "
      "EVALSHA SET+ZADD baseline; load/save 1 KiB against webdis GET/SET; 16 KiB scenarios against the "
      "matching 1 KiB scenario on the same backend.")
    w("")
    w("| Scenario | Backend | req/s ÷ nginx | p99 ÷ nginx p99 | req/s ÷ redis-benchmark | p99 ÷ redis-benchmark p99 "
      "| req/s ÷ EVALSHA | req/s ÷ webdis | p99 ÷ webdis p99 | 16 KiB ÷ 1 KiB req/s | 16 KiB ÷ 1 KiB p99 |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for sid, label, nginx_size, rb, one_k in SCENARIOS:
        for b, bl in BACKENDS:
            e = r.get(f"as-{b}-{sid}")
            if e is None:
                continue
            ng = f"nginx-{nginx_size}"
            cells = [
                ratio(e["rps"], get(r, ng, "rps")),
                ratio(e["p99_us"], get(r, ng, "p99_us")),
            ]
            if rb:
                rbkey = f"rb-{rb[0].lower()}-{rb[1]}"
                cells += [ratio(e["rps"], get(r, rbkey, "rps")), ratio(e["p99_us"], get(r, rbkey, "p99_us"))]
            else:
                cells += [None, None]
            cells.append(ratio(e["rps"], get(r, "rb-evalsha", "rps")) if sid in EVALSHA_FOR else None)
            wd = WEBDIS_FOR.get(sid)
            cells += [ratio(e["rps"], get(r, wd, "rps")), ratio(e["p99_us"], get(r, wd, "p99_us"))] if wd else [None, None]
            if one_k:
                cells += [ratio(e["rps"], get(r, f"as-{b}-{one_k}", "rps")),
                          ratio(e["p99_us"], get(r, f"as-{b}-{one_k}", "p99_us"))]
            else:
                cells += [None, None]
            w(f"| {label} | {bl} | " + " | ".join(fmt_ratio(c) for c in cells) + " |")
    w("")

    # ---- targets
    w("## Targets")
    w("")
    w("Evaluated from this run's numbers only.")
    w("")
    w("| Target | Measured | Limit | Result |")
    w("|---|---:|---:|---|")
    met = missed = 0

    def verdict(ok):
        nonlocal met, missed
        if ok is None:
            return "not measured"
        if ok:
            met += 1
            return "**met**"
        missed += 1
        return "**missed**"

    for sid, label in TLS_SCENARIOS:
        p, t = get(r, f"as-redis-{sid}", "rps"), get(r, f"as-redistls-{sid}", "rps")
        rt = ratio(t, p)
        w(f"| {label} over TLS ≥ {1 - TLS_MAX_COST:.2f} × plaintext req/s | {fmt_ratio(rt)} | {1 - TLS_MAX_COST:.2f} | "
          f"{verdict(None if rt is None else rt >= 1 - TLS_MAX_COST)} |")
    ng1_rps, ng1_p99 = get(r, "nginx-1k", "rps"), get(r, "nginx-1k", "p99_us")
    for sid, factor, name in (("load1k", 0.5, "load 1 KiB (Redis) ≥ 0.5 × nginx 1 KiB req/s"),
                              ("save1k", 0.4, "save 1 KiB (Redis) ≥ 0.4 × nginx 1 KiB req/s")):
        v = get(r, f"as-redis-{sid}", "rps")
        lim = None if ng1_rps is None else factor * ng1_rps
        ok = None if v is None or lim is None else v >= lim
        w(f"| {name} | {fmt_rps(v)} req/s ({fmt_ratio(ratio(v, ng1_rps))}) | {fmt_rps(lim)} req/s | {verdict(ok)} |")
    labels = {s[0]: s[1] for s in SCENARIOS}
    for b, bl in BACKENDS:
        for sid in ONE_KIB_SCENARIOS:
            v = get(r, f"as-{b}-{sid}", "p99_us")
            lim = None if ng1_p99 is None else 1.5 * ng1_p99
            ok = None if v is None or lim is None else v <= lim
            w(f"| p99 of {labels[sid]} ({bl}) ≤ 1.5 × nginx 1 KiB p99 | {fmt_ms(v)} ({fmt_ratio(ratio(v, ng1_p99))}) "
              f"| {fmt_ms(lim)} | {verdict(ok)} |")
    for b, bl in BACKENDS:
        for sid, one_k in (("save16k", "save1k"), ("load16k", "load1k")):
            v, base = get(r, f"as-{b}-{sid}", "rps"), get(r, f"as-{b}-{one_k}", "rps")
            lim = None if base is None else 0.6 * base
            ok = None if v is None or lim is None else v >= lim
            w(f"| {labels[sid]} ({bl}) ≥ 0.6 × {labels[one_k]} req/s | {fmt_rps(v)} req/s ({fmt_ratio(ratio(v, base))}) "
              f"| {fmt_rps(lim)} req/s | {verdict(ok)} |")
    idle = mib(meta.get("rss_idle_kb"))
    w(f"| RSS idle after start (Redis backend) ≤ 20 MiB | {idle:.1f} MiB | 20 MiB | {verdict(None if idle is None else idle <= 20)} |"
      if idle is not None else "| RSS idle ≤ 20 MiB | n/a | 20 MiB | not measured |")
    held = mib(meta.get("rss_conns_kb"))
    nconn = meta.get("conns_held", "?")
    if held is not None:
        w(f"| RSS holding {nconn} idle keep-alive connections ≤ 80 MiB | {held:.1f} MiB | 80 MiB | {verdict(held <= 80)} |")
    else:
        w("| RSS with 1,000 connections ≤ 80 MiB | n/a | 80 MiB | not measured |")
    before, after = mib(meta.get("rss_before_soak_kb")), mib(meta.get("rss_after_soak_kb"))
    soak_n = int(meta.get("soak_requests", "0") or 0)
    soak_target = int(meta.get("soak_target", "0") or 0)
    if before is not None and after is not None:
        grow = after - before
        ok = grow <= 5.0 and soak_n >= soak_target
        note = "" if soak_n >= soak_target else f" (only {soak_n:,} of {soak_target:,} requests ran)"
        w(f"| RSS after {soak_n:,} mixed requests: growth ≤ 5 MiB over the post-warm-up baseline | "
          f"{before:.1f} → {after:.1f} MiB ({grow:+.1f} MiB){note} | +5 MiB | {verdict(ok)} |")
    else:
        w("| RSS after 1M requests: no growth | n/a | +5 MiB | not measured |")
    w("")
    w(f"{met} met, {missed} missed. The \"1 KiB scenarios\" of the p99 target are save, load and mixed at 1 KiB "
      "(list, append and read-20 are compared with nginx 1 KiB in the ratio table, but their responses are not 1 KiB). "
      "\"No growth beyond noise\" means RSS after the long mixed run is at most 5 MiB above the RSS measured after the "
      "warm-up (all Redis-backend scenarios had run by then).")
    w("")

    # ---- memory
    w("## Memory (agentstate, Redis backend; VmRSS from /proc)")
    w("")
    w("| When | RSS |")
    w("|---|---:|")

    def row(label, key):
        v = mib(meta.get(key))
        if v is not None:
            w(f"| {label} | {v:.1f} MiB |")

    row("idle after start", "rss_idle_kb")
    row(f"holding {nconn} idle keep-alive connections "
        f"(`agentstate_http_connections_open` = {meta.get('conns_gauge', '?')})", "rss_conns_kb")
    row("after those connections closed", "rss_conns_closed_kb")
    row("after populating and running every Redis scenario (post-warm-up baseline)", "rss_before_soak_kb")
    row(f"after {soak_n:,} more mixed requests ({meta.get('soak_chunks', '?')} wrk runs of "
        f"{meta.get('soak_chunk_duration', '?')}, {meta.get('soak_errors', '?')} errors)", "rss_after_soak_kb")
    row("peak (VmHWM) over the Redis-backend run", "hwm_redis_kb")
    row("memory backend, after populating and running every scenario (it holds the data)", "rss_memory_end_kb")
    w("")
    trend = meta.get("soak_rss_trend_kb", "")
    if trend:
        w("RSS after each run of the long mixed load (MiB): " +
          ", ".join(f"{int(x) / MIB:.1f}" for x in trend.split(",") if x) + ".")
        w("")
    return "\n".join(L) + "\n"


def check(r, meta):
    problems = []
    for key, e in r.items():
        if e is None:
            problems.append(f"{key}: missing or unparsable")
        elif e.get("errors", 0) != 0:
            problems.append(f"{key}: {e['errors']} errors")
    for k in ("rss_idle_kb", "rss_conns_kb", "rss_before_soak_kb", "rss_after_soak_kb"):
        if not meta.get(k):
            problems.append(f"memory: {k} not measured")
    if meta.get("soak_errors", "0") != "0":
        problems.append(f"memory run: {meta.get('soak_errors')} errors")
    if int(meta.get("soak_requests", "0") or 0) < int(meta.get("soak_target", "1") or 1):
        problems.append("memory run: fewer requests than its target")
    return problems


def main(argv):
    if len(argv) >= 3 and argv[1] == "wrk":
        e = parse_wrk(read(argv[2]) or "")
        if e is None:
            print("0 -1")
            return 1
        print(e["requests"], e["errors"])
        return 0
    if len(argv) >= 3 and argv[1] == "line":
        text = read(argv[2]) or ""
        e = parse_wrk(text)
        if e is None:
            parsed = parse_redis_benchmark(text)
            if not parsed:
                print("no result")
                return 1
            print("; ".join(f"{k[:24]}: {fmt_rps(v['rps'])} req/s p50 {fmt_ms(v.get('p50_us'))} "
                            f"p99 {fmt_ms(v.get('p99_us'))}" for k, v in parsed.items()))
            return 0
        print(f"{fmt_rps(e['rps'])} req/s  p50 {fmt_ms(e['p50_us'])}  p99 {fmt_ms(e['p99_us'])}  "
              f"errors {e['errors']}  ({e['requests']:,} requests)")
        return 0
    if len(argv) >= 7 and argv[1] == "cpu":
        print(cpu_summary(argv[2], argv[3], read(argv[4]) or "", argv[5], int(argv[6])))
        return 0
    if len(argv) >= 3 and argv[1] == "cpu-other":
        vals = dict(x.split("=", 1) for x in argv[2].split() if "=" in x)
        wall = float(vals.get("wall", "0") or 0)
        print(int(round(100 * float(vals.get("other", "0")) / wall)) if wall > 0 else 0)
        return 0
    if len(argv) >= 3 and argv[1] == "rb-rps":
        parsed = parse_redis_benchmark(read(argv[2]) or "")
        if not parsed:
            return 1
        print(int(max(e["rps"] for e in parsed.values())))
        return 0
    if len(argv) >= 4 and argv[1] == "report":
        d, out = argv[2], argv[3]
        meta = read_meta(os.path.join(d, "meta.env"))
        r = load_results(d, meta)
        text = build_report(d, meta, r)
        with open(out, "w") as f:
            f.write(text)
        sys.stdout.write(text)
        problems = check(r, meta)
        if problems:
            print("\nproblems:\n  " + "\n  ".join(problems), file=sys.stderr)
            if "--check" in argv:
                return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
