"""agentstate.Client and AsyncClient: every v1 route and its errors, against the real binary."""

from __future__ import annotations

import json
import subprocess
import tempfile

import httpx
import pytest

import agentstate
from agentstate import AgentStateError, AsyncClient, Client

from conftest import _start_agentstate, _start_redis, _stop, free_port


@pytest.fixture
def client(base_url: str):
    with Client(base_url) as c:
        yield c


def _error(fn, *args, **kwargs) -> AgentStateError:
    with pytest.raises(AgentStateError) as info:
        fn(*args, **kwargs)
    return info.value


# -- sessions -------------------------------------------------------------------------------


def test_save_creates_then_replaces_and_round_trips_state(client: Client, agent_id: str) -> None:
    state = {"step": 1, "big": 9007199254740993, "huge": 12345678901234567890, "f": 0.1, "s": "héllo"}
    created = client.save_session(agent_id, "s1", state, ttl_seconds=3600, sliding_ttl=True)
    assert created.created is True and created.version == 1
    assert created.ttl_seconds == 3600 and created.sliding_ttl is True and created.expires_at is not None
    assert created.state_bytes == len(agentstate._client.dumps(state).encode())
    replaced = client.save_session(agent_id, "s1", {"step": 2})
    assert replaced.created is False and replaced.version == 2
    assert replaced.ttl_seconds == 3600  # left out: the session keeps its policy
    loaded = client.get_session(agent_id, "s1")
    assert isinstance(loaded, agentstate.Session)
    assert loaded.state == {"step": 2} and loaded.version == 2
    client.save_session(agent_id, "s1", state, ttl_seconds=None)
    loaded = client.get_session(agent_id, "s1")
    assert loaded.state == state and loaded.ttl_seconds is None and loaded.expires_at is None


def test_get_not_modified_head_and_missing(client: Client, agent_id: str) -> None:
    client.save_session(agent_id, "s", [1, 2])
    assert client.get_session(agent_id, "s", if_none_match=1) is None
    assert client.get_session(agent_id, "s", if_none_match=2).state == [1, 2]
    assert client.head_session(agent_id, "s") == 1
    err = _error(client.get_session, agent_id, "missing")
    assert (err.status, err.code) == (404, "not_found")
    assert err.request_id and err.problem["request_id"] == err.request_id
    err = _error(client.head_session, agent_id, "missing")
    assert err.status == 404 and err.code is None  # HEAD answers carry no body


def test_preconditions_on_save_and_delete(client: Client, agent_id: str) -> None:
    client.save_session(agent_id, "s", {"v": 1})
    err = _error(client.save_session, agent_id, "s", {}, if_none_match="*")
    assert (err.status, err.code, err.current_version) == (412, "precondition_failed", 1)
    assert client.save_session(agent_id, "s", {"v": 2}, if_match=1).version == 2
    err = _error(client.save_session, agent_id, "s", {"v": 3}, if_match=1)
    assert (err.status, err.current_version) == (412, 2)
    err = _error(client.delete_session, agent_id, "s", if_match=7)
    assert (err.status, err.current_version) == (412, 2)
    client.delete_session(agent_id, "s", if_match=2)
    err = _error(client.delete_session, agent_id, "s")
    assert (err.status, err.code) == (404, "not_found")
    err = _error(client.save_session, agent_id, "new", {}, if_match=1)
    assert err.status == 412 and err.current_version is None


def test_list_pages_and_delete_all(client: Client, agent_id: str) -> None:
    for i in range(5):
        client.save_session(agent_id, f"s{i}", i)
    # Newest first, ties (saves within one millisecond) by session ID descending (DESIGN §7): the
    # expected order comes from the server's own updated_at, so the test does not depend on the clock's speed.
    everything = client.list_sessions(agent_id).sessions
    expected = [s.session_id for s in sorted(everything, key=lambda s: (s.updated_at, s.session_id), reverse=True)]
    assert sorted(expected) == ["s0", "s1", "s2", "s3", "s4"] and [s.session_id for s in everything] == expected
    first = client.list_sessions(agent_id, limit=2)
    assert [s.session_id for s in first.sessions] == expected[:2] and first.next_cursor
    assert all(isinstance(s, agentstate.SessionSummary) and not hasattr(s, "state") for s in first.sessions)
    second = client.list_sessions(agent_id, limit=2, cursor=first.next_cursor)
    assert [s.session_id for s in second.sessions] == expected[2:4]
    assert [s.session_id for s in client.iter_sessions(agent_id, page_size=2)] == expected
    err = _error(client.list_sessions, agent_id, cursor="not-a-cursor")
    assert (err.status, err.code) == (400, "invalid_request")
    err = _error(client.list_sessions, agent_id, limit=1001)
    assert (err.status, err.code) == (400, "invalid_request")
    assert client.delete_all_sessions(agent_id) == 5
    assert client.list_sessions(agent_id).sessions == []
    assert client.delete_all_sessions(agent_id) == 0


