"""Measures the framework adapters against a running agentstate (and its Redis).

    python bench/bench_adapters.py --url http://127.0.0.1:PORT --redis redis://127.0.0.1:RPORT

1. LangGraph: requests and bytes (request body + response body) per ``get_tuple`` (latest), per
   ``get_tuple`` of one checkpoint by id, and per ``put``, on a thread that already has 10 and 1,000
   checkpoints (each with one ``put_writes`` batch), and their median latency.
2. OpenAI Agents SDK: the latency of one turn (``get_items()`` then ``add_items`` of a user and an
   assistant item) through ``AgentStateSession``, beside the seed's approach, the
   ``openai-agents-session`` ``RedisSession`` talking to the same Redis directly.

Prints a Markdown report. Every loop is bounded by a count.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import httpx

from agentstate.langgraph import AgentStateSaver
from agentstate.openai_agents import AgentStateSession


class Meter:
    def __init__(self) -> None:
        self.requests = 0
        self.bytes_out = 0
        self.bytes_in = 0

    def on_request(self, request: httpx.Request) -> None:
        self.requests += 1
        self.bytes_out += len(request.content)

    def on_response(self, response: httpx.Response) -> None:
        response.read()
        self.bytes_in += len(response.content)

    def reset(self) -> None:
        self.requests = self.bytes_out = self.bytes_in = 0


def _checkpoint(i: int):
    from langgraph.checkpoint.conformance.test_utils import generate_checkpoint

    return generate_checkpoint(
        channel_values={"step": i, "messages": [f"message {i}: " + "x" * 200]},
        channel_versions={"step": i + 1, "messages": i + 1},
    )


def bench_langgraph(url: str, sizes: list[int], repeats: int) -> list[str]:
    from langgraph.checkpoint.conformance.test_utils import generate_config, generate_metadata

    rows = [
        "| checkpoints in thread | get_tuple (latest): requests | bytes out / in | median ms "
        "| get_tuple (by id): requests | bytes out / in | median ms | put: requests | bytes out / in | median ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        saver = AgentStateSaver(url, agent_id=f"bench-lg-{uuid.uuid4().hex[:8]}")
        meter = Meter()
        client = saver._sync_io().c
        client._http.event_hooks = {"request": [meter.on_request], "response": [meter.on_response]}
        tid = str(uuid.uuid4())
        parent = None
        for i in range(n):
            cfg = generate_config(tid)
            if parent:
                cfg["configurable"]["checkpoint_id"] = parent["configurable"]["checkpoint_id"]
            parent = saver.put(cfg, _checkpoint(i), generate_metadata(step=i), {"step": i + 1, "messages": i + 1})
            saver.put_writes(parent, [("messages", f"write {i}")], task_id=f"task-{i}")
            if i == n // 2:
                middle = parent

        meter.reset()
        tup = saver.get_tuple(middle)
        assert tup is not None and tup.metadata["step"] == n // 2 and len(tup.pending_writes) == 1
        id_req, id_out, id_in = meter.requests, meter.bytes_out, meter.bytes_in
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            saver.get_tuple(middle)
            times.append((time.perf_counter() - t0) * 1000)
        id_ms = statistics.median(times)

        meter.reset()
        tup = saver.get_tuple(generate_config(tid))
        assert tup is not None and tup.metadata["step"] == n - 1
        get_req, get_out, get_in = meter.requests, meter.bytes_out, meter.bytes_in
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            saver.get_tuple(generate_config(tid))
            times.append((time.perf_counter() - t0) * 1000)
        get_ms = statistics.median(times)

        meter.reset()
        cfg = generate_config(tid)
        cfg["configurable"]["checkpoint_id"] = parent["configurable"]["checkpoint_id"]
        parent = saver.put(cfg, _checkpoint(n), generate_metadata(step=n), {"step": n + 1})
        put_req, put_out, put_in = meter.requests, meter.bytes_out, meter.bytes_in
        times = []
        for k in range(repeats):
            cfg = generate_config(tid)
            cfg["configurable"]["checkpoint_id"] = parent["configurable"]["checkpoint_id"]
            t0 = time.perf_counter()
            parent = saver.put(cfg, _checkpoint(n + 1 + k), generate_metadata(step=n + 1 + k), {"step": 1})
            times.append((time.perf_counter() - t0) * 1000)
        put_ms = statistics.median(times)
        saver.delete_thread(tid)
        saver.close()
        rows.append(
            f"| {n:,} | {get_req} | {get_out:,} / {get_in:,} | {get_ms:.2f} | {id_req} | {id_out:,} / {id_in:,} "
            f"| {id_ms:.2f} | {put_req} | {put_out:,} / {put_in:,} | {put_ms:.2f} |"
        )
    return rows


async def _turns(session, turns: int) -> list[float]:
    times = []
    for i in range(turns):
        t0 = time.perf_counter()
        await session.get_items()
        await session.add_items(
            [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i} " + "y" * 200}]
        )
        times.append((time.perf_counter() - t0) * 1000)
    return times


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


async def bench_sdk(url: str, redis_url: str, turns: int) -> list[str]:
    import redis.asyncio as redis
    from openai_agents_session import RedisSession as SeedRedisSession

    rows = ["| backend | turns | median ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|"]
    results = {}
    for attempt in range(2):  # alternate twice, report the second round (warm connections, caches)
        session = AgentStateSession(f"bench-{uuid.uuid4().hex[:8]}", agent_id="bench-sdk", base_url=url)
        results["agentstate (AgentStateSession → HTTP → Redis)"] = await _turns(session, turns)
        await session.close()
        client = redis.from_url(redis_url)
        seed = SeedRedisSession(f"bench-{uuid.uuid4().hex[:8]}", client)
        results["seed (openai-agents-session RedisSession → Redis)"] = await _turns(seed, turns)
        await client.aclose()
    for name, times in results.items():
        rows.append(
            f"| {name} | {len(times)} | {statistics.median(times):.2f} | {_pct(times, 0.95):.2f} | {max(times):.2f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    print("### LangGraph: cost of get_tuple and put (v1.1 message-log routes)\n")
    print("\n".join(bench_langgraph(args.url, [10, 1000], args.repeats)))
    print("\n### OpenAI Agents SDK: one turn (get_items() + add_items of 2 items)\n")
    print("\n".join(asyncio.run(bench_sdk(args.url, args.redis, args.turns))))


if __name__ == "__main__":
    main()
