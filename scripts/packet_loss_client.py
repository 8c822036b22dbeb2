"""Load and verification for scripts/fault-packet-loss (runs inside the test's network namespace).

Each of THREADS workers owns its sessions. It saves a state (PUT, retried until 2xx), then appends
one message with an Idempotency-Key (retried with the same key until 2xx), in a loop bounded by
SECONDS and a round cap. Afterwards, every session is read back: its state must be the last one
saved and its message count the number of appends. Any 500, or any status other than 200/201/503,
fails. Prints a JSON summary; exits 1 on any failure.
"""
import http.client
import json
import sys
import threading
import time

PORT = int(sys.argv[1])
SECONDS = float(sys.argv[2])
THREADS = 8
MAX_ROUNDS = 2000
RETRIES = 100  # per request, 50 ms apart (bounded)
AGENT = "lossy"

lock = threading.Lock()
counts = {}
failures = []
expected = {}  # session -> (state value, appends)


def request(conn_box, method, path, body=None, headers=None):
    """One request with the worker's keep-alive connection, reconnecting on socket errors."""
    for _ in range(RETRIES):
        try:
            if conn_box[0] is None:
                conn_box[0] = http.client.HTTPConnection("127.0.0.1", PORT, timeout=15)
            conn_box[0].request(method, path, body=body, headers=headers or {})
            response = conn_box[0].getresponse()
            data = response.read()
            with lock:
                counts[response.status] = counts.get(response.status, 0) + 1
            if response.status == 503:
                time.sleep(0.05)
                continue
            return response.status, data
        except (OSError, http.client.HTTPException):
            with lock:
                counts["socket_error"] = counts.get("socket_error", 0) + 1
            if conn_box[0] is not None:
                conn_box[0].close()
            conn_box[0] = None
            time.sleep(0.05)
    return None, b""


def worker(index, deadline):
    box = [None]
    rounds = 0
    while time.time() < deadline and rounds < MAX_ROUNDS:
        rounds += 1
        session = "w%d-%d" % (index, rounds % 50)
        value = "%d-%d" % (index, rounds)
        path = "/agents/%s/sessions/%s" % (AGENT, session)
        status, _ = request(box, "PUT", path, json.dumps({"state": {"v": value}}), {"Content-Type": "application/json"})
        if status not in (200, 201):
            with lock:
                failures.append("PUT %s -> %s" % (path, status))
            continue
        key = "k-%d-%d" % (index, rounds)
        status, _ = request(box, "POST", path + "/messages", json.dumps({"messages": [value]}),
                            {"Content-Type": "application/json", "Idempotency-Key": key})
        with lock:
            state, appends = expected.get(session, (None, 0))
            if status in (200, 201):
                expected[session] = (value, appends + 1)
            else:
                expected[session] = (value, appends)
                failures.append("POST %s -> %s" % (path, status))


def main():
    deadline = time.time() + SECONDS
    threads = [threading.Thread(target=worker, args=(i, deadline)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    box = [None]
    verified = 0
    for session, (value, appends) in sorted(expected.items()):
        status, body = request(box, "GET", "/agents/%s/sessions/%s" % (AGENT, session))
        if status != 200:
            failures.append("GET %s -> %s" % (session, status))
            continue
        resource = json.loads(body)
        if resource["state"] != {"v": value}:
            failures.append("%s: state %r, expected the last saved %r" % (session, resource["state"], value))
        # A PUT keeps the log; each acknowledged append (retried with one key) adds exactly one message.
        if resource["message_count"] != appends:
            failures.append("%s: %d messages, expected %d" % (session, resource["message_count"], appends))
        verified += 1
    summary = {"statuses": {str(k): v for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))},
               "sessions_verified": verified, "failures": failures[:10], "failure_count": len(failures)}
    print(json.dumps(summary))
    bad = counts.get(500, 0) or any(k not in (200, 201, 503, "socket_error") for k in counts)
    sys.exit(1 if failures or bad or verified == 0 else 0)


main()
