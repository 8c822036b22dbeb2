"""A LangGraph checkpointer (``BaseCheckpointSaver``, langgraph-checkpoint 4.x) stored in agentstate.

Usage::

    from agentstate.langgraph import AgentStateSaver

    with AgentStateSaver("http://127.0.0.1:8080") as saver:
        graph = builder.compile(checkpointer=saver)
        graph.invoke(inputs, {"configurable": {"thread_id": "t1"}})

Mapping (agentstate v1 API):

- One thread plus checkpoint namespace is one agentstate session of ``agent_id``, with the ID
  ``t<thread>~_<namespace>`` (both escaped as in ``agentstate._ids.escape``; a namespace that
  would make the ID longer than 128 characters is replaced by ``~Z<sha-256 prefix>``; a thread ID
  that is too long on its own raises ``ValueError``).
- Each checkpoint is one message ``{"k": "cp", …}`` and each ``put_writes`` batch is one message
  ``{"k": "w", …}``: every put and put_writes is exactly one atomic append. Values go through the
  saver's ``serde`` (``dumps_typed``) and are stored base64-encoded.
- Reads fold the session's log: the last record of a checkpoint ID wins; writes keep the first
  value per (task, index) and the last one for the special channels, as ``InMemorySaver`` does.

Costs with the v1 routes: ``put`` and ``put_writes`` are one request each. ``get_tuple`` and
``list`` read the whole log of the session (one request per 1,000 records); ``delete_thread``
lists the agent's sessions to find the thread's namespaces. ``prune`` and ``delete_for_runs``
rewrite a log as a clear followed by appends, guarded by ``If-Match``: not atomic, a crash in
between leaves the log empty or partly written. The v1.1 message-log routes (``before=``,
message keys, trim, ``PUT …/messages``, prefix delete) make ``get_tuple``/``put`` O(1),
``list(limit=k)`` O(k) and ``prune`` atomic; they are not used yet (each place is marked "v1.1:").
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

try:
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import (
        WRITES_IDX_MAP,
        BaseCheckpointSaver,
        ChannelVersions,
        Checkpoint,
        CheckpointMetadata,
        CheckpointTuple,
        SerializerProtocol,
        get_checkpoint_id,
        get_checkpoint_metadata,
        writes_sort_key,
    )
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError("agentstate.langgraph needs langgraph-checkpoint: pip install 'agentstate[langgraph]'") from error

from ._client import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_BODY_BYTES,
    MAX_MESSAGES_PER_APPEND,
    UNSET,
    AgentStateError,
    AsyncClient,
    Client,
    append_body,
    dumps,
)
from ._ids import MAX_ID_LENGTH, escape, to_id

__all__ = ["AgentStateSaver"]

# The v1.1 message-log routes (before=, keys, trim, PUT …/messages, prefix delete) are not on
# this server version. Every place that switches to them is marked "v1.1:" below.
_REWRITE_ATTEMPTS = 5


def thread_prefix(thread_id: str) -> str:
    """The prefix shared by the session IDs of every namespace of ``thread_id``."""
    if not isinstance(thread_id, str):
        thread_id = str(thread_id)
    return "t" + escape(thread_id) + "~_"


def session_id_for(thread_id: str, checkpoint_ns: str) -> str:
    """The agentstate session ID of one thread and namespace."""
    prefix = thread_prefix(thread_id)
    sid = prefix + escape(checkpoint_ns)
    if len(sid) <= MAX_ID_LENGTH:
        return sid
    # "~Z" never occurs in escape()'s output, so hashed names cannot collide with plain ones.
    hashed = prefix + "~Z" + hashlib.sha256(checkpoint_ns.encode("utf-8")).hexdigest()[:40]
    if len(hashed) > MAX_ID_LENGTH:
        raise ValueError(f"thread_id {thread_id!r} is too long for an agentstate session ID")
    return hashed


def _b64(typed: tuple[str, bytes]) -> list[str]:
    return [typed[0], base64.b64encode(typed[1]).decode("ascii")]


def _unb64(value: list[str]) -> tuple[str, bytes]:
    return value[0], base64.b64decode(value[1])


class _Log:
    """The folded log of one session (one thread and namespace)."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.checkpoints: dict[str, dict[str, Any]] = {}
        self.writes: dict[str, dict[tuple[str, int], tuple[str, str, list[str], str]]] = {}
        for rec in records:
            kind = rec.get("k")
            if kind == "cp":
                self.checkpoints[rec["id"]] = rec
            elif kind == "w":
                stored = self.writes.setdefault(rec["cp"], {})
                for channel, idx, value in rec["w"]:
                    key = (rec["task"], idx)
                    if idx >= 0 and key in stored:
                        continue
                    stored[key] = (rec["task"], channel, value, rec.get("path", ""))


