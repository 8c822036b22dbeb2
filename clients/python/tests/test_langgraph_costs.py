"""AgentStateSaver on the v1.1 message-log routes: request counts that do not grow with the
thread, key lookups, backward paging, and atomic prune, on both backends."""

from __future__ import annotations

import uuid

import httpx
import pytest
from langgraph.checkpoint.conformance.test_utils import generate_checkpoint, generate_config, generate_metadata

from agentstate import Client
from agentstate.langgraph import AgentStateSaver, cp_key, session_id_for, writes_key


class Meter:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        self.calls.append(f"{request.method} {request.url.query.decode()}")


def _saver(base_url: str, agent_id: str) -> tuple[AgentStateSaver, Meter]:
    saver = AgentStateSaver(base_url, agent_id=agent_id)
    meter = Meter()
    saver._sync_io().c._http.event_hooks["request"].append(meter)
    return saver, meter


def _thread(saver: AgentStateSaver, n: int, run_of=lambda i: "r") -> tuple[str, list[str]]:
    tid = f"t-{uuid.uuid4().hex[:8]}"
    ids: list[str] = []
    parent = None
    for i in range(n):
        cfg = generate_config(tid)
        if parent:
            cfg["configurable"]["checkpoint_id"] = parent
        cp = generate_checkpoint(channel_values={"step": i}, channel_versions={"step": i + 1})
        got = saver.put(cfg, cp, generate_metadata(step=i, run_id=run_of(i)), {"step": i + 1})
        parent = got["configurable"]["checkpoint_id"]
        saver.put_writes(got, [("step", i), ("out", f"w{i}")], task_id=f"task{i}")
        ids.append(parent)
    return tid, ids