def test_invalid_ids(client: Client, agent_id: str) -> None:
    for bad in ["has space", "-leading", "a/b", "x" * 129, "ü"]:
        err = _error(client.get_session, agent_id, bad)
        assert (err.status, err.code) == (400, "invalid_id"), bad
    err = _error(client.list_sessions, "bad agent")
    assert err.code == "invalid_id"


# -- messages -------------------------------------------------------------------------------


def test_append_read_pop_clear(client: Client, agent_id: str) -> None:
    r = client.append_messages(agent_id, "m", [{"role": "user", "content": "hi"}, 2, 3], ttl_seconds=600)
    assert (r.version, r.first_seq, r.last_seq, r.message_count) == (1, 1, 3, 3)
    assert client.get_session(agent_id, "m").state is None  # the append created it
    page = client.read_messages(agent_id, "m")
    assert [m.seq for m in page.messages] == [1, 2, 3] and page.next_after is None
    assert page.messages[0].data == {"role": "user", "content": "hi"}
    assert [m.data for m in client.read_messages(agent_id, "m", limit=2).messages] == [2, 3]
    page = client.read_messages(agent_id, "m", after=0, limit=2)
    assert [m.seq for m in page.messages] == [1, 2] and page.next_after == 2
    assert [m.seq for m in client.iter_messages(agent_id, "m", page_size=1)] == [1, 2, 3]
    popped = client.pop_message(agent_id, "m")
    assert (popped.seq, popped.data) == (3, 3)
    assert client.clear_messages(agent_id, "m") == 3
    assert client.read_messages(agent_id, "m").messages == []
    err = _error(client.pop_message, agent_id, "m")
    assert (err.status, err.code) == (404, "not_found")
    assert client.append_messages(agent_id, "m", ["x"]).first_seq == 4  # seqs are never reused


def test_message_errors(client: Client, agent_id: str) -> None:
    err = _error(client.read_messages, agent_id, "missing")
    assert (err.status, err.code) == (404, "not_found")
    err = _error(client.append_messages, agent_id, "m", [])
    assert (err.status, err.code) == (400, "invalid_request")
    client.append_messages(agent_id, "m", [1])
    for kwargs in ({"limit": 0}, {"limit": 1001}, {"after": -1}):
        err = _error(client.read_messages, agent_id, "m", **kwargs)
        assert (err.status, err.code) == (400, "invalid_request"), kwargs
    err = _error(client.append_messages, agent_id, "m", [2], if_match=5)
    assert (err.status, err.current_version) == (412, 1)
    err = _error(client.pop_message, agent_id, "m", if_match=5)
    assert err.status == 412
    err = _error(client.clear_messages, agent_id, "m", if_match=5)
    assert err.status == 412
    err = _error(client.append_messages, agent_id, "m", [1], ttl_seconds=0)
    assert (err.status, err.code) == (400, "invalid_request")
    err = _error(client.append_messages, agent_id, "m", [1], idempotency_key="has space")
    assert (err.status, err.code) == (400, "invalid_request")
    err = _error(client.append_messages, agent_id, "m", ["x" * (1 << 20)])
    assert (err.status, err.code) == (413, "payload_too_large")
    with pytest.raises(TypeError):
        client.append_messages(agent_id, "m", [object()])
    assert client.read_messages(agent_id, "m").messages == [agentstate.Message(1, 1)]


def test_idempotent_append(client: Client, agent_id: str) -> None:
    first = client.append_messages(agent_id, "i", ["a", "b"], idempotency_key="turn-1")
    again = client.append_messages(agent_id, "i", ["a", "b"], idempotency_key="turn-1")
    assert again == first
    assert [m.data for m in client.read_messages(agent_id, "i").messages] == ["a", "b"]
    err = _error(client.append_messages, agent_id, "i", ["c"], idempotency_key="turn-1")
    assert (err.status, err.code) == (422, "idempotency_key_reused")


def test_message_cap(client: Client, agent_id: str) -> None:
    # The fixture runs the server with --max-messages 20000.
    for _ in range(20):
        client.append_messages(agent_id, "cap", [0] * 1000)
    err = _error(client.append_messages, agent_id, "cap", [1])
    assert (err.status, err.code) == (409, "too_many_messages")
    assert client.get_session(agent_id, "cap").message_count == 20000


