"""A real LangGraph graph on AgentStateSaver: sync and async, an interrupt resumed after
update_state, time travel (fork from an earlier checkpoint), and a subgraph namespace. Plus the
sync methods of the saver, which the conformance suite (async only) does not call."""

from __future__ import annotations

import operator
import uuid
from typing import Annotated, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

import agentstate
from agentstate.langgraph import AgentStateSaver, session_id_for


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def _graph(saver: AgentStateSaver, *, interrupt_before: list[str] | None = None):
    b = StateGraph(State)
    b.add_node("a", lambda s: {"log": ["a"]})
    b.add_node("b", lambda s: {"log": ["b"]})
    b.add_node("c", lambda s: {"log": ["c"]})
    b.add_edge(START, "a")
    b.add_edge("a", "b")
    b.add_edge("b", "c")
    b.add_edge("c", END)
    return b.compile(checkpointer=saver, interrupt_before=interrupt_before or [])


def _subgraph_graph(saver: AgentStateSaver):
    sub = StateGraph(State)

    def ask(s: State):
        answer = interrupt("name?")
        return {"log": [f"hello {answer}"]}

    sub.add_node("ask", ask)
    sub.add_edge(START, "ask")
    sub.add_edge("ask", END)
    parent = StateGraph(State)
    parent.add_node("start", lambda s: {"log": ["start"]})
    parent.add_node("sub", sub.compile())
    parent.add_edge(START, "start")
    parent.add_edge("start", "sub")
    parent.add_edge("sub", END)
    return parent.compile(checkpointer=saver)


def _reference_subgraph_run(answer: str) -> list[str]:
    from langgraph.checkpoint.memory import InMemorySaver

    graph = _subgraph_graph(InMemorySaver())  # type: ignore[arg-type]
    config = {"configurable": {"thread_id": "reference"}}
    graph.invoke({"log": []}, config)
    return graph.invoke(Command(resume=answer), config)["log"]


def test_sync_graph_interrupt_update_state_and_time_travel(base_url: str, agent_id: str) -> None:
    with AgentStateSaver(base_url, agent_id=agent_id) as saver:
        graph = _graph(saver, interrupt_before=["b"])
        config = {"configurable": {"thread_id": f"thread-{uuid.uuid4()}"}}
        graph.invoke({"log": ["in"]}, config)
        snapshot = graph.get_state(config)
        assert snapshot.next == ("b",) and snapshot.values["log"] == ["in", "a"]

        graph.update_state(config, {"log": ["edited"]})
        assert graph.get_state(config).values["log"] == ["in", "a", "edited"]
        result = graph.invoke(None, config)
        assert result["log"] == ["in", "a", "edited", "b", "c"]
        assert graph.get_state(config).next == ()

        history = list(graph.get_state_history(config))
        assert len(history) >= 5
        ids = [h.config["configurable"]["checkpoint_id"] for h in history]
        assert ids == sorted(ids, reverse=True)
        # Time travel: replay from the checkpoint before "b" ran, with another edit.
        before_b = next(h for h in history if h.next == ("b",) and h.values["log"] == ["in", "a"])
        forked = graph.update_state(before_b.config, {"log": ["other"]})
        result = graph.invoke(None, forked)
        assert result["log"] == ["in", "a", "other", "b", "c"]
        # The old branch is still there.
        assert graph.get_state(before_b.config).values["log"] == ["in", "a"]
        assert len(list(graph.get_state_history(config))) > len(history)


async def test_async_graph_interrupt_update_state_and_time_travel(base_url: str, agent_id: str) -> None:
    async with AgentStateSaver(base_url, agent_id=agent_id) as saver:
        graph = _graph(saver, interrupt_before=["c"])
        config = {"configurable": {"thread_id": "async thread / 1"}}  # not a valid ID as it is
        await graph.ainvoke({"log": []}, config)
        assert (await graph.aget_state(config)).next == ("c",)
        await graph.aupdate_state(config, {"log": ["x"]})
        result = await graph.ainvoke(None, config)
        assert result["log"] == ["a", "b", "x", "c"]
        history = [h async for h in graph.aget_state_history(config)]
        first = history[-1]
        assert first.values == {"log": []} or first.values.get("log", []) == []
        # Time travel: replaying from the input checkpoint runs a and b again and stops at the
        # interrupt before c on a new branch.
        replay = await graph.ainvoke(None, history[-2].config)
        assert replay["log"] == ["a", "b"]
        latest = await graph.aget_state(config)
        assert latest.next == ("c",) and latest.values["log"] == ["a", "b"]
        assert latest.parent_config["configurable"]["checkpoint_id"] != history[0].config["configurable"]["checkpoint_id"]


