#!/usr/bin/env python3
"""agentstate behind a real nginx load balancer (run by scripts/test-load-balancer).

Starts, on 127.0.0.1 and free ports: one redis-server, two agentstate replicas (A, B) sharing it,
and nginx in front of them (upstream keepalive, proxy_http_version 1.1, Connection ""). Then:

  1. end-to-end requests through the load balancer (every route family, read-your-writes across
     replicas, ETag preconditions, idempotent appends, problem+json errors, upstream keep-alive),
     and schemathesis (openapi.yaml, --checks all) through it;
  2. concurrent If-Match writers spread over both replicas: exactly one winner per round;
  3. a rolling restart under a bounded load loop (at most LOAD_SECONDS of load): SIGTERM A (with a
     request in flight on A, which must complete), start A again, then the same for B. The load
     must see 0 failed requests other than the expected 412s and 0 connection errors, and every
     replica must exit 0. Afterwards every session's message count equals the appends that were
     acknowledged (nothing lost, nothing doubled).

Everything it starts is stopped by PID; every loop is bounded in count and time.
With a schemathesis executable as the second argument, step 1 also runs schemathesis through nginx.

Usage: load_balancer_test.py AGENTSTATE_BINARY [SCHEMATHESIS]
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

LOAD_SECONDS = 60          # hard cap on the load loop
MAX_REQUESTS = 200_000     # hard cap on requests in the load loop
WORKERS = 6
HOST = "127.0.0.1"
JSON = {"Content-Type": "application/json"}


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def eventually(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise Failure(f"{what} did not happen within {seconds} s")


def request(conn, method, path, body=None, headers=None):
    """One request on a keep-alive connection; returns (status, headers dict, body bytes)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    all_headers = dict(JSON) if data is not None else {}
    all_headers.update(headers or {})
    conn.request(method, path, body=data, headers=all_headers)
    response = conn.getresponse()
    payload = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def status_ok(url_port, path):
    try:
        conn = http.client.HTTPConnection(HOST, url_port, timeout=2)
        status, _, _ = request(conn, "GET", path)
        conn.close()
        return status == 200
    except OSError:
        return False


