#!/usr/bin/env python3
"""Helpers for bench/run: test data, pre-population, sample checks and idle connections.

    tools.py data DIR                   write the JSON documents every run uses
    tools.py populate URL DIR ...       pre-populate agentstate (bounded, keep-alive)
    tools.py webdis-populate HOST PORT DIR KEYS   SET the webdis keys straight into Redis
    tools.py hold HOST PORT N READY_FILE SECONDS  open N keep-alive connections, one
                                        GET /healthz each, then hold them (bounded)

Everything here talks to 127.0.0.1 only and every loop has a fixed count.
"""
import http.client
import json
import os
import socket
import sys
import time

STATE_SIZES = (1024, 16384)
MESSAGES_PER_SESSION = 25  # the read scenario asks for the last 20
BIG_LOG = 10_000  # messages of agent `big`'s session `log`, read by the 10,000-message scenarios
REPLACE_LOG = 100  # messages in each body of the replace scenario


def state_document(size):
    """A JSON object of exactly `size` bytes that looks like an agent's working state."""
    head = '{"step":42,"status":"running","tool":"web_search","args":{"q":"swift epoll"},"notes":"'
    tail = '"}'
    words = "the agent keeps notes about what it has tried and what it will try next "
    pad_len = size - len(head) - len(tail)
    assert pad_len > 0
    pad = (words * (pad_len // len(words) + 1))[:pad_len]
    doc = head + pad + tail
    assert len(doc.encode()) == size
    json.loads(doc)
    return doc


def message_document(i):
    return json.dumps(
        {"role": "user", "content": f"message {i}: please summarise the previous tool output and plan the next step"},
        separators=(",", ":"),
    )


def cmd_data(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for size in STATE_SIZES:
        with open(os.path.join(out_dir, f"state-{size}.json"), "w") as f:
            f.write(state_document(size))
    with open(os.path.join(out_dir, "message.json"), "w") as f:
        f.write(message_document(0))
    with open(os.path.join(out_dir, "replace-100.json"), "w") as f:
        f.write('{"messages":[' + ",".join(message_document(i) for i in range(REPLACE_LOG)) + "]}")
    return 0


class Client:
    """One keep-alive connection; every call checks the status."""

    def __init__(self, url):
        assert url.startswith("http://127.0.0.1:"), url
        self.host, port = url[len("http://"):].rstrip("/").split(":")
        self.port = int(port)
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        self.count = 0

    def request(self, method, path, body=None, expect=(200, 201)):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        self.count += 1
        if resp.status not in expect:
            raise SystemExit(f"populate: {method} {path} -> {resp.status} {data[:200]!r}")
        return data


def cmd_populate(url, data_dir, agents, sessions, list_sessions, label_sessions):
    """Creates, for `agents` agents a0.. and `sessions` sessions each:
    s1k-<j> with a 1 KiB state, s16k-<j> with a 16 KiB state, m-<j> with 25 messages;
    agent `list` with `list_sessions` sessions of 1 KiB state; agent `labelled` with
    `label_sessions` small sessions, every tenth labelled `tier: gold`; and agent `big`'s session
    `log` with 10,000 messages."""
    states = {}
    for size in STATE_SIZES:
        with open(os.path.join(data_dir, f"state-{size}.json")) as f:
            states[size] = f.read()
    body1k = '{"state":' + states[1024] + "}"
    body16k = '{"state":' + states[16384] + "}"
    msgs = ",".join(message_document(i) for i in range(MESSAGES_PER_SESSION))
    body_msgs = '{"messages":[' + msgs + "]}"
    c = Client(url)
    started = time.monotonic()
    for a in range(agents):
        for j in range(sessions):
            c.request("PUT", f"/agents/a{a}/sessions/s1k-{j}", body1k)
            c.request("PUT", f"/agents/a{a}/sessions/s16k-{j}", body16k)
            c.request("POST", f"/agents/a{a}/sessions/m-{j}/messages", body_msgs)
    for j in range(list_sessions):
        c.request("PUT", f"/agents/list/sessions/l-{j}", body1k)
    for j in range(label_sessions):
        labels = ',"labels":{"tier":"gold"}' if j % 10 == 0 else ""
        c.request("PUT", f"/agents/labelled/sessions/t-{j}", '{"state":1' + labels + "}")
    for start in range(0, BIG_LOG, 1000):
        batch = ",".join(message_document(i) for i in range(start, min(BIG_LOG, start + 1000)))
        c.request("POST", "/agents/big/sessions/log/messages", '{"messages":[' + batch + "]}")

    # Sample checks: what the scenarios read is there, with the stated sizes.
    for size, sid in ((1024, "s1k-0"), (16384, "s16k-0")):
        doc = json.loads(c.request("GET", f"/agents/a0/sessions/{sid}", expect=(200,)))
        if doc.get("state_bytes") != size:
            raise SystemExit(f"populate: {sid} has state_bytes {doc.get('state_bytes')}, want {size}")
    page = json.loads(c.request("GET", "/agents/list/sessions?limit=50", expect=(200,)))
    if len(page["sessions"]) != 50 or not page["next_cursor"]:
        raise SystemExit("populate: the list page does not hold 50 sessions and a cursor")
    for query in ("limit=50", "limit=50&label=tier:gold"):
        page = json.loads(c.request("GET", f"/agents/labelled/sessions?{query}", expect=(200,)))
        if len(page["sessions"]) != 50 or not page["next_cursor"]:
            raise SystemExit(f"populate: the labelled agent's page ?{query} does not hold 50 sessions and a cursor")
    last = json.loads(c.request("GET", f"/agents/a{agents - 1}/sessions/m-{sessions - 1}/messages?limit=20", expect=(200,)))
    if len(last["messages"]) != 20:
        raise SystemExit("populate: the read-messages page does not hold 20 messages")
    before = json.loads(c.request("GET", f"/agents/big/sessions/log/messages?limit=20&before={BIG_LOG // 2}", expect=(200,)))
    if [m["seq"] for m in before["messages"]] != list(range(BIG_LOG // 2 - 20, BIG_LOG // 2)) or before["next_before"] is None:
        raise SystemExit("populate: the read-before page of agent big is not the 20 seqs below the cursor")
    print(f"populated {c.count} requests in {time.monotonic() - started:.1f}s "
          f"({agents}x{sessions} sessions of 1 KiB, of 16 KiB, with {MESSAGES_PER_SESSION} messages; "
          f"{list_sessions} sessions for the list; {label_sessions} for the label list; {BIG_LOG} messages in big/log)")
    return 0


def resp_command(*args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(f"${len(b)}\r\n".encode() + b + b"\r\n")
    return b"".join(out)


def cmd_webdis_populate(host, port, data_dir, keys):
    """SET wd1k:<n> to the 1 KiB document for n < keys, pipelined over one Redis connection."""
    assert host == "127.0.0.1"
    with open(os.path.join(data_dir, "state-1024.json"), "rb") as f:
        value = f.read()
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b"".join(resp_command("SET", f"wd1k:{n}", value) for n in range(keys)))
    want = b"+OK\r\n" * keys
    got = b""
    deadline = time.monotonic() + 10
    while len(got) < len(want) and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    if got != want:
        raise SystemExit(f"webdis-populate: unexpected Redis replies {got[:100]!r}")
    print(f"set {keys} webdis keys of {len(value)} bytes")
    return 0


def read_response(sock, deadline):
    """Reads one HTTP response with a Content-Length body; returns its status."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if time.monotonic() > deadline:
            raise TimeoutError("no response head")
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        if time.monotonic() > deadline:
            raise TimeoutError("no response body")
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response body")
        body += chunk
    return status


def cmd_hold(host, port, n, ready_file, seconds):
    assert host == "127.0.0.1"
    socks = []
    deadline = time.monotonic() + 60
    request = f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    for _ in range(n):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(request)
        status = read_response(s, deadline)
        if status != 200:
            raise SystemExit(f"hold: /healthz answered {status}")
        socks.append(s)
    with open(ready_file + ".part", "w") as f:
        f.write(f"{len(socks)}\n")
    os.rename(ready_file + ".part", ready_file)
    # Hold them, bounded; bench/run ends this process by its PID once it has read the RSS.
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.2)
    for s in socks:
        s.close()
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "data":
        return cmd_data(args[0])
    if cmd == "populate":
        return cmd_populate(args[0], args[1], int(args[2]), int(args[3]), int(args[4]), int(args[5]))
    if cmd == "webdis-populate":
        return cmd_webdis_populate(args[0], args[1], args[2], int(args[3]))
    if cmd == "hold":
        return cmd_hold(args[0], args[1], int(args[2]), args[3], float(args[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