def test_sync_subgraph_namespace(base_url: str, agent_id: str) -> None:
    with AgentStateSaver(base_url, agent_id=agent_id) as saver:
        graph = _subgraph_graph(saver)
        thread = f"sub-{uuid.uuid4()}"
        config = {"configurable": {"thread_id": thread}}
        graph.invoke({"log": []}, config)
        state = graph.get_state(config, subgraphs=True)
        assert state.next == ("sub",)
        sub_state = state.tasks[0].state
        ns = sub_state.config["configurable"]["checkpoint_ns"]
        assert ns.startswith("sub:")
        # The subgraph's checkpoints live in their own session.
        with agentstate.Client(base_url) as c:
            ids = {s.session_id for s in c.iter_sessions(agent_id)}
        assert session_id_for(thread, "") in ids and session_id_for(thread, ns) in ids
        namespaces = {t.config["configurable"]["checkpoint_ns"] for t in saver.list({"configurable": {"thread_id": thread}})}
        assert "" in namespaces and ns in namespaces
        result = graph.invoke(Command(resume="ada"), config)
        # The subgraph returns its whole state into the parent's add-reducer, so "start" appears
        # twice; InMemorySaver gives exactly the same.
        assert result["log"] == ["start", "start", "hello ada"] == _reference_subgraph_run("ada")
        saver.delete_thread(thread)
        assert list(saver.list({"configurable": {"thread_id": thread}})) == []
        with agentstate.Client(base_url) as c:
            assert not any(s.session_id.startswith("t") for s in c.iter_sessions(agent_id))


async def test_async_subgraph_namespace(base_url: str, agent_id: str) -> None:
    async with AgentStateSaver(base_url, agent_id=agent_id) as saver:
        graph = _subgraph_graph(saver)
        config = {"configurable": {"thread_id": "t-async-sub"}}
        await graph.ainvoke({"log": []}, config)
        state = await graph.aget_state(config, subgraphs=True)
        assert state.tasks[0].state.config["configurable"]["checkpoint_ns"].startswith("sub:")
        result = await graph.ainvoke(Command(resume="bob"), config)
        assert result["log"] == _reference_subgraph_run("bob")


def test_sync_saver_methods(base_url: str, agent_id: str) -> None:
    """put, put_writes, get_tuple, list (filter/before/limit), copy_thread, prune,
    delete_for_runs and delete_thread through the sync API."""
    from langgraph.checkpoint.conformance.test_utils import generate_checkpoint, generate_config, generate_metadata

    with AgentStateSaver(base_url, agent_id=agent_id) as saver:
        tid = str(uuid.uuid4())
        stored = []
        parent = None
        for i in range(4):
            cfg = generate_config(tid)
            if parent:
                cfg["configurable"]["checkpoint_id"] = parent["configurable"]["checkpoint_id"]
            cp = generate_checkpoint(channel_values={"n": i}, channel_versions={"n": i + 1})
            parent = saver.put(cfg, cp, generate_metadata(step=i, run_id=f"run-{i % 2}"), {"n": i + 1})
            stored.append(parent)
        saver.put_writes(stored[-1], [("ch", 1), ("ch", 2)], "task-1", "path")
        saver.put_writes(stored[-1], [("ch", 99)], "task-1")  # same (task, idx): the first one stays
        tup = saver.get_tuple(generate_config(tid))
        assert tup.config["configurable"]["checkpoint_id"] == stored[-1]["configurable"]["checkpoint_id"]
        assert tup.checkpoint["channel_values"] == {"n": 3}
        assert tup.pending_writes == [("task-1", "ch", 1), ("task-1", "ch", 2)]
        assert tup.parent_config["configurable"]["checkpoint_id"] == stored[-2]["configurable"]["checkpoint_id"]
        assert [t.metadata["step"] for t in saver.list(generate_config(tid))] == [3, 2, 1, 0]
        assert [t.metadata["step"] for t in saver.list(generate_config(tid), filter={"run_id": "run-0"})] == [2, 0]
        assert [t.metadata["step"] for t in saver.list(generate_config(tid), before=stored[2], limit=1)] == [1]
        assert any(t.config["configurable"]["thread_id"] == tid for t in saver.list(None))

        copy = str(uuid.uuid4())
        saver.copy_thread(tid, copy)
        assert [t.checkpoint["id"] for t in saver.list(generate_config(copy))] == [
            t.checkpoint["id"] for t in saver.list(generate_config(tid))
        ]
        saver.prune([copy], strategy="keep_latest")
        kept = list(saver.list(generate_config(copy)))
        assert [t.metadata["step"] for t in kept] == [3] and len(kept[0].pending_writes) == 2
        assert [t.metadata["step"] for t in saver.list(generate_config(tid))] == [3, 2, 1, 0]
        saver.delete_for_runs(["run-1"])  # every thread of the agent: steps 1 and 3
        assert [t.metadata["step"] for t in saver.list(generate_config(tid))] == [2, 0]
        assert list(saver.list(generate_config(copy))) == []
        saver.delete_thread(tid)
        assert saver.get_tuple(generate_config(tid)) is None
        with pytest.raises(ValueError):
            saver.prune([copy], strategy="sometimes")
        with pytest.raises(ValueError):
            session_id_for("é" * 70, "")
