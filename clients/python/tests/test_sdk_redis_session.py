# Adapted by hand from openai-agents 0.24.0 (sdist) tests/extensions/memory/test_redis_session.py:
# RedisSession -> AgentStateSession against the running agentstate service (both backends).
# Every test below keeps the original assertions; tests about Redis internals are dropped (the
# list and the reasons are in clients/python/README.md). Tests marked "agentstate:" are ours and
# cover the rest of the AgentStateSession contract.
from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from agents import Agent, RunConfig, Runner, TResponseInputItem
from agents.memory import SessionSettings
from agents.testing import ScriptedModel

import agentstate
from agentstate.openai_agents import AgentStateSession
from conftest import free_port
from sdk_support import get_text_message, make_session


def _hook(fn):
    """httpx's AsyncClient awaits its event hooks."""

    async def hook(request):
        fn(request)

    return hook


@pytest.fixture
def agent() -> Agent:
    return Agent(name="test", model=ScriptedModel())


async def _create_test_session(session_id: str | None = None, **kwargs: Any) -> AgentStateSession:
    import uuid

    session = make_session(session_id or f"test_session_{uuid.uuid4().hex[:8]}", **kwargs)
    await session.clear_session()
    return session


async def test_redis_session_direct_ops():
    session = await _create_test_session()
    try:
        items: list[TResponseInputItem] = [
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi there!"},
        ]
        await session.add_items(items)
        retrieved = await session.get_items()
        assert len(retrieved) == 2
        assert retrieved[0].get("content") == "Hello"
        assert retrieved[1].get("content") == "Hi there!"
        popped = await session.pop_item()
        assert popped is not None
        assert popped.get("content") == "Hi there!"
        retrieved_after_pop = await session.get_items()
        assert len(retrieved_after_pop) == 1
        assert retrieved_after_pop[0].get("content") == "Hello"
        await session.clear_session()
        assert len(await session.get_items()) == 0
    finally:
        await session.close()