# -- operations, auth header, retries -------------------------------------------------------


def test_operations_routes(client: Client) -> None:
    assert client.healthz() == {"status": "ok"}
    assert client.readyz() == {"status": "ready"}
    assert "agentstate_http_requests_total" in client.metrics()
    assert client.openapi().startswith("openapi: 3.1.0")


def test_token_is_sent_as_bearer(base_url: str, agent_id: str) -> None:
    seen: list[str | None] = []
    hooks = {"request": [lambda request: seen.append(request.headers.get("authorization"))]}
    with Client(base_url, token="s3cret", event_hooks=hooks) as c:
        c.save_session(agent_id, "s", 1)
    assert seen == ["Bearer s3cret"]


def test_connection_errors_before_send_are_retried_then_raised() -> None:
    attempts: list[str] = []
    hooks = {"request": [lambda request: attempts.append(request.method)]}
    with Client(f"http://127.0.0.1:{free_port()}", retries=2, backoff=0.001, event_hooks=hooks) as c:
        err = _error(c.pop_message, "a", "s")
    assert err.status is None and err.code == "connection_error"
    assert isinstance(err.__cause__, httpx.ConnectError)
    assert attempts == ["DELETE"] * 3


def test_503_is_retried_only_with_idempotency_key_or_if_match() -> None:
    tmp = tempfile.mkdtemp()
    redis, port = _start_redis(tmp)
    server, url = _start_agentstate(["--redis-url", f"redis://127.0.0.1:{port}"])
    try:
        with Client(url) as c:
            c.append_messages("a", "s", [1])
        _stop(redis)
        attempts: list[str] = []
        hooks = {"request": [lambda request: attempts.append(request.headers.get("idempotency-key", "-"))]}
        with Client(url, retries=2, backoff=0.001, event_hooks=hooks, timeout=30) as c:
            err = _error(c.append_messages, "a", "s", [2], idempotency_key="k1")
            assert (err.status, err.code) == (503, "backend_unavailable")
            assert attempts == ["k1", "k1", "k1"]  # the retries reuse the key
            attempts.clear()
            err = _error(c.append_messages, "a", "s", [2])
            assert err.status == 503 and attempts == ["-"]
            attempts.clear()
            err = _error(c.pop_message, "a", "s")
            assert err.status == 503 and attempts == ["-"]
            attempts.clear()
            err = _error(c.pop_message, "a", "s", if_match=1)
            assert err.status == 503 and len(attempts) == 3
    finally:
        _stop(server)
        _stop(redis)


# -- async ----------------------------------------------------------------------------------


async def test_async_client_routes(base_url: str, agent_id: str) -> None:
    async with AsyncClient(base_url) as c:
        assert (await c.save_session(agent_id, "a", {"n": 1})).created
        assert (await c.get_session(agent_id, "a")).state == {"n": 1}
        assert await c.head_session(agent_id, "a") == 1
        r = await c.append_messages(agent_id, "a", list(range(5)), idempotency_key="k")
        assert (r.first_seq, r.last_seq, r.version) == (1, 5, 2)
        assert [m.data async for m in c.iter_messages(agent_id, "a", page_size=2)] == [0, 1, 2, 3, 4]
        assert (await c.pop_message(agent_id, "a")).data == 4
        assert await c.clear_messages(agent_id, "a") == 4
        assert [s.session_id async for s in c.iter_sessions(agent_id)] == ["a"]
        with pytest.raises(AgentStateError) as info:
            await c.delete_session(agent_id, "a", if_match=1)
        assert info.value.status == 412 and info.value.current_version == 4
        await c.delete_session(agent_id, "a")
        assert await c.delete_all_sessions(agent_id) == 0
        assert (await c.readyz())["status"] == "ready"


def test_import_without_frameworks() -> None:
    # `import agentstate` must not pull in either framework.
    code = "import sys, agentstate; assert 'agents' not in sys.modules and 'langgraph' not in sys.modules; print('ok')"
    out = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_id_mapping() -> None:
    assert agentstate.to_id("user-42") == "user-42"
    mapped = {agentstate.to_id(s) for s in ["a b", "a~b", "x~a b", "", "ü", "a:b", "a%3Ab", "-a"]}
    assert len(mapped) == 8 and all(agentstate.is_valid_id(m) for m in mapped)
    for s in ["a b", "a~b", "", "ü", "thread:1|x"]:
        assert agentstate.from_id(agentstate.to_id(s)) == s
    with pytest.raises(ValueError):
        agentstate.to_id("é" * 30)
    assert json.dumps(agentstate.to_id("a" * 128)) == json.dumps("a" * 128)