class _SyncIO:
    """The saver's storage calls over ``Client``. Its coroutines never suspend, so the sync
    methods drive the same code as the async ones with ``_drive``."""

    def __init__(self, client: Client) -> None:
        self.c = client

    async def read_all(self, agent: str, sid: str) -> list[dict[str, Any]] | None:
        try:
            return [m.data for m in self.c.iter_messages(agent, sid)]
        except AgentStateError as e:
            if e.status == 404:
                return None
            raise

    async def append(self, agent: str, sid: str, raw: list[str], **kw: Any) -> Any:
        return self.c.append_raw_messages(agent, sid, raw, **kw)

    async def version(self, agent: str, sid: str) -> int | None:
        try:
            return self.c.head_session(agent, sid)
        except AgentStateError as e:
            if e.status == 404:
                return None
            raise

    async def clear(self, agent: str, sid: str, if_match: int) -> int | None:
        return self.c.clear_messages(agent, sid, if_match=if_match)

    async def delete(self, agent: str, sid: str, if_match: int | None = None) -> None:
        try:
            self.c.delete_session(agent, sid, if_match=if_match)
        except AgentStateError as e:
            if e.status != 404:
                raise

    async def session_ids(self, agent: str) -> list[str]:
        return [s.session_id for s in self.c.iter_sessions(agent)]


class _AsyncIO(_SyncIO):
    def __init__(self, client: AsyncClient) -> None:  # type: ignore[override]
        self.c = client  # type: ignore[assignment]

    async def read_all(self, agent: str, sid: str) -> list[dict[str, Any]] | None:
        try:
            return [m.data async for m in self.c.iter_messages(agent, sid)]  # type: ignore[attr-defined]
        except AgentStateError as e:
            if e.status == 404:
                return None
            raise

    async def append(self, agent: str, sid: str, raw: list[str], **kw: Any) -> Any:
        return await self.c.append_raw_messages(agent, sid, raw, **kw)

    async def version(self, agent: str, sid: str) -> int | None:
        try:
            return await self.c.head_session(agent, sid)
        except AgentStateError as e:
            if e.status == 404:
                return None
            raise

    async def clear(self, agent: str, sid: str, if_match: int) -> int | None:
        return await self.c.clear_messages(agent, sid, if_match=if_match)

    async def delete(self, agent: str, sid: str, if_match: int | None = None) -> None:
        try:
            await self.c.delete_session(agent, sid, if_match=if_match)
        except AgentStateError as e:
            if e.status != 404:
                raise

    async def session_ids(self, agent: str) -> list[str]:
        return [s.session_id async for s in self.c.iter_sessions(agent)]  # type: ignore[attr-defined]


def _drive(coro: Any) -> Any:
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("internal error: a sync storage call suspended")