@pytest.mark.parametrize("operation", ["pop", "clear", "add"])
async def test_mutation_cancellation_waits_for_authoritative_outcome(monkeypatch: pytest.MonkeyPatch, operation: str):
    """Cancellation must wait once the mutation may have reached the server (the original
    patches redis-py; here the agentstate client's request is held after it completed)."""
    session = await _create_test_session()
    item: TResponseInputItem = {"role": "user", "content": "once"}
    await session.add_items([item])
    mutation_applied = asyncio.Event()
    allow_return = asyncio.Event()
    client = session._client()
    name = {"pop": "pop_message", "clear": "clear_messages", "add": "append_raw_messages"}[operation]
    original = getattr(client, name)

    async def controlled(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        mutation_applied.set()
        await allow_return.wait()
        return result

    monkeypatch.setattr(client, name, controlled)
    if operation == "pop":
        task: asyncio.Task[Any] = asyncio.create_task(session.pop_item())
    elif operation == "clear":
        task = asyncio.create_task(session.clear_session())
    else:
        task = asyncio.create_task(session.add_items([{"role": "user", "content": "twice"}]))
    try:
        await mutation_applied.wait()
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.sleep(0)
        assert task.done() is False
        allow_return.set()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        allow_return.set()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    monkeypatch.undo()
    contents = [i.get("content") for i in await session.get_items()]
    assert contents == {"pop": [], "clear": [], "add": ["once", "twice"]}[operation]
    await session.close()


async def test_runner_integration(agent: Agent):
    session = await _create_test_session()
    try:
        assert isinstance(agent.model, ScriptedModel)
        agent.model.enqueue([get_text_message("San Francisco")])
        result1 = await Runner.run(agent, "What city is the Golden Gate Bridge in?", session=session)
        assert result1.final_output == "San Francisco"
        agent.model.enqueue([get_text_message("California")])
        result2 = await Runner.run(agent, "What state is it in?", session=session)
        assert result2.final_output == "California"
        last_input = agent.model.calls[-1].input
        assert len(last_input) > 1
        assert any("Golden Gate Bridge" in str(item.get("content", "")) for item in last_input)
    finally:
        await session.close()


async def test_session_isolation():
    session1 = make_session("session_1")
    session2 = make_session("session_2")
    try:
        agent = Agent(name="test", model=ScriptedModel())
        await session1.clear_session()
        await session2.clear_session()
        assert isinstance(agent.model, ScriptedModel)
        agent.model.enqueue([get_text_message("I like cats.")])
        await Runner.run(agent, "I like cats.", session=session1)
        agent.model.enqueue([get_text_message("I like dogs.")])
        await Runner.run(agent, "I like dogs.", session=session2)
        agent.model.enqueue([get_text_message("You said you like cats.")])
        result = await Runner.run(agent, "What animal did I say I like?", session=session1)
        assert "cats" in result.final_output.lower()
        assert "dogs" not in result.final_output.lower()
        # agentstate: the histories themselves are separate too.
        assert "dogs" not in str(await session1.get_items())
        assert "cats" not in str(await session2.get_items())
    finally:
        await session1.close()
        await session2.close()


async def test_get_items_with_limit():
    session = await _create_test_session()
    try:
        items: list[TResponseInputItem] = [
            {"role": "user", "content": "1"},
            {"role": "assistant", "content": "2"},
            {"role": "user", "content": "3"},
            {"role": "assistant", "content": "4"},
        ]
        await session.add_items(items)
        latest_2 = await session.get_items(limit=2)
        assert len(latest_2) == 2
        assert latest_2[0].get("content") == "3"
        assert latest_2[1].get("content") == "4"
        assert len(await session.get_items()) == 4
        assert len(await session.get_items(limit=10)) == 4
        assert len(await session.get_items(limit=0)) == 0
    finally:
        await session.close()


async def test_pop_from_empty_session():
    session = make_session("empty_session")
    try:
        await session.clear_session()
        assert await session.pop_item() is None
    finally:
        await session.close()


async def test_add_empty_items_list():
    session = await _create_test_session()
    try:
        assert len(await session.get_items()) == 0
        await session.add_items([])
        assert len(await session.get_items()) == 0
    finally:
        await session.close()


async def test_unicode_content():
    session = await _create_test_session()
    try:
        items: list[TResponseInputItem] = [
            {"role": "user", "content": "こんにちは"},
            {"role": "assistant", "content": "😊👍"},
            {"role": "user", "content": "Привет"},
        ]
        await session.add_items(items)
        retrieved = await session.get_items()
        assert retrieved[0].get("content") == "こんにちは"
        assert retrieved[1].get("content") == "😊👍"
        assert retrieved[2].get("content") == "Привет"
    finally:
        await session.close()


async def test_special_characters_and_json_safety():
    session = await _create_test_session()
    try:
        items: list[TResponseInputItem] = [
            {"role": "user", "content": "O'Reilly"},
            {"role": "assistant", "content": '{"nested": "json"}'},
            {"role": "user", "content": 'Quote: "Hello world"'},
            {"role": "assistant", "content": "Line1\nLine2\tTabbed"},
            {"role": "user", "content": "Normal message"},
        ]
        await session.add_items(items)
        retrieved = await session.get_items()
        assert len(retrieved) == len(items)
        assert retrieved[0].get("content") == "O'Reilly"
        assert retrieved[1].get("content") == '{"nested": "json"}'
        assert retrieved[2].get("content") == 'Quote: "Hello world"'
        assert retrieved[3].get("content") == "Line1\nLine2\tTabbed"
        assert retrieved[4].get("content") == "Normal message"
    finally:
        await session.close()


async def test_data_integrity_with_problematic_strings():
    session = await _create_test_session()
    try:
        items: list[TResponseInputItem] = [
            {"role": "user", "content": "O'Reilly"},
            {"role": "assistant", "content": "DROP TABLE sessions;"},
            {"role": "user", "content": '"SELECT * FROM users WHERE name = "admin";"'},
            {"role": "assistant", "content": "Robert'); DROP TABLE students;--"},
            {"role": "user", "content": '{"malicious": "json"}'},
            {"role": "assistant", "content": "\\n\\t\\r Special escapes"},
            {"role": "user", "content": "Normal message"},
        ]
        await session.add_items(items)
        retrieved = await session.get_items()
        assert retrieved == items
    finally:
        await session.close()


async def test_concurrent_access():
    session = await _create_test_session("concurrent_test")
    try:

        async def add_messages(start_idx: int, count: int):
            await session.add_items([{"role": "user", "content": f"Message {start_idx + i}"} for i in range(count)])

        await asyncio.gather(add_messages(0, 5), add_messages(5, 5), add_messages(10, 5))
        retrieved = await session.get_items()
        assert len(retrieved) == 15
        contents = [item.get("content") for item in retrieved]
        for expected in [f"Message {i}" for i in range(15)]:
            assert expected in contents
    finally:
        await session.close()


async def test_redis_connectivity():
    session = make_session("connectivity_test")
    try:
        assert await session.ping() is True
    finally:
        await session.close()


async def test_ttl_functionality(base_url: str, agent_id: str):
    session = make_session("ttl_test", ttl_seconds=60, sliding_ttl=True)
    try:
        await session.clear_session()
        await session.add_items([{"role": "user", "content": "This should expire"}])
        assert len(await session.get_items()) == 1
        # agentstate: the append carried the TTL policy (no waiting for expiry).
        with agentstate.Client(base_url) as c:
            s = c.get_session(agent_id, "ttl_test")
        assert s.ttl_seconds == 60 and s.sliding_ttl is True and s.expires_at is not None
    finally:
        await session.close()


async def test_key_prefix_isolation(base_url: str):
    """Originally two key prefixes; in agentstate the namespace is the agent ID."""
    session1 = AgentStateSession("same_id", agent_id=agentstate.to_id("app1 " + base_url), base_url=base_url)
    session2 = AgentStateSession("same_id", agent_id=agentstate.to_id("app2 " + base_url), base_url=base_url)
    try:
        await session1.clear_session()
        await session2.clear_session()
        await session1.add_items([{"role": "user", "content": "app1 message"}])
        await session2.add_items([{"role": "user", "content": "app2 message"}])
        items1 = await session1.get_items()
        items2 = await session2.get_items()
        assert len(items1) == 1
        assert len(items2) == 1
        assert items1[0].get("content") == "app1 message"
        assert items2[0].get("content") == "app2 message"
    finally:
        await session1.clear_session()
        await session2.clear_session()
        await session1.close()
        await session2.close()


async def test_get_items_limit_returns_fewer_when_history_exhausted():
    session = await _create_test_session("limit_exhausted_test")
    try:
        await session.add_items([{"role": "user", "content": "only valid"}])
        retrieved = await session.get_items(limit=5)
        assert [item.get("content") for item in retrieved] == ["only valid"]
    finally:
        await session.close()


async def test_ping_connection_failure():
    """Originally a mocked ping; here a port nobody listens on."""
    session = AgentStateSession("ping_failure_test", agent_id="a", base_url=f"http://127.0.0.1:{free_port()}")
    assert await session.ping() is False
    await session.close()


async def test_session_settings_default():
    session = await _create_test_session()
    try:
        assert isinstance(session.session_settings, SessionSettings)
        assert session.session_settings.limit is None
    finally:
        await session.close()


@pytest.mark.parametrize("use_dictionary", [False, True], ids=["class", "dictionary"])
async def test_session_settings_constructor(use_dictionary: bool):
    session = make_session("settings_test", session_settings={"limit": 5} if use_dictionary else SessionSettings(limit=5))
    try:
        assert isinstance(session.session_settings, SessionSettings)
        assert session.session_settings.limit == 5
    finally:
        await session.close()


async def test_get_items_uses_session_settings_limit():
    session = make_session("uses_settings_limit_test", session_settings=SessionSettings(limit=3))
    try:
        await session.clear_session()
        await session.add_items([{"role": "user", "content": f"Message {i}"} for i in range(5)])
        retrieved = await session.get_items()
        assert len(retrieved) == 3
        assert [r.get("content") for r in retrieved] == ["Message 2", "Message 3", "Message 4"]
    finally:
        await session.close()


async def test_get_items_explicit_limit_overrides_session_settings():
    session = make_session("explicit_override_test", session_settings=SessionSettings(limit=5))
    try:
        await session.clear_session()
        await session.add_items([{"role": "user", "content": f"Message {i}"} for i in range(10)])
        retrieved = await session.get_items(limit=2)
        assert len(retrieved) == 2
        assert retrieved[0].get("content") == "Message 8"
        assert retrieved[1].get("content") == "Message 9"
    finally:
        await session.close()


async def test_runner_with_session_settings_override():
    session = make_session("runner_override_test", session_settings=SessionSettings(limit=100))
    try:
        await session.clear_session()
        await session.add_items([{"role": "user", "content": f"Turn {i}"} for i in range(10)])
        model = ScriptedModel()
        agent = Agent(name="test", model=model)
        model.enqueue([get_text_message("Got it")])
        await Runner.run(agent, "New question", session=session, run_config=RunConfig(session_settings=SessionSettings(limit=2)))
        last_input = model.calls[-1].input
        history_items = [item for item in last_input if item.get("content") != "New question"]
        assert len(history_items) == 2
    finally:
        await session.close()


async def test_redis_session_closed_operations_raise_runtime_error():
    session = make_session("closed_state_test")
    await session.add_items([{"role": "user", "content": "before close"}])
    await session.close()
    with pytest.raises(RuntimeError, match="AgentStateSession is closed"):
        await session.get_items()
    with pytest.raises(RuntimeError, match="AgentStateSession is closed"):
        await session.add_items([{"role": "user", "content": "after close"}])
    with pytest.raises(RuntimeError, match="AgentStateSession is closed"):
        await session.pop_item()
    with pytest.raises(RuntimeError, match="AgentStateSession is closed"):
        await session.clear_session()


async def test_redis_session_closed_rejects_empty_add_items():
    session = make_session("closed_empty_add_test")
    await session.close()
    with pytest.raises(RuntimeError, match="AgentStateSession is closed"):
        await session.add_items([])


async def test_redis_session_close_is_idempotent():
    session = make_session("close_idempotent_test")
    await asyncio.gather(session.close(), session.close())
    await session.close()
    with pytest.raises(RuntimeError, match="AgentStateSession is closed"):
        await session.get_items()


async def test_redis_session_ping_raises_after_close():
    session = make_session("ping_after_close_test")
    assert await session.ping() is True
    await session.close()
    with pytest.raises(RuntimeError, match="AgentStateSession is closed"):
        await session.ping()


# -- agentstate: the rest of the contract ------------------------------------------


async def test_agentstate_get_items_pages_past_1000_and_batches_appends(base_url: str, agent_id: str):
    session = make_session("long")
    posts: list[int] = []
    client = session._client()
    client._http.event_hooks["request"].append(
        _hook(lambda r: posts.append(r.headers.get("idempotency-key")) if r.method == "POST" else None)
    )
    items = [{"role": "user", "content": f"m{i}"} for i in range(2500)]
    await session.add_items(items)
    assert len(posts) == 3 and len(set(posts)) == 3  # 1000 + 1000 + 500, a fresh key each
    assert await session.get_items() == items
    assert await session.get_items(limit=1500) == items[-1500:]
    assert await session.get_items(limit=1000) == items[-1000:]
    await session.close()


async def test_agentstate_batches_respect_the_body_limit():
    session = make_session("big")
    posts: list[int] = []
    session._client()._http.event_hooks["request"].append(
        _hook(lambda r: posts.append(len(r.content)) if r.method == "POST" else None)
    )
    items = [{"role": "user", "content": "x" * 300_000} for _ in range(7)]
    await session.add_items(items)
    assert len(posts) >= 3 and max(posts) <= 1_048_576
    assert await session.get_items() == items
    await session.close()


async def test_agentstate_non_json_items_raise_before_anything_is_sent():
    session = make_session("nonjson")
    sent: list[str] = []
    session._client()._http.event_hooks["request"].append(_hook(lambda r: sent.append(r.method)))
    with pytest.raises(TypeError):
        await session.add_items([{"role": "user", "content": "ok"}, {"bad": object()}])
    with pytest.raises(TypeError):
        await session.add_items([{"nan": float("nan")}])
    assert sent == []
    assert await session.get_items() == []
    await session.close()


async def test_agentstate_missing_session_reads_as_empty_and_clear_keeps_state(base_url: str, agent_id: str):
    session = make_session("keep-state")
    assert await session.get_items() == [] and await session.get_items(limit=5000) == []
    with agentstate.Client(base_url) as c:
        c.save_session(agent_id, "keep-state", {"profile": "kept"})
        await session.add_items([{"role": "user", "content": "hi"}])
        await session.clear_session()
        loaded = c.get_session(agent_id, "keep-state")
    assert loaded.state == {"profile": "kept"} and loaded.message_count == 0
    await session.close()


async def test_agentstate_id_mapping_and_no_io_in_constructor(base_url: str, agent_id: str):
    AgentStateSession("x", agent_id="a", base_url="http://127.0.0.1:1")  # nothing listens: no error
    with pytest.raises(ValueError):
        AgentStateSession("é" * 64, agent_id="a")
    odd = make_session("user 42 / conversation:7")
    await odd.add_items([{"role": "user", "content": "odd"}])
    with agentstate.Client(base_url) as c:
        ids = [s.session_id for s in c.iter_sessions(agent_id)]
    assert ids == [agentstate.to_id("user 42 / conversation:7")]
    assert agentstate.from_id(ids[0]) == "user 42 / conversation:7"
    assert (await make_session("user 42 / conversation:7").get_items())[0]["content"] == "odd"
    await odd.close()


async def test_agentstate_async_with_and_several_event_loops():
    model = ScriptedModel()
    agent = Agent(name="test", model=model)
    async with make_session("loops") as session:
        model.enqueue([get_text_message("first")])
        errors: list[BaseException] = []

        def in_thread() -> None:
            try:
                Runner.run_sync(agent, "hello from a thread", session=session)
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        t = threading.Thread(target=in_thread)
        t.start()
        await asyncio.to_thread(t.join)
        assert errors == []
        model.enqueue([get_text_message("second")])
        result = await Runner.run(agent, "and from the main loop", session=session)
        assert result.final_output == "second"
        contents = [str(i.get("content")) for i in await session.get_items()]
        assert "hello from a thread" in contents[0] and "and from the main loop" in contents[2]
    with pytest.raises(RuntimeError):
        await session.get_items()


async def test_agentstate_compaction_replaces_atomically():
    session = make_session("compact")
    await session.add_items([{"role": "user", "content": "a"}, {"role": "user", "content": "a2"}])
    requests: list[str] = []
    client = session._client()
    client._http.event_hooks["request"].append(lambda r: _record(requests, r))
    assert await session._atomic_replace_items([{"role": "user", "content": "b"}]) is True
    assert requests == ["PUT"]  # one atomic request, not a clear and an append
    assert [i["content"] for i in await session.get_items()] == ["b"]
    assert await session._atomic_replace_items([]) is True
    assert await session.get_items() == []
    # A history that does not fit one request is left to the SDK's clear + add fallback.
    assert await session._atomic_replace_items([{"n": i} for i in range(1001)]) is False
    assert await session.get_items() == []
    with pytest.raises(TypeError):
        await session._atomic_replace_items([{"x": float("nan")}])

    class Sub(AgentStateSession):
        pass

    sub = Sub(session.session_id, agent_id=session.agent_id, base_url=session.base_url)
    assert await sub._atomic_replace_items([{"role": "user", "content": "c"}]) is False
    await sub.close()
    await session.close()


async def _record(requests: list[str], request) -> None:
    requests.append(request.method)


async def test_agentstate_get_items_over_a_page_reads_backwards():
    session = make_session("backwards")
    await session.add_items([{"n": i} for i in range(2500)])
    requests: list[str] = []
    client = session._client()
    client._http.event_hooks["request"].append(lambda r: _record_url(requests, r))
    items = await session.get_items(limit=1200)
    assert [i["n"] for i in items] == list(range(1300, 2500))
    # The newest 1,000, then 200+ before them: two requests, never the whole log.
    assert len(requests) == 2 and "before=1501" in requests[1]
    await session.close()


async def _record_url(requests: list[str], request) -> None:
    requests.append(str(request.url))
