"""10,000 idle connections against a real agentstate at --max-connections 10000.

Opens 9,999 idle TCP connections plus one keep-alive client, checks that the client is still
answered and that /metrics counts all 10,000, that the next connection is closed at once, and that
closing one idle connection makes room again. Bounded: every wait has a deadline. Prints figures.
Usage: python3 scripts/idle_connections.py BINARY
"""
import os, re, signal, socket, subprocess, sys, time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def receive(sock):
    """Some bytes; ConnectionError when the server has closed the connection."""
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError("closed by the server")
    return chunk


def request(sock, path):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        data += receive(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))
    while len(body) < length and time.monotonic() < deadline:
        body += receive(sock)
    return int(head.split()[1]), body.decode()


def main():
    binary = sys.argv[1]
    limit = 10_000
    port = free_port()
    server = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", str(port), "--store", "memory",
                               "--max-connections", str(limit), "--log-level", "error"])
    idle = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                client = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                time.sleep(0.1)
        assert request(client, "/healthz")[0] == 200
        started = time.monotonic()
        for _ in range(limit - 1):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        opened = time.monotonic() - started
        # The server accepts asynchronously: wait (bounded) until it counts them all.
        deadline, open_count = time.monotonic() + 30, 0
        while time.monotonic() < deadline:
            status, metrics = request(client, "/metrics")
            assert status == 200
            open_count = int(float(re.search(r"^agentstate_http_connections_open (\S+)", metrics, re.M).group(1)))
            if open_count >= limit:
                break
            time.sleep(0.2)
        rss = float(re.search(r"^process_resident_memory_bytes (\S+)", metrics, re.M).group(1))
        print(f"opened {limit - 1} idle connections in {opened:.1f} s; connections_open {open_count}; RSS {rss / 2**20:.0f} MiB")
        assert open_count == limit, f"connections_open {open_count}, expected {limit}"
        # The next connection is closed at once, without a response.
        extra = socket.create_connection(("127.0.0.1", port), timeout=10)
        t0 = time.monotonic()
        try:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            got = extra.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            got = b""
        closed_after = time.monotonic() - t0
        print(f"connection {limit + 1}: closed after {closed_after * 1000:.1f} ms with {len(got)} bytes")
        assert got == b"", "the connection past the limit was answered"
        assert closed_after < 5
        # The client in the limit is still served; closing one idle connection makes room.
        assert request(client, "/healthz")[0] == 200
        idle.pop().close()
        # The server frees the slot once its event loop has seen that close: retry (bounded).
        deadline, served, attempts = time.monotonic() + 30, False, 0
        while time.monotonic() < deadline and not served:
            attempts += 1
            again = socket.create_connection(("127.0.0.1", port), timeout=10)
            try:
                served = request(again, "/healthz")[0] == 200
            except OSError:
                time.sleep(0.2)
            finally:
                again.close()
        print(f"after one idle connection closed: a new one was served on attempt {attempts}")
        assert served, "no room after an idle connection closed"
        print("idle connections: passed")
    finally:
        for s in idle:
            s.close()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