class AgentStateSaver(BaseCheckpointSaver[int]):
    """A LangGraph checkpointer backed by agentstate, sync and async."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        agent_id: str = "langgraph",
        token: str | None = None,
        ttl_seconds: int | None = None,
        timeout: float = 10.0,
        serde: SerializerProtocol | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        super().__init__(serde=serde)
        self.base_url = base_url
        self.agent_id = agent_id
        self._agent = to_id(agent_id, what="agent_id")
        self.ttl_seconds = ttl_seconds
        self._token = token
        self._timeout = timeout
        self._max_body = max_body_bytes
        self._sync_client: Client | None = None
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncClient] = weakref.WeakKeyDictionary()

    # -- clients ----------------------------------------------------------------------------

    def _sync_io(self) -> _SyncIO:
        if self._sync_client is None:
            self._sync_client = Client(self.base_url, token=self._token, timeout=self._timeout)
        return _SyncIO(self._sync_client)

    def _async_io(self) -> _AsyncIO:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = AsyncClient(self.base_url, token=self._token, timeout=self._timeout)
            self._async_clients[loop] = client
        return _AsyncIO(client)

    def close(self) -> None:
        if self._sync_client is not None:
            self._sync_client.close()
            self._sync_client = None

    async def aclose(self) -> None:
        self.close()
        loop = asyncio.get_running_loop()
        client = self._async_clients.pop(loop, None)
        if client is not None:
            await client.aclose()

    def __enter__(self) -> AgentStateSaver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> AgentStateSaver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- records ----------------------------------------------------------------------------

    def _ttl(self) -> dict[str, Any]:
        return {"ttl_seconds": self.ttl_seconds if self.ttl_seconds is not None else UNSET}

    def _checkpoint_record(
        self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata
    ) -> tuple[str, str, dict[str, Any]]:
        conf = config["configurable"]
        thread_id = str(conf["thread_id"])
        ns = conf.get("checkpoint_ns", "") or ""
        c = dict(checkpoint)
        versions = c.get("channel_versions", {})
        # Only channels with a version are part of the checkpoint (InMemorySaver loads blobs by
        # version, so a channel that was dropped from channel_versions disappears).
        c["channel_values"] = {k: v for k, v in c.get("channel_values", {}).items() if k in versions}
        md = get_checkpoint_metadata(config, metadata)
        record = {
            "k": "cp",
            "thread": thread_id,
            "ns": ns,
            "id": checkpoint["id"],
            "parent": conf.get("checkpoint_id"),
            "cp": _b64(self.serde.dumps_typed(c)),
            "md": _b64(self.serde.dumps_typed(md)),
        }
        return thread_id, ns, record

    def _tuple(self, log: _Log, thread_id: str, ns: str, cid: str) -> CheckpointTuple:
        rec = log.checkpoints[cid]
        stored = log.writes.get(cid, {})
        ordered = sorted(stored, key=lambda k: writes_sort_key(stored[k][3], *k))
        parent = rec.get("parent")
        return CheckpointTuple(
            config={"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": cid}},
            checkpoint=self.serde.loads_typed(_unb64(rec["cp"])),
            metadata=self.serde.loads_typed(_unb64(rec["md"])),
            parent_config=(
                {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": parent}}
                if parent
                else None
            ),
            pending_writes=[
                (stored[k][0], stored[k][1], self.serde.loads_typed(_unb64(stored[k][2]))) for k in ordered
            ],
        )

    def _batches(self, raw: list[str]) -> list[list[str]]:
        overhead = len(append_body([])) + 64
        out: list[list[str]] = []
        cur: list[str] = []
        size = overhead
        for item in raw:
            n = len(item.encode("utf-8")) + 1
            if cur and (len(cur) >= MAX_MESSAGES_PER_APPEND or size + n > self._max_body):
                out.append(cur)
                cur, size = [], overhead
            cur.append(item)
            size += n
        if cur:
            out.append(cur)
        return out

    # -- core (shared by sync and async) ----------------------------------------------------

    async def _load(self, io: _SyncIO, thread_id: str, ns: str) -> _Log | None:
        records = await io.read_all(self._agent, session_id_for(thread_id, ns))
        if records is None:
            return None
        # A hashed namespace name could in theory collide; the records say whose they are.
        return _Log([r for r in records if r.get("thread") == thread_id and r.get("ns") == ns])

    async def _thread_sessions(self, io: _SyncIO, thread_id: str | None) -> list[str]:
        # v1.1: `GET /agents/{a}/sessions?prefix=` lists exactly these in O(page).
        ids = await io.session_ids(self._agent)
        if thread_id is None:
            return sorted(i for i in ids if i.startswith("t") and "~_" in i)
        prefix = thread_prefix(thread_id)
        return sorted(i for i in ids if i.startswith(prefix))

    async def _get_tuple(self, io: _SyncIO, config: RunnableConfig) -> CheckpointTuple | None:
        # v1.1: give each checkpoint record the message key "cp:<id>" and each writes record
        # "w:<id>:<task>:<n>"; a specific checkpoint is then `GET …/messages?key=cp:<id>`, the
        # latest one a backward read (`before=`) from the end, and its writes follow it in the log.
        conf = config["configurable"]
        thread_id = str(conf["thread_id"])
        ns = conf.get("checkpoint_ns", "") or ""
        log = await self._load(io, thread_id, ns)
        if log is None or not log.checkpoints:
            return None
        cid = get_checkpoint_id(config)
        if cid:
            if cid not in log.checkpoints:
                return None
        else:
            cid = max(log.checkpoints)
        return self._tuple(log, thread_id, ns, cid)

    async def _list(
        self,
        io: _SyncIO,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> list[CheckpointTuple]:
        out: list[CheckpointTuple] = []
        if limit is not None and limit <= 0:
            return out
        conf = config["configurable"] if config else {}
        thread_id = str(conf["thread_id"]) if conf.get("thread_id") is not None else None
        ns_filter = conf.get("checkpoint_ns")
        want_id = get_checkpoint_id(config) if config else None
        before_id = get_checkpoint_id(before) if before else None

        logs: list[tuple[str, str, _Log]] = []
        if thread_id is not None and ns_filter is not None:
            log = await self._load(io, thread_id, ns_filter)
            if log is not None:
                logs.append((thread_id, ns_filter, log))
        else:
            for sid in await self._thread_sessions(io, thread_id):
                records = await io.read_all(self._agent, sid)
                by_owner: dict[tuple[str, str], list[dict[str, Any]]] = {}
                for r in records or []:
                    by_owner.setdefault((r.get("thread"), r.get("ns")), []).append(r)
                for (t, n), recs in by_owner.items():
                    if t is None or n is None or (thread_id is not None and t != thread_id):
                        continue
                    if ns_filter is not None and n != ns_filter:
                        continue
                    logs.append((t, n, _Log(recs)))

        for t, n, log in logs:
            for cid in sorted(log.checkpoints, reverse=True):
                if want_id and cid != want_id:
                    continue
                if before_id and cid >= before_id:
                    continue
                if filter:
                    md = self.serde.loads_typed(_unb64(log.checkpoints[cid]["md"]))
                    if not all(md.get(k) == v for k, v in filter.items()):
                        continue
                out.append(self._tuple(log, t, n, cid))
                if limit is not None and len(out) >= limit:
                    return out
        return out

    async def _put(  # v1.1: the same single append, with the record's message key
        self, io: _SyncIO, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata
    ) -> RunnableConfig:
        thread_id, ns, record = self._checkpoint_record(config, checkpoint, metadata)
        await io.append(self._agent, session_id_for(thread_id, ns), [dumps(record)], **self._ttl())
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}}

    async def _put_writes(
        self, io: _SyncIO, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str
    ) -> None:
        if not writes:
            return
        conf = config["configurable"]
        thread_id = str(conf["thread_id"])
        ns = conf.get("checkpoint_ns", "") or ""
        record = {
            "k": "w",
            "thread": thread_id,
            "ns": ns,
            "cp": conf["checkpoint_id"],
            "task": task_id,
            "path": task_path,
            "w": [[c, WRITES_IDX_MAP.get(c, idx), _b64(self.serde.dumps_typed(v))] for idx, (c, v) in enumerate(writes)],
        }
        await io.append(self._agent, session_id_for(thread_id, ns), [dumps(record)], **self._ttl())

    async def _delete_thread(self, io: _SyncIO, thread_id: str) -> None:
        # v1.1: one `DELETE /agents/{a}/sessions?prefix=<thread prefix>`.
        for sid in await self._thread_sessions(io, str(thread_id)):
            await io.delete(self._agent, sid)

    async def _rewrite(self, io: _SyncIO, sid: str, keep: Any) -> None:
        """Replaces a session's log with ``keep(records)``. v1: read, then clear and append under
        ``If-Match`` (retried when another writer got in between); not atomic against a crash.
        v1.1: one ``PUT …/messages`` (or a trim)."""
        for _ in range(_REWRITE_ATTEMPTS):
            version = await io.version(self._agent, sid)
            if version is None:
                return
            records = await io.read_all(self._agent, sid) or []
            kept = keep(records)
            if len(kept) == len(records):
                return
            try:
                if not kept:
                    await io.delete(self._agent, sid, if_match=version)
                    return
                version = await io.clear(self._agent, sid, if_match=version)
                for batch in self._batches([dumps(r) for r in kept]):
                    result = await io.append(self._agent, sid, batch, if_match=version, **self._ttl())
                    version = result.version
                return
            except AgentStateError as e:
                if e.status != 412:
                    raise
        raise RuntimeError(f"session {sid} kept changing while it was rewritten")

    async def _prune(self, io: _SyncIO, thread_ids: Sequence[str], strategy: str) -> None:
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"unknown prune strategy {strategy!r}")
        for thread_id in thread_ids:
            if strategy == "delete":
                await self._delete_thread(io, thread_id)
                continue
            for sid in await self._thread_sessions(io, str(thread_id)):

                def keep(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
                    latest: dict[tuple[Any, Any], str] = {}
                    for r in records:
                        if r.get("k") == "cp":
                            owner = (r.get("thread"), r.get("ns"))
                            latest[owner] = max(latest.get(owner, ""), r["id"])
                    keep_ids = set(latest.values())
                    return [
                        r for r in records
                        if (r.get("k") == "cp" and r["id"] in keep_ids) or (r.get("k") == "w" and r["cp"] in keep_ids)
                    ]

                await self._rewrite(io, sid, keep)

    async def _delete_for_runs(self, io: _SyncIO, run_ids: Sequence[str]) -> None:
        runs = set(run_ids)
        if not runs:
            return
        for sid in await self._thread_sessions(io, None):

            def keep(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
                gone = {
                    r["id"]
                    for r in records
                    if r.get("k") == "cp" and self.serde.loads_typed(_unb64(r["md"])).get("run_id") in runs
                }
                return [
                    r for r in records
                    if not ((r.get("k") == "cp" and r["id"] in gone) or (r.get("k") == "w" and r["cp"] in gone))
                ]

            await self._rewrite(io, sid, keep)

    async def _copy_thread(self, io: _SyncIO, source: str, target: str) -> None:
        source, target = str(source), str(target)
        for sid in await self._thread_sessions(io, source):
            records = await io.read_all(self._agent, sid) or []
            by_ns: dict[str, list[str]] = {}
            for r in records:
                if r.get("thread") != source:
                    continue
                by_ns.setdefault(r["ns"], []).append(dumps({**r, "thread": target}))
            for ns, raw in by_ns.items():
                for batch in self._batches(raw):
                    await io.append(self._agent, session_id_for(target, ns), batch, **self._ttl())

    # -- BaseCheckpointSaver: sync ----------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return _drive(self._get_tuple(self._sync_io(), config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        yield from _drive(self._list(self._sync_io(), config, filter, before, limit))

    def put(
        self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, new_versions: ChannelVersions
    ) -> RunnableConfig:
        return _drive(self._put(self._sync_io(), config, checkpoint, metadata))

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        _drive(self._put_writes(self._sync_io(), config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        _drive(self._delete_thread(self._sync_io(), thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        _drive(self._delete_for_runs(self._sync_io(), run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        _drive(self._copy_thread(self._sync_io(), source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        _drive(self._prune(self._sync_io(), thread_ids, strategy))

    # -- BaseCheckpointSaver: async ---------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await self._get_tuple(self._async_io(), config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for item in await self._list(self._async_io(), config, filter, before, limit):
            yield item

    async def aput(
        self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, new_versions: ChannelVersions
    ) -> RunnableConfig:
        return await self._put(self._async_io(), config, checkpoint, metadata)

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        await self._put_writes(self._async_io(), config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._delete_thread(self._async_io(), thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await self._delete_for_runs(self._async_io(), run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self._copy_thread(self._async_io(), source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await self._prune(self._async_io(), thread_ids, strategy)
