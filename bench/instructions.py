#!/usr/bin/env python3
"""Helpers for bench/instructions: the request driver, the Redis anchor and the report.

    instructions.py populate PORT STATE_FILE SESSIONS   PUT sessions s-0.. (no TTL) and t-0.. (TTL 3600)
    instructions.py drive PORT SCENARIO COUNT STATE_FILE  COUNT keep-alive requests, one at a time
    instructions.py evalsha PORT COUNT                 COUNT EVALSHAs of SET+ZADD, one at a time
    instructions.py total CALLGRIND_FILE               the instruction total of one callgrind dump
    instructions.py report RESULTS_DIR                 the Markdown report of one run

Scenarios: get (GET /agents/a/sessions/s-<n>), put (PUT of the 1 KiB state on s-<n>, no TTL),
put-ttl (the same on t-<n>, whose TTL is 3600 s), nginx (GET /1k.json). Every request goes to
127.0.0.1, every loop has a fixed count, and every answer's status is checked.
"""
import os
import re
import socket
import sys
import time

from tools import resp_command as resp  # bench/tools.py: RESP encoding shared with bench/run

SESSIONS = 100  # requests cycle over this many sessions


def connect(port):
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Conn:
    """One keep-alive HTTP/1.1 connection that reads Content-Length framed answers."""

    def __init__(self, port):
        self.sock = connect(port)
        self.buf = b""

    def exchange(self, request, expect):
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        match = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        length = int(match.group(1)) if match else 0
        while len(rest) < length:
            self._fill()
            rest = self.buf.partition(b"\r\n\r\n")[2]
        self.buf = rest[length:]
        if status not in expect:
            raise SystemExit(f"instructions.py: {request[:60]!r}... answered {status}: {rest[:200]!r}")

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit("instructions.py: the server closed the connection")
        self.buf += chunk


def put_request(path, body):
    return (f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def requests_for(scenario, state):
    if scenario == "get":
        return [f"GET /agents/a/sessions/s-{n} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() for n in range(SESSIONS)], (200,)
    if scenario == "put":
        body = b'{"state":' + state + b"}"
        return [put_request(f"/agents/a/sessions/s-{n}", body) for n in range(SESSIONS)], (200,)
    if scenario == "put-ttl":
        body = b'{"state":' + state + b',"ttl_seconds":3600}'
        return [put_request(f"/agents/a/sessions/t-{n}", body) for n in range(SESSIONS)], (200,)
    if scenario == "nginx":
        return [b"GET /1k.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"], (200,)
    raise SystemExit(f"instructions.py: unknown scenario {scenario}")


def cmd_populate(port, state_file, sessions):
    state = open(state_file, "rb").read()
    conn = Conn(port)
    for n in range(sessions):
        conn.exchange(put_request(f"/agents/a/sessions/s-{n}", b'{"state":' + state + b',"ttl_seconds":null}'), (200, 201))
        conn.exchange(put_request(f"/agents/a/sessions/t-{n}", b'{"state":' + state + b',"ttl_seconds":3600}'), (200, 201))
    return 0


def cmd_drive(port, scenario, count, state_file):
    state = open(state_file, "rb").read()
    requests, expect = requests_for(scenario, state)
    conn = Conn(port)
    started = time.monotonic()
    for i in range(count):
        conn.exchange(requests[i % len(requests)], expect)
    print(f"{scenario}: {count} requests in {time.monotonic() - started:.1f}s")
    return 0


ANCHOR_SCRIPT = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('ZADD', KEYS[2], ARGV[2], KEYS[1]); return 1"


def cmd_evalsha(port, count):
    """The anchor of BENCHMARKS.md's redis-benchmark baseline: SET of 1 KiB + ZADD in one EVALSHA."""
    sock = connect(port)
    buf = b""

    def call(command):
        nonlocal buf
        sock.sendall(command)
        while b"\r\n" not in buf:
            buf += sock.recv(65536)
        line, _, buf = buf.partition(b"\r\n")
        if line[:1] == b"-":
            raise SystemExit(f"instructions.py: redis answered {line!r}")
        if line[:1] == b"$":
            length = int(line[1:])
            while len(buf) < length + 2:
                buf += sock.recv(65536)
            value, buf = buf[:length], buf[length + 2:]
            return value
        return line

    sha = call(resp("SCRIPT", "LOAD", ANCHOR_SCRIPT)).decode()
    value = b"x" * 1024
    requests = [resp("EVALSHA", sha, 2, f"anchor:{n}", "anchor:index", value, n) for n in range(SESSIONS)]
    for i in range(count):
        call(requests[i % len(requests)])
    return 0


def total(path):
    """The `totals:` (or `summary:`) line of a callgrind dump: instructions executed (Ir)."""
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise SystemExit(f"instructions.py: no totals line in {path}")


def cmd_report(res):
    meta = {}
    with open(os.path.join(res, "meta.env")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            meta[key] = value
    rows = []  # (name, process, dump, count)
    with open(os.path.join(res, "measures.tsv")) as f:
        for line in f:
            name, process, dump, count = line.rstrip("\n").split("\t")
            rows.append((name, process, dump, int(count)))
    out = []
    out.append(f"# Instructions per request, {meta.get('date', '?')} on {meta.get('host', '?')}")
    out.append("")
    out.append(f"bench/instructions ({meta.get('mode')}), commit {meta.get('commit')}, {meta.get('valgrind')}, "
               f"Swift {meta.get('swift')}, nginx {meta.get('nginx')}, redis-server {meta.get('redis')}.")
    out.append(f"N = {meta.get('n')} requests per measure after {meta.get('warm')} warm-up requests, one keep-alive "
               f"connection, one request at a time, agentstate at `--log-level {meta.get('log_level', 'warning')}`. Each figure is the instructions (callgrind Ir, user space, all threads) "
               "the process executed between `callgrind_control --zero` and `--dump`, divided by N.")
    out.append("")
    out.append("| Measure | Process | Instructions per request |")
    out.append("|---|---|---:|")
    for name, process, dump, count in rows:
        ir = total(os.path.join(res, dump))
        per = ir / count
        out.append(f"| {name} | {process} | {per / 1000:,.1f}K |")
        print(f"RESULT\t{name}\t{process}\t{per:.0f}", file=sys.stderr)
    out.append("")
    print("\n".join(out))
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "populate":
        return cmd_populate(args[0], args[1], int(args[2]))
    if cmd == "drive":
        return cmd_drive(args[0], args[1], int(args[2]), args[3])
    if cmd == "evalsha":
        return cmd_evalsha(args[0], int(args[1]))
    if cmd == "total":
        print(total(args[0]))
        return 0
    if cmd == "report":
        return cmd_report(args[0])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
