"""Runs every test against the real agentstate binary, once per backend.

``agentstate_server`` is parametrised over ``memory`` and ``redis``. For ``redis`` the fixture
starts its own ``redis-server`` on a free loopback port. Both processes are stopped by PID at the
end. The binary is ``$AGENTSTATE_BIN``, else ``<repo>/.build/debug/agentstate`` (what
``swift build --build-tests`` produces). A missing binary or redis-server fails the tests with
how to get it; nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary() -> str:
    path = os.environ.get("AGENTSTATE_BIN") or str(REPO / ".build" / "debug" / "agentstate")
    if not os.access(path, os.X_OK):
        pytest.fail(f"agentstate binary not found at {path}: run `swift build` in {REPO} or set AGENTSTATE_BIN")
    return path


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _wait_ready(url: str, proc: subprocess.Popen, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready within {seconds}s")


@dataclass
class Server:
    backend: str
    url: str
    redis_port: int | None = None


def _start_redis(tmp: str) -> tuple[subprocess.Popen, int]:
    redis = shutil.which("redis-server")
    if redis is None:
        pytest.fail("redis-server is not installed: apt-get install -y redis-server (scripts/test installs it)")
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return proc, port
            except OSError:
                time.sleep(0.05)
        _stop(proc)
    pytest.fail("could not start redis-server on a free loopback port")


def _start_agentstate(extra: list[str]) -> tuple[subprocess.Popen, str]:
    binary = _binary()
    last_error: Exception | None = None
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url + "/readyz", proc, "agentstate")
            return proc, url
        except RuntimeError as error:
            last_error = error
            _stop(proc)
    pytest.fail(f"could not start agentstate: {last_error}")


@pytest.fixture(scope="session", params=["memory", "redis"])
def agentstate_server(request: pytest.FixtureRequest):
    tmp = tempfile.mkdtemp(prefix="agentstate-py-")
    procs: list[subprocess.Popen] = []
    try:
        if request.param == "memory":
            proc, url = _start_agentstate(["--store", "memory", "--max-messages", "20000"])
            procs.append(proc)
            yield Server("memory", url)
        else:
            redis, rport = _start_redis(tmp)
            procs.append(redis)
            proc, url = _start_agentstate(["--redis-url", f"redis://127.0.0.1:{rport}", "--max-messages", "20000"])
            procs.insert(0, proc)
            yield Server("redis", url, rport)
    finally:
        for proc in procs:
            _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def base_url(agentstate_server: Server) -> str:
    return agentstate_server.url


@pytest.fixture
def agent_id() -> str:
    """A fresh agent per test, so tests never see each other's sessions."""
    return f"py-{uuid.uuid4().hex[:16]}"


@pytest.fixture(autouse=True)
def _sdk_session_target(base_url: str, agent_id: str):
    """Points sdk_support.make_session at this test's service and agent (adapted SDK tests).
    Every test runs once per backend, since each one uses the service."""
    import sdk_support

    sdk_support.CURRENT.update(base_url=base_url, agent_id=agent_id)
    yield
    sdk_support.CURRENT.clear()