class Cluster:
    def __init__(self, binary, work):
        self.binary = binary
        self.work = work
        self.redis_port = free_port()
        self.ports = {"A": free_port(), "B": free_port()}
        self.lb_port = free_port()
        self.procs = {}
        self.logs = []

    def spawn(self, name, argv):
        log = open(os.path.join(self.work, f"{name}.log"), "ab")
        self.logs.append(log)
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs[name] = proc
        return proc

    def start_redis(self):
        self.spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", HOST, "--save", "",
                             "--appendonly", "no", "--daemonize", "no", "--dir", self.work])
        eventually(lambda: self._redis_ping(), 20, "redis-server answering PING")

    def _redis_ping(self):
        with socket.create_connection((HOST, self.redis_port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def start_replica(self, name):
        port = self.ports[name]
        self.spawn(name, [self.binary, "--host", HOST, "--port", str(port),
                          "--redis-url", f"redis://{HOST}:{self.redis_port}",
                          "--shutdown-grace", "10", "--log-level", "warning"])
        started = time.monotonic()
        eventually(lambda: status_ok(port, "/readyz"), 30, f"replica {name} /readyz 200")
        return time.monotonic() - started

    def stop_replica(self, name, timeout=20):
        """SIGTERM; returns (exit code, seconds until exit)."""
        proc = self.procs.pop(name)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=timeout)
        return code, time.monotonic() - started

    def start_nginx(self):
        ndir = os.path.join(self.work, "nginx")
        os.makedirs(ndir, exist_ok=True)
        a, b = self.ports["A"], self.ports["B"]
        conf = f"""
worker_processes 1;
pid {ndir}/nginx.pid;
error_log {ndir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {ndir}/client_body;
  proxy_temp_path {ndir}/proxy;
  fastcgi_temp_path {ndir}/fastcgi;
  uwsgi_temp_path {ndir}/uwsgi;
  scgi_temp_path {ndir}/scgi;
  client_body_buffer_size 1m;
  client_max_body_size 2m;
  upstream agentstate {{
    server {HOST}:{a} max_fails=1 fail_timeout=2s;
    server {HOST}:{b} max_fails=1 fail_timeout=2s;
    keepalive 16;
    keepalive_timeout 60s;
  }}
  server {{
    listen {HOST}:{self.lb_port};
    location / {{
      proxy_pass http://agentstate;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 1s;
      proxy_read_timeout 15s;
      # A replica that refuses the connection (stopped) or closes it while draining is skipped.
      # non_idempotent: POSTs are retried too; the load's appends carry an Idempotency-Key,
      # so a retry can never append twice.
      proxy_next_upstream error timeout http_502 http_504 non_idempotent;
      proxy_next_upstream_tries 2;
      proxy_next_upstream_timeout 5s;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""
        path = os.path.join(ndir, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        test = subprocess.run(["nginx", "-t", "-p", ndir, "-c", path], capture_output=True, text=True)
        check(test.returncode == 0, f"nginx -t failed: {test.stderr}")
        self.spawn("nginx", ["nginx", "-p", ndir, "-c", path, "-g", "daemon off;"])
        eventually(lambda: status_ok(self.lb_port, "/healthz"), 20, "nginx proxying /healthz")

    def lb(self, timeout=20):
        return http.client.HTTPConnection(HOST, self.lb_port, timeout=timeout)

    def upstream_name(self, headers):
        """Which replica answered (the last address nginx tried)."""
        addr = headers.get("x-upstream", "").split(",")[-1].strip()
        for name, port in self.ports.items():
            if addr == f"{HOST}:{port}":
                return name
        return addr or "?"

    def stop_all(self):
        for name, proc in list(self.procs.items()):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if name != "nginx" else signal.SIGQUIT)
        for name, proc in list(self.procs.items()):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()


# --- 1. end-to-end through the load balancer ------------------------------------------------

def end_to_end(cluster):
    conn = cluster.lb()
    seen = set()
    for path in ["/healthz", "/readyz"] * 3:
        status, headers, body = request(conn, "GET", path)
        check(status == 200, f"{path} through nginx: {status} {body!r}")
        seen.add(cluster.upstream_name(headers))
    check(seen == {"A", "B"}, f"round robin should reach both replicas, saw {seen}")

    base = "/agents/lb-e2e/sessions/s1"
    status, headers, body = request(conn, "PUT", base, {"state": {"step": 1, "big": 9007199254740993}})
    check(status == 201 and headers.get("etag") == '"1"', f"create: {status} {headers.get('etag')} {body!r}")
    writer = cluster.upstream_name(headers)
    readers = set()
    for _ in range(6):
        status, headers, body = request(conn, "GET", base)
        check(status == 200, f"load: {status} {body!r}")
        check(b"9007199254740993" in body, f"state must round-trip byte for byte: {body!r}")
        readers.add(cluster.upstream_name(headers))
    check(readers == {"A", "B"} and writer in readers,
          f"a write through {writer} must be readable on both replicas, read from {readers}")

    status, headers, body = request(conn, "GET", base, headers={"If-None-Match": '"1"'})
    check(status == 304, f"If-None-Match current: {status}")
    status, headers, body = request(conn, "PUT", base, {"state": {"step": 2}}, {"If-Match": '"1"'})
    check(status == 200 and headers.get("etag") == '"2"', f"conditional save: {status} {body!r}")
    status, headers, body = request(conn, "PUT", base, {"state": {"step": 3}}, {"If-Match": '"1"'})
    check(status == 412 and headers.get("content-type", "").startswith("application/problem+json"),
          f"stale If-Match: {status} {headers.get('content-type')}")
    problem = json.loads(body)
    check(problem.get("code") == "precondition_failed" and problem.get("current_version") == 2,
          f"412 problem: {problem}")

    append = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    answers = []
    for _ in range(2):  # consecutive requests go to different replicas (round robin)
        status, headers, body = request(conn, "POST", base + "/messages", append, {"Idempotency-Key": "turn-1"})
        check(status in (200, 201), f"append: {status} {body!r}")
        answers.append((json.loads(body), cluster.upstream_name(headers)))
    check(answers[0][0] == answers[1][0], f"an idempotent retry must answer the same: {answers}")
    status, _, body = request(conn, "GET", base + "/messages?limit=20")
    messages = json.loads(body).get("messages", [])
    check(status == 200 and len(messages) == 2, f"the retry must append nothing: {status} {body!r}")

    status, _, body = request(conn, "GET", "/agents/lb-e2e/sessions?limit=10")
    ids = [s.get("session_id") for s in json.loads(body).get("sessions", [])]
    check(status == 200 and ids == ["s1"], f"list: {status} {ids}")

    status, headers, body = request(conn, "PUT", base, b'{"state":', JSON)
    check(status == 400 and json.loads(body).get("code") == "invalid_json", f"bad JSON: {status} {body!r}")

    status, _, _ = request(conn, "DELETE", base)
    check(status == 204, f"delete: {status}")
    for _ in range(2):
        status, headers, body = request(conn, "GET", base)
        check(status == 404 and json.loads(body).get("code") == "not_found",
              f"deleted session on {cluster.upstream_name(headers)}: {status} {body!r}")

    # Upstream keep-alive: 100 sequential requests must reuse a few connections, not open 100.
    for _ in range(100):
        status, _, _ = request(conn, "GET", "/healthz")
        check(status == 200, f"healthz: {status}")
    conn.close()
    established = upstream_connections(cluster)
    check(1 <= established <= 8,
          f"nginx should hold 1..8 keep-alive connections to the replicas, found {established}")
    print(f"  end-to-end through nginx: ok (both replicas served reads of one write; "
          f"{established} upstream keep-alive connections after 120 requests)")


def upstream_connections(cluster):
    ports = " or ".join(f"dport = :{p}" for p in cluster.ports.values())
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( {ports} )"],
                         capture_output=True, text=True, check=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


def schemathesis_through_lb(cluster, exe):
    """The contract suite (schemathesis, as in scripts/schemathesis) against nginx, Redis backend."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, SCHEMATHESIS_HOOKS="scripts/schemathesis_hooks.py")
    started = time.monotonic()
    # unsupported_method is left out here (scripts/schemathesis checks it against agentstate directly):
    # nginx itself answers TRACE with an HTML 405 without an Allow header, before any upstream sees it.
    run = subprocess.run([exe, "run", "openapi.yaml", "--url", f"http://{HOST}:{cluster.lb_port}", "--checks", "all",
                          "--exclude-checks", "unsupported_method",
                          "--max-examples", os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"), "--seed", "1",
                          "--no-color"], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        print(run.stdout[-6000:], file=sys.stderr)
    check(run.returncode == 0, f"schemathesis through nginx exited {run.returncode}")
    summary = [line.strip() for line in run.stdout.splitlines() if " generated" in line][-1:]
    print(f"  schemathesis through nginx (--checks all): passed in {time.monotonic() - started:.0f} s ({''.join(summary)})")


# --- 2. concurrent If-Match writers ---------------------------------------------------------

def concurrent_writers(cluster, rounds=5, writers=12):
    base = "/agents/lb-race/sessions/contended"
    conn = cluster.lb()
    status, headers, _ = request(conn, "PUT", base, {"state": {"writer": -1}})
    check(status == 201, f"create contended: {status}")
    version = int(headers["etag"].strip('"'))
    replicas = set()
    for r in range(rounds):
        barrier = threading.Barrier(writers)
        results = [None] * writers
        conns = [cluster.lb() for _ in range(writers)]
        for c in conns:  # connect (and warm nginx's upstream pool) before the race
            request(c, "GET", "/healthz")

        def write(i):
            barrier.wait(timeout=10)
            try:
                s, h, b = request(conns[i], "PUT", base, {"state": {"writer": i, "round": r}},
                                  {"If-Match": f'"{version}"'})
                results[i] = (s, cluster.upstream_name(h), b)
            except OSError as e:
                results[i] = ("error", str(e), b"")

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        for c in conns:
            c.close()
        statuses = [res[0] for res in results]
        winners = [i for i, res in enumerate(results) if res[0] == 200]
        check(len(winners) == 1 and statuses.count(412) == writers - 1,
              f"round {r}: exactly one 200 and {writers - 1} 412s expected, got {statuses}")
        replicas.update(res[1] for res in results)
        status, headers, body = request(conn, "GET", base)
        state = json.loads(body)["state"]
        check(state == {"writer": winners[0], "round": r} and headers["etag"] == f'"{version + 1}"',
              f"round {r}: stored state {state} {headers.get('etag')} must be the winner's ({winners[0]})")
        version += 1
    conn.close()
    check(replicas == {"A", "B"}, f"the writers should be spread over both replicas, saw {replicas}")
    print(f"  concurrent If-Match writers: {rounds} rounds x {writers} writers over replicas {sorted(replicas)}: "
          f"exactly one winner each round")


# --- 3. rolling restart under load ----------------------------------------------------------

class Load:
    def __init__(self, cluster):
        self.cluster = cluster
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses = {}
        self.unexpected = []
        self.connection_errors = []
        self.latencies = []
        self.by_replica = {}
        self.appended = {}   # worker -> messages acknowledged
        self.requests = 0
        self.retried = 0     # answers for which nginx tried a second replica
        self.deadline = time.monotonic() + LOAD_SECONDS

    def record(self, status, expected, latency, replica, retried, what):
        with self.lock:
            self.requests += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.latencies.append(latency)
            self.by_replica[replica] = self.by_replica.get(replica, 0) + 1
            self.retried += 1 if retried else 0
            if status not in expected:
                self.unexpected.append(f"{what}: {status}")

    def running(self):
        return not self.stop.is_set() and time.monotonic() < self.deadline and self.requests < MAX_REQUESTS

    def call(self, conn, what, expected, method, path, body=None, headers=None):
        started = time.monotonic()
        try:
            status, h, payload = request(conn, method, path, body, headers)
        except (OSError, http.client.HTTPException) as e:
            with self.lock:
                self.requests += 1
                self.connection_errors.append(f"{what}: {type(e).__name__}: {e}")
            conn.close()
            return None, {}, b""
        self.record(status, expected, time.monotonic() - started, self.cluster.upstream_name(h),
                    "," in h.get("x-upstream", ""), what)
        return status, h, payload

    def worker(self, i):
        conn = self.cluster.lb(timeout=20)
        base = f"/agents/lb-load/sessions/w{i}"
        shared = "/agents/lb-load/sessions/shared"
        acked = 0
        n = 0
        while self.running():
            n += 1
            self.call(conn, "save", {200, 201}, "PUT", base, {"state": {"n": n}})
            status, h, _ = self.call(conn, "load", {200}, "GET", base)
            if status == 200:
                self.call(conn, "conditional save", {200}, "PUT", base, {"state": {"n": n, "c": True}},
                          {"If-Match": h["etag"]})
            status, _, _ = self.call(conn, "append", {200, 201}, "POST", base + "/messages",
                                     {"messages": [{"n": n}]}, {"Idempotency-Key": f"w{i}-{n}"})
            if status in (200, 201):
                acked += 1
            self.call(conn, "read messages", {200}, "GET", base + "/messages?limit=5")
            # A contended session: other workers move its version, so 412 is expected here.
            status, h, _ = self.call(conn, "shared load", {200}, "GET", shared)
            if status == 200:
                self.call(conn, "shared conditional save", {200, 412}, "PUT", shared,
                          {"state": {"by": i, "n": n}}, {"If-Match": h["etag"]})
        conn.close()
        with self.lock:
            self.appended[i] = acked


def in_flight_request_survives_sigterm(cluster, name):
    """A PUT whose headers and half of its body reach replica `name` before SIGTERM must complete."""
    body = json.dumps({"state": {"blob": "x" * 200_000}}).encode()
    sock = socket.create_connection((HOST, cluster.ports[name]), timeout=15)
    head = (f"PUT /agents/lb-load/sessions/inflight-{name} HTTP/1.1\r\nHost: {HOST}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    sock.sendall(head + body[: len(body) // 2])
    return sock, body[len(body) // 2:]


def finish_in_flight(sock, rest):
    time.sleep(0.3)
    sock.sendall(rest)
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(65536)
        if not chunk:
            break
        response += chunk
    sock.close()
    return response.split(b"\r\n", 1)[0].decode(errors="replace")


def rolling_restart(cluster):
    conn = cluster.lb()
    request(conn, "PUT", "/agents/lb-load/sessions/shared", {"state": {"by": -1}})
    conn.close()
    load = Load(cluster)
    threads = [threading.Thread(target=load.worker, args=(i,), daemon=True) for i in range(WORKERS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    events = []
    try:
        time.sleep(3)
        for name in ("A", "B"):
            before = load.requests
            sock, rest = in_flight_request_survives_sigterm(cluster, name)
            proc = cluster.procs[name]
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            status_line = finish_in_flight(sock, rest)
            code = proc.wait(timeout=20)
            exit_seconds = time.monotonic() - t0
            cluster.procs.pop(name)
            check(code == 0, f"replica {name} exited {code} after SIGTERM (expected 0)")
            check(status_line.startswith("HTTP/1.1 20"),
                  f"the request in flight on {name} at SIGTERM must complete, got {status_line!r}")
            time.sleep(1)  # load runs on the other replica alone
            ready = cluster.start_replica(name)
            events.append(f"{name}: SIGTERM -> exit {code} in {exit_seconds:.2f} s (in-flight PUT: {status_line}); "
                          f"restarted, ready in {ready:.2f} s")
            time.sleep(3)  # nginx re-admits it after fail_timeout; load spreads again
            check(load.requests > before, "the load loop made no progress during the restart")
        time.sleep(2)
    finally:
        load.stop.set()
        for t in threads:
            t.join(timeout=30)
    elapsed = time.monotonic() - started
    check(elapsed <= LOAD_SECONDS + 35, f"the load phase took {elapsed:.0f} s")

    # Nothing lost, nothing doubled: each worker's log holds exactly the acknowledged appends. The log is
    # read in pages (`after`), since a worker can append more than one page in the load window.
    conn = cluster.lb()
    for i, acked in sorted(load.appended.items()):
        seqs, after = [], 0
        for _ in range(1000):  # bounded: 1,000 pages of 1,000
            status, _, body = request(conn, "GET", f"/agents/lb-load/sessions/w{i}/messages?limit=1000&after={after}")
            check(status == 200, f"worker {i}: reading its log answered {status}")
            page = json.loads(body)
            seqs += [m["seq"] for m in page["messages"]]
            if page["next_after"] is None:
                break
            after = page["next_after"]
        check(len(seqs) == len(set(seqs)), f"worker {i}: a seq is listed twice")
        check(len(seqs) == acked, f"worker {i}: {acked} appends acknowledged, {len(seqs)} stored")
    conn.close()

    lat = sorted(load.latencies)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0.0
    print("  rolling restart under load:")
    for e in events:
        print(f"    {e}")
    print(f"    {load.requests} requests in {elapsed:.1f} s ({load.requests / elapsed:.0f}/s) from {WORKERS} "
          f"keep-alive clients; statuses {dict(sorted(load.statuses.items()))}; by replica "
          f"{dict(sorted(load.by_replica.items()))}")
    print(f"    latency p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {p(1.0):.1f} ms; "
          f"expected 412s: {load.statuses.get(412, 0)}; unexpected statuses: {len(load.unexpected)}; "
          f"connection errors: {len(load.connection_errors)}; answered after an nginx retry on the "
          f"other replica: {load.retried}")
    check(len(load.appended) == WORKERS, "a load worker did not finish")
    check(not load.unexpected, f"unexpected statuses: {load.unexpected[:10]}")
    check(not load.connection_errors, f"connection errors: {load.connection_errors[:10]}")
    check(set(load.by_replica) == {"A", "B"}, f"both replicas should serve the load: {load.by_replica}")


def main():
    binary = sys.argv[1]
    # `timeout` (scripts/test-load-balancer) sends SIGTERM: unwind, so that `finally` stops everything.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    work = tempfile.mkdtemp(prefix="agentstate-lb-")
    os.chmod(work, 0o755)  # nginx workers may run as another user
    cluster = Cluster(binary, work)
    try:
        cluster.start_redis()
        cluster.start_replica("A")
        cluster.start_replica("B")
        cluster.start_nginx()
        print(f"== load balancer: nginx :{cluster.lb_port} -> A :{cluster.ports['A']}, B :{cluster.ports['B']}"
              f" -> redis :{cluster.redis_port}")
        end_to_end(cluster)
        if len(sys.argv) > 2:
            schemathesis_through_lb(cluster, sys.argv[2])
        concurrent_writers(cluster)
        rolling_restart(cluster)
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        for name in ("A", "B", "nginx/error"):
            path = os.path.join(work, f"{name}.log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    tail = f.read()[-2000:]
                print(f"--- {name}.log (tail)\n{tail}", file=sys.stderr)
        return 1
    finally:
        cluster.stop_all()
        subprocess.run(["rm", "-rf", work])
    print("load balancer checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