# -- v1.1 message log -----------------------------------------------------------------------


def test_read_before_pages_backwards_and_etag(client: Client, agent_id: str) -> None:
    r = client.append_messages(agent_id, "b", list(range(1, 8)))
    latest = client.read_messages(agent_id, "b", limit=3)
    assert [m.seq for m in latest.messages] == [5, 6, 7] and latest.version == r.version
    page = client.read_messages(agent_id, "b", before=5, limit=3)
    assert [m.data for m in page.messages] == [2, 3, 4] and page.next_before == 2 and page.next_after is None
    page = client.read_messages(agent_id, "b", before=page.next_before, limit=3)
    assert [m.seq for m in page.messages] == [1] and page.next_before is None
    assert client.read_messages(agent_id, "b", before=1).messages == []
    assert [m.seq for m in client.iter_messages_backward(agent_id, "b", page_size=2)] == [7, 6, 5, 4, 3, 2, 1]
    assert [m.seq for m in client.iter_messages_backward(agent_id, "b", before=4, page_size=2)] == [3, 2, 1]
    assert client.read_messages(agent_id, "b", if_none_match=r.version) is None
    client.append_messages(agent_id, "b", [8])
    fresh = client.read_messages(agent_id, "b", if_none_match=r.version, limit=1)
    assert fresh is not None and fresh.version == r.version + 1 and fresh.messages[0].data == 8
    err = _error(client.read_messages, agent_id, "b", before=3, after=1)
    assert (err.status, err.code) == (400, "invalid_request")


def test_keys_append_lookup_and_conflict(client: Client, agent_id: str) -> None:
    r = client.append_messages(agent_id, "k", [{"a": 1}, {"b": 2}, 3], keys=["cp:1", None, "cp:2"])
    assert (r.first_seq, r.last_seq) == (1, 3)
    got = client.get_message_by_key(agent_id, "k", "cp:2")
    assert got == agentstate.Message(3, 3, "cp:2")
    assert client.get_message_by_key(agent_id, "k", "nope") is None
    assert client.get_message_by_key(agent_id, "missing-session", "cp:1") is None
    page = client.read_messages(agent_id, "k")
    assert [m.key for m in page.messages] == ["cp:1", None, "cp:2"]
    err = _error(client.append_messages, agent_id, "k", [4, 5], keys=["new", "cp:1"])
    assert (err.status, err.code) == (409, "key_conflict")
    err = _error(client.append_messages, agent_id, "k", [4, 5], keys=["d", "d"])
    assert (err.status, err.code) == (409, "key_conflict")
    assert client.read_messages(agent_id, "k").messages[-1].seq == 3  # nothing was written
    with pytest.raises(ValueError):
        client.append_messages(agent_id, "k", [4, 5], keys=["only-one"])
    err = _error(client.append_raw_messages, agent_id, "k", ["4"], keys=["has space"])
    assert (err.status, err.code) == (400, "invalid_request")
    # A popped message frees its key.
    assert client.pop_message(agent_id, "k") == agentstate.Message(3, 3, "cp:2")
    client.append_messages(agent_id, "k", ["again"], keys=["cp:2"])
    assert client.get_message_by_key(agent_id, "k", "cp:2").data == "again"