def _costs(saver: AgentStateSaver, meter: Meter, tid: str, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    meter.calls.clear()
    latest = saver.get_tuple(generate_config(tid))
    assert latest.config["configurable"]["checkpoint_id"] == ids[-1]
    assert [(w[1], w[2]) for w in latest.pending_writes] == [("step", len(ids) - 1), ("out", f"w{len(ids) - 1}")]
    out["latest"] = list(meter.calls)
    meter.calls.clear()
    middle = saver.get_tuple(generate_config(tid, checkpoint_id=ids[2]))
    assert middle.checkpoint["channel_values"] == {"step": 2}
    assert [w[2] for w in middle.pending_writes] == [2, "w2"]
    out["by_id"] = list(meter.calls)
    meter.calls.clear()
    listed = list(saver.list(generate_config(tid), limit=3))
    assert [t.config["configurable"]["checkpoint_id"] for t in listed] == ids[::-1][:3]
    assert [t.pending_writes[1][2] for t in listed] == [f"w{i}" for i in range(len(ids) - 1, len(ids) - 4, -1)]
    out["list3"] = list(meter.calls)
    meter.calls.clear()
    before = list(saver.list(generate_config(tid), before=generate_config(tid, checkpoint_id=ids[4]), limit=2))
    assert [t.config["configurable"]["checkpoint_id"] for t in before] == [ids[3], ids[2]]
    assert [t.pending_writes[1][2] for t in before] == ["w3", "w2"]
    out["list_before2"] = [c.split("&")[0].split("=")[0] for c in meter.calls]
    meter.calls.clear()
    cfg = generate_config(tid, checkpoint_id=ids[-1])
    saver.put(cfg, generate_checkpoint(channel_values={"step": 99}), generate_metadata(step=99), {})
    out["put"] = list(meter.calls)
    meter.calls.clear()
    saver.put_writes(generate_config(tid, checkpoint_id=ids[-1]), [("x", 1)], task_id="again")
    out["put_writes"] = list(meter.calls)
    return out


def test_costs_do_not_grow_with_the_thread(base_url: str, agent_id: str) -> None:
    saver, meter = _saver(base_url, agent_id)
    short = _costs(saver, meter, *_thread(saver, 6))
    long = _costs(saver, meter, *_thread(saver, 1200))  # more than one page of the log
    for what in short:
        assert len(short[what]) == len(long[what]), (what, short[what], long[what])
    assert short["latest"] == ["GET limit=8"]
    assert len(short["by_id"]) == 1 + 2  # the checkpoint by key, its one writes batch, a miss
    assert short["put"][0].startswith("POST") and len(short["put"]) == 1
    assert short["put_writes"][0].startswith("POST") and len(short["put_writes"]) == 1
    saver.close()


def test_keys_are_stored_and_late_writes_are_found(base_url: str, agent_id: str) -> None:
    saver, _ = _saver(base_url, agent_id)
    tid, ids = _thread(saver, 4)
    sid = session_id_for(tid, "")
    with Client(base_url) as c:
        assert c.get_message_by_key(agent_id, sid, cp_key(ids[1])).data["id"] == ids[1]
        assert c.get_message_by_key(agent_id, sid, writes_key(ids[1], 0)).data["cp"] == ids[1]
    # A write to an older checkpoint, after newer ones exist (as a replay from it does).
    saver.put_writes(generate_config(tid, checkpoint_id=ids[1]), [("late", "L")], task_id="replay")
    def channels(t) -> set[tuple[str, object]]:
        return {(w[1], w[2]) for w in t.pending_writes}

    assert ("late", "L") in channels(saver.get_tuple(generate_config(tid, checkpoint_id=ids[1])))
    got = list(saver.list(generate_config(tid), before=generate_config(tid, checkpoint_id=ids[2]), limit=1))
    assert channels(got[0]) == {("step", 1), ("out", "w1"), ("late", "L")}
    got = list(saver.list(generate_config(tid)))
    assert [t.config["configurable"]["checkpoint_id"] for t in got] == ids[::-1]
    assert channels(got[2]) == {("step", 1), ("out", "w1"), ("late", "L")}
    # A second saver (no memory of the next writes number) finds the next free key itself.
    other = AgentStateSaver(base_url, agent_id=agent_id)
    other.put_writes(generate_config(tid, checkpoint_id=ids[1]), [("later", 2)], task_id="other")
    assert {("late", "L"), ("later", 2)} <= channels(saver.get_tuple(generate_config(tid, checkpoint_id=ids[1])))
    # The same checkpoint id again replaces the record.
    cp = generate_checkpoint(checkpoint_id=ids[3], channel_values={"step": 33}, channel_versions={"step": 40})
    saver.put(generate_config(tid), cp, generate_metadata(step=33), {})
    assert saver.get_tuple(generate_config(tid, checkpoint_id=ids[3])).checkpoint["channel_values"] == {"step": 33}
    other.close()
    saver.close()


def test_prune_and_delete_for_runs_replace_the_log_in_one_request(base_url: str, agent_id: str) -> None:
    saver, meter = _saver(base_url, agent_id)
    tid, ids = _thread(saver, 5, run_of=lambda i: "odd" if i % 2 else "even")
    meter.calls.clear()
    saver.delete_for_runs(["odd"])
    writes = [c for c in meter.calls if not c.startswith("GET")]
    assert writes == ["PUT "]
    assert [t.config["configurable"]["checkpoint_id"] for t in saver.list(generate_config(tid))] == [
        ids[4], ids[2], ids[0]
    ]
    meter.calls.clear()
    saver.prune([tid])
    assert [c for c in meter.calls if not c.startswith("GET")] == ["PUT "]
    kept = list(saver.list(generate_config(tid)))
    assert [t.config["configurable"]["checkpoint_id"] for t in kept] == [ids[4]]
    assert [w[2] for w in kept[0].pending_writes] == [4, "w4"]
    # Keys went along with the kept records: the checkpoint is still found by key.
    assert saver.get_tuple(generate_config(tid, checkpoint_id=ids[4])).checkpoint["channel_values"] == {"step": 4}
    assert saver.get_tuple(generate_config(tid, checkpoint_id=ids[0])) is None
    saver.close()


async def test_async_paths_match(base_url: str, agent_id: str) -> None:
    saver, _ = _saver(base_url, agent_id)
    tid, ids = _thread(saver, 5)
    async with AgentStateSaver(base_url, agent_id=agent_id) as asaver:
        latest = await asaver.aget_tuple(generate_config(tid))
        assert latest.config["configurable"]["checkpoint_id"] == ids[-1]
        by_id = await asaver.aget_tuple(generate_config(tid, checkpoint_id=ids[1]))
        assert [w[2] for w in by_id.pending_writes] == [1, "w1"]
        got = [t async for t in asaver.alist(generate_config(tid), before=generate_config(tid, checkpoint_id=ids[3]), limit=2)]
        assert [t.config["configurable"]["checkpoint_id"] for t in got] == [ids[2], ids[1]]
        await asaver.aprune([tid])
        assert [t.config["configurable"]["checkpoint_id"] async for t in asaver.alist(generate_config(tid))] == [ids[-1]]
    saver.close()


def test_latest_with_many_writes_after_it_pages_further(base_url: str, agent_id: str) -> None:
    saver, meter = _saver(base_url, agent_id)
    tid, ids = _thread(saver, 3)
    for k in range(30):  # more writes batches after the newest checkpoint than one tail page
        saver.put_writes(generate_config(tid, checkpoint_id=ids[-1]), [(f"c{k}", k)], task_id=f"extra{k}")
    meter.calls.clear()
    latest = saver.get_tuple(generate_config(tid))
    assert latest.config["configurable"]["checkpoint_id"] == ids[-1]
    assert len(latest.pending_writes) == 2 + 30
    assert [c.split("&")[0] for c in meter.calls] == ["GET limit=8", "GET limit=32"]
    saver.close()