def test_replace_trim_delete_one(client: Client, agent_id: str) -> None:
    created = client.replace_messages(agent_id, "r", ["a", "b"], keys=["x", None], ttl_seconds=600)
    assert created.created is True and (created.first_seq, created.last_seq, created.message_count) == (1, 2, 2)
    r = client.replace_messages(agent_id, "r", ["summary", "c", "d"], keys=[None, "x", "y"], if_match=created.version)
    assert r.created is False and (r.first_seq, r.last_seq, r.message_count) == (3, 5, 3)
    assert r.version == created.version + 1
    assert [(m.seq, m.data, m.key) for m in client.read_messages(agent_id, "r").messages] == [
        (3, "summary", None), (4, "c", "x"), (5, "d", "y")
    ]
    err = _error(client.replace_messages, agent_id, "r", ["z"], if_match=created.version)
    assert (err.status, err.code, err.current_version) == (412, "precondition_failed", r.version)
    err = _error(client.replace_messages, agent_id, "r", ["z", "w"], keys=["k", "k"])
    assert (err.status, err.code) == (409, "key_conflict")
    trimmed = client.trim_messages(agent_id, "r", before=4, if_match=r.version)
    assert trimmed == agentstate.TrimResult(1, r.version + 1)
    assert client.trim_messages(agent_id, "r", before=4) == agentstate.TrimResult(0, r.version + 1)
    err = _error(client.trim_messages, agent_id, "r", before=9, if_match=1)
    assert err.status == 412
    assert client.delete_message(agent_id, "r", 5) == agentstate.Message(5, "d", "y")
    err = _error(client.delete_message, agent_id, "r", 5)
    assert (err.status, err.code) == (404, "not_found")
    assert [m.seq for m in client.read_messages(agent_id, "r").messages] == [4]
    empty = client.replace_messages(agent_id, "r", [])
    assert (empty.first_seq, empty.last_seq, empty.message_count) == (None, None, 0)
    assert client.read_messages(agent_id, "r").messages == []
    assert client.append_messages(agent_id, "r", ["n"]).first_seq == 6  # seqs are never reused
    err = _error(client.replace_messages, agent_id, "r", list(range(1001)))
    assert (err.status, err.code) == (400, "invalid_request")


def test_message_bytes_is_reported(client: Client, agent_id: str) -> None:
    client.append_raw_messages(agent_id, "mb", ['{"a":1}', "[1,2]"])
    loaded = client.get_session(agent_id, "mb")
    assert loaded.message_bytes == len('{"a":1}') + len("[1,2]")


def test_session_too_large() -> None:
    server, url = _start_agentstate(["--store", "memory", "--max-session-bytes", "2048"])
    try:
        with Client(url) as c:
            c.append_messages("a", "big", ["x" * 1000])
            err = _error(c.append_messages, "a", "big", ["y" * 1200])
            assert (err.status, err.code) == (409, "session_too_large")
            err = _error(c.replace_messages, "a", "big", ["y" * 2100])
            assert (err.status, err.code) == (409, "session_too_large")
            assert [m.data for m in c.read_messages("a", "big").messages] == ["x" * 1000]
    finally:
        _stop(server)


def test_bearer_auth_against_a_tokens_file(tmp_path) -> None:
    binary = _start_agentstate.__globals__["_binary"]()
    made = subprocess.run(
        [binary, "token", "--name", "py", "--access", "write", "--agents", "py-*"],
        check=True, capture_output=True, text=True,
    ).stdout
    lines = [line for line in made.splitlines() if line and not line.startswith("#")]
    token, entry = lines[0], lines[1]
    tokens = tmp_path / "tokens"
    tokens.write_text(entry + "\n")
    tokens.chmod(0o600)
    server, url = _start_agentstate(["--store", "memory", "--auth-tokens-file", str(tokens)])
    try:
        with Client(url) as anonymous:
            err = _error(anonymous.save_session, "py-a", "s", 1)
            assert err.status == 401
        with Client(url, token=token) as c:
            assert c.save_session("py-a", "s", 1).created
            assert c.append_messages("py-a", "s", [1], keys=["k"]).first_seq == 1
            err = _error(c.save_session, "other", "s", 1)
            assert err.status == 403
    finally:
        _stop(server)


async def test_async_client_v11_routes(base_url: str, agent_id: str) -> None:
    async with AsyncClient(base_url) as c:
        await c.append_messages(agent_id, "a11", list(range(6)), keys=[f"k{i}" for i in range(6)])
        page = await c.read_messages(agent_id, "a11", before=4, limit=2)
        assert [m.key for m in page.messages] == ["k1", "k2"] and page.next_before == 2
        assert [m.data async for m in c.iter_messages_backward(agent_id, "a11", page_size=4)] == [5, 4, 3, 2, 1, 0]
        assert (await c.get_message_by_key(agent_id, "a11", "k3")).seq == 4
        assert await c.get_message_by_key(agent_id, "a11", "zz") is None
        t = await c.trim_messages(agent_id, "a11", before=3)
        assert t.deleted == 2
        assert (await c.delete_message(agent_id, "a11", 3)).key == "k2"
        r = await c.replace_messages(agent_id, "a11", ["s"], keys=["k0"], if_match=t.version + 1)
        assert (r.first_seq, r.message_count, r.created) == (7, 1, False)
        assert await c.read_messages(agent_id, "a11", if_none_match=r.version) is None
        with pytest.raises(AgentStateError) as info:
            await c.append_messages(agent_id, "a11", [1], keys=["k0"])
        assert info.value.code == "key_conflict"
