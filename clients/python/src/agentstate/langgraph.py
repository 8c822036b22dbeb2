"""A LangGraph checkpointer (``BaseCheckpointSaver``, langgraph-checkpoint 4.x) stored in agentstate.

Usage::

    from agentstate.langgraph import AgentStateSaver

    with AgentStateSaver("http://127.0.0.1:8080") as saver:
        graph = builder.compile(checkpointer=saver)
        graph.invoke(inputs, {"configurable": {"thread_id": "t1"}})

Mapping (agentstate v1.1 message-log API):

- One thread plus checkpoint namespace is one agentstate session of ``agent_id``, with the ID
  ``t<thread>~_<namespace>`` (both escaped as in ``agentstate._ids.escape``; a namespace that
  would make the ID longer than 128 characters is replaced by ``~Z<sha-256 prefix>``; a thread ID
  that is too long on its own raises ``ValueError``).
- Each checkpoint is one message ``{"k": "cp", …}`` with the message key ``cp:<checkpoint id>``,
  and each ``put_writes`` batch is one message ``{"k": "w", …}`` with the key
  ``w:<checkpoint id>:<n>`` (n = 0, 1, … per checkpoint; a taken n is a 409 ``key_conflict`` and
  the next one is tried). Ids that are not short visible ASCII go into keys as a sha-256 prefix.
  Every put and put_writes is exactly one atomic append. Values go through the saver's ``serde``
  (``dumps_typed``) and are stored base64-encoded.
- Writes keep the first value per (task, index) and the last one for the special channels, as
  ``InMemorySaver`` does.

Costs, independent of the thread's length: ``put`` is one request, ``put_writes`` one (the saver
remembers the next n per checkpoint). ``get_tuple`` for the latest checkpoint is one backward
read of the log's tail (``limit=8``; further pages, each 4× larger, only if the newest checkpoint
has more records after it); with a checkpoint id it is one ``GET …/messages?key=cp:<id>`` plus
one key lookup per writes batch and one that finds none. ``list(config, limit=k)`` for one thread and namespace pages
backwards (``before=``) through the newest k checkpoints; with ``before=`` it starts at that
checkpoint (found by key) and looks each returned checkpoint's writes up by key. ``prune`` and
``delete_for_runs`` read the log and replace it in one atomic ``PUT …/messages`` under
``If-Match`` (retried when another writer got in between); a kept log that does not fit one
request (1,000 records or the body limit) is written as a replace plus appends under ``If-Match``,
which is not atomic against a crash. ``list`` without a thread or namespace, ``copy_thread`` and
``delete_thread`` list the agent's sessions (there is no prefix listing on the server yet).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import weakref
from collections import OrderedDict
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
    MAX_PAGE,
    UNSET,
    Message,
    MessageList,
    AgentStateError,
    AsyncClient,
    Client,
    append_body,
    dumps,
)
from ._ids import MAX_ID_LENGTH, escape, to_id

__all__ = ["AgentStateSaver"]

_REWRITE_ATTEMPTS = 5
_TAIL_PAGE = 8
_KEY_ATTEMPTS = 10_000
_NEXT_WRITE_CACHE = 4096


def _key_part(value: str) -> str:
    if len(value) <= 96 and all(0x21 <= ord(ch) <= 0x7E for ch in value) and not value.startswith("#"):
        return value
    return "#" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:40]


def cp_key(checkpoint_id: str) -> str:
    """The message key of a checkpoint record."""
    return "cp:" + _key_part(str(checkpoint_id))


def writes_key(checkpoint_id: str, n: int) -> str:
    """The message key of the n-th writes record of a checkpoint."""
    return f"w:{_key_part(str(checkpoint_id))}:{n}"


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
        got = await self.read_log(agent, sid)
        return None if got is None else [m.data for m in got[0]]

    async def read_log(self, agent: str, sid: str) -> tuple[list[Message], int | None] | None:
        """Every message (ascending) and the session's version, from pages that all saw the same
        version (re-read when the log changed between pages); ``None`` for a missing session."""
        for _ in range(_REWRITE_ATTEMPTS):
            messages: list[Message] = []
            versions: set[int | None] = set()
            after = 0
            try:
                while True:
                    page = self.c.read_messages(agent, sid, limit=MAX_PAGE, after=after)
                    messages.extend(page.messages)
                    versions.add(page.version)
                    if page.next_after is None:
                        break
                    after = page.next_after
            except AgentStateError as e:
                if e.status == 404:
                    return None
                raise
            if len(versions) == 1:
                return messages, versions.pop()
        raise RuntimeError(f"session {sid} kept changing while it was read")

    async def page(self, agent: str, sid: str, before: int | None, limit: int) -> MessageList | None:
        try:
            if before is None:
                return self.c.read_messages(agent, sid, limit=limit)
            return self.c.read_messages(agent, sid, limit=limit, before=before)
        except AgentStateError as e:
            if e.status == 404:
                return None
            raise

    async def by_key(self, agent: str, sid: str, key: str) -> Message | None:
        return self.c.get_message_by_key(agent, sid, key)

    async def append(self, agent: str, sid: str, raw: list[str], **kw: Any) -> Any:
        return self.c.append_raw_messages(agent, sid, raw, **kw)

    async def replace(self, agent: str, sid: str, raw: list[str], **kw: Any) -> Any:
        return self.c.replace_raw_messages(agent, sid, raw, **kw)

    async def delete_message(self, agent: str, sid: str, seq: int) -> None:
        try:
            self.c.delete_message(agent, sid, seq)
        except AgentStateError as e:
            if e.status != 404:
                raise

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

    async def read_log(self, agent: str, sid: str) -> tuple[list[Message], int | None] | None:
        for _ in range(_REWRITE_ATTEMPTS):
            messages: list[Message] = []
            versions: set[int | None] = set()
            after = 0
            try:
                while True:
                    page = await self.c.read_messages(agent, sid, limit=MAX_PAGE, after=after)  # type: ignore[misc]
                    messages.extend(page.messages)
                    versions.add(page.version)
                    if page.next_after is None:
                        break
                    after = page.next_after
            except AgentStateError as e:
                if e.status == 404:
                    return None
                raise
            if len(versions) == 1:
                return messages, versions.pop()
        raise RuntimeError(f"session {sid} kept changing while it was read")

    async def page(self, agent: str, sid: str, before: int | None, limit: int) -> MessageList | None:
        try:
            if before is None:
                return await self.c.read_messages(agent, sid, limit=limit)  # type: ignore[misc]
            return await self.c.read_messages(agent, sid, limit=limit, before=before)  # type: ignore[misc]
        except AgentStateError as e:
            if e.status == 404:
                return None
            raise

    async def by_key(self, agent: str, sid: str, key: str) -> Message | None:
        return await self.c.get_message_by_key(agent, sid, key)  # type: ignore[misc]

    async def append(self, agent: str, sid: str, raw: list[str], **kw: Any) -> Any:
        return await self.c.append_raw_messages(agent, sid, raw, **kw)  # type: ignore[misc]

    async def replace(self, agent: str, sid: str, raw: list[str], **kw: Any) -> Any:
        return await self.c.replace_raw_messages(agent, sid, raw, **kw)  # type: ignore[misc]

    async def delete_message(self, agent: str, sid: str, seq: int) -> None:
        try:
            await self.c.delete_message(agent, sid, seq)  # type: ignore[misc]
        except AgentStateError as e:
            if e.status != 404:
                raise

    async def delete(self, agent: str, sid: str, if_match: int | None = None) -> None:
        try:
            await self.c.delete_session(agent, sid, if_match=if_match)  # type: ignore[misc]
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
        # (session, checkpoint id) -> the next writes-record number to try (a hint: a taken
        # number is a key_conflict and the next one is tried).
        self._next_write: OrderedDict[tuple[str, str], int] = OrderedDict()

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

    def _batches(self, items: list[tuple[str, str | None]]) -> list[list[tuple[str, str | None]]]:
        """Splits (raw record, key) pairs into requests of at most 1,000 and ``max_body_bytes``."""
        overhead = len(append_body([], keys=[])) + 64
        out: list[list[tuple[str, str | None]]] = []
        cur: list[tuple[str, str | None]] = []
        size = overhead
        for raw, key in items:
            n = len(raw.encode("utf-8")) + 1 + (len(dumps(key)) + 1 if key is not None else 5)
            if cur and (len(cur) >= MAX_MESSAGES_PER_APPEND or size + n > self._max_body):
                out.append(cur)
                cur, size = [], overhead
            cur.append((raw, key))
            size += n
        if cur:
            out.append(cur)
        return out

    # -- core (shared by sync and async) ----------------------------------------------------

    @staticmethod
    def _owned(rec: Any, thread_id: str, ns: str) -> bool:
        # A hashed namespace name could in theory collide; the records say whose they are.
        return isinstance(rec, dict) and rec.get("thread") == thread_id and rec.get("ns") == ns

    async def _writes_by_key(self, io: _SyncIO, sid: str, cid: str, thread_id: str, ns: str) -> list[dict[str, Any]]:
        """The writes records of one checkpoint, by key: ``w:<id>:0``, ``:1``, … until one is missing."""
        out: list[dict[str, Any]] = []
        for n in range(_KEY_ATTEMPTS):
            m = await io.by_key(self._agent, sid, writes_key(cid, n))
            if m is None:
                break
            if self._owned(m.data, thread_id, ns) and m.data.get("cp") == cid:
                out.append(m.data)
        return out

    async def _thread_sessions(self, io: _SyncIO, thread_id: str | None) -> list[str]:
        ids = await io.session_ids(self._agent)
        if thread_id is None:
            return sorted(i for i in ids if i.startswith("t") and "~_" in i)
        prefix = thread_prefix(thread_id)
        return sorted(i for i in ids if i.startswith(prefix))

    async def _backward(
        self, io: _SyncIO, sid: str, before: int | None, page_size: int
    ) -> AsyncIterator[Message]:
        """The session's messages newest first, from seq < ``before`` (from the end without it)."""
        while True:
            page = await io.page(self._agent, sid, before, page_size)
            if page is None:
                return
            for m in reversed(page.messages):
                yield m
            if not page.messages or page.messages[0].seq <= 1:
                return
            if before is None and len(page.messages) < page_size:
                return
            if before is not None and page.next_before is None:
                return
            before = page.messages[0].seq
            page_size = min(MAX_PAGE, page_size * 4)  # a tail page was not enough: grow

    async def _get_tuple(self, io: _SyncIO, config: RunnableConfig) -> CheckpointTuple | None:
        conf = config["configurable"]
        thread_id = str(conf["thread_id"])
        ns = conf.get("checkpoint_ns", "") or ""
        sid = session_id_for(thread_id, ns)
        cid = get_checkpoint_id(config)
        if cid:
            m = await io.by_key(self._agent, sid, cp_key(cid))
            if m is None or not self._owned(m.data, thread_id, ns) or m.data.get("id") != cid:
                return None
            writes = await self._writes_by_key(io, sid, cid, thread_id, ns)
            return self._tuple(_Log([m.data, *writes]), thread_id, ns, cid)
        # The latest checkpoint is the newest checkpoint record; every write to it lies after it.
        seen: list[dict[str, Any]] = []
        async for m in self._backward(io, sid, None, _TAIL_PAGE):
            if not self._owned(m.data, thread_id, ns):
                continue
            seen.append(m.data)
            if m.data.get("k") == "cp":
                seen.reverse()
                return self._tuple(_Log(seen), thread_id, ns, m.data["id"])
        return None

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

        def wanted(rec: dict[str, Any]) -> bool:
            cid = rec["id"]
            if want_id and cid != want_id:
                return False
            if before_id and cid >= before_id:
                return False
            if filter:
                md = self.serde.loads_typed(_unb64(rec["md"]))
                if not all(md.get(k) == v for k, v in filter.items()):
                    return False
            return True

        if thread_id is not None and ns_filter is not None:
            sid = session_id_for(thread_id, ns_filter)
            if want_id:
                m = await io.by_key(self._agent, sid, cp_key(want_id))
                if m is None or not self._owned(m.data, thread_id, ns_filter) or m.data.get("id") != want_id:
                    return out
                if not wanted(m.data):
                    return out
                writes = await self._writes_by_key(io, sid, want_id, thread_id, ns_filter)
                return [self._tuple(_Log([m.data, *writes]), thread_id, ns_filter, want_id)]
            start: int | None = None
            if before_id:
                m = await io.by_key(self._agent, sid, cp_key(before_id))
                if m is not None:
                    start = m.seq
            # Newest first. From the end, every write to a checkpoint lies among the records
            # already passed; from a `before` checkpoint, later writes may lie beyond it, so each
            # returned checkpoint's writes are looked up by key.
            after: list[dict[str, Any]] = []
            page = min(MAX_PAGE, max(_TAIL_PAGE, 4 * limit)) if limit is not None else MAX_PAGE
            async for m in self._backward(io, sid, start, page):
                rec = m.data
                if not self._owned(rec, thread_id, ns_filter):
                    continue
                if rec.get("k") == "w":
                    after.append(rec)
                    continue
                if rec.get("k") != "cp" or not wanted(rec):
                    continue
                cid = rec["id"]
                if start is None:
                    writes = [w for w in reversed(after) if w.get("cp") == cid]
                else:
                    writes = await self._writes_by_key(io, sid, cid, thread_id, ns_filter)
                out.append(self._tuple(_Log([rec, *writes]), thread_id, ns_filter, cid))
                if limit is not None and len(out) >= limit:
                    break
            return out

        logs: list[tuple[str, str, _Log]] = []
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
                if not wanted(log.checkpoints[cid]):
                    continue
                out.append(self._tuple(log, t, n, cid))
                if limit is not None and len(out) >= limit:
                    return out
        return out

    async def _put(
        self, io: _SyncIO, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata
    ) -> RunnableConfig:
        thread_id, ns, record = self._checkpoint_record(config, checkpoint, metadata)
        sid = session_id_for(thread_id, ns)
        key = cp_key(checkpoint["id"])
        raw = [dumps(record)]
        for _ in range(_REWRITE_ATTEMPTS):
            try:
                await io.append(self._agent, sid, raw, keys=[key], **self._ttl())
                break
            except AgentStateError as e:
                if e.code != "key_conflict":
                    raise
            # The same checkpoint again: the new record replaces the old one (its writes stay).
            old = await io.by_key(self._agent, sid, key)
            if old is not None:
                await io.delete_message(self._agent, sid, old.seq)
        else:
            raise RuntimeError(f"checkpoint {checkpoint['id']} kept being written concurrently")
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}}

    async def _put_writes(
        self, io: _SyncIO, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str
    ) -> None:
        if not writes:
            return
        conf = config["configurable"]
        thread_id = str(conf["thread_id"])
        ns = conf.get("checkpoint_ns", "") or ""
        cid = conf["checkpoint_id"]
        record = {
            "k": "w",
            "thread": thread_id,
            "ns": ns,
            "cp": cid,
            "task": task_id,
            "path": task_path,
            "w": [[c, WRITES_IDX_MAP.get(c, idx), _b64(self.serde.dumps_typed(v))] for idx, (c, v) in enumerate(writes)],
        }
        sid = session_id_for(thread_id, ns)
        raw = [dumps(record)]
        hint = (sid, cid)
        n = self._next_write.pop(hint, 0)
        for _ in range(_KEY_ATTEMPTS):
            try:
                await io.append(self._agent, sid, raw, keys=[writes_key(cid, n)], **self._ttl())
                break
            except AgentStateError as e:
                if e.code != "key_conflict":
                    raise
                n += 1
        else:
            raise RuntimeError(f"no free writes key for checkpoint {cid}")
        self._next_write[hint] = n + 1
        while len(self._next_write) > _NEXT_WRITE_CACHE:
            self._next_write.popitem(last=False)

    async def _delete_thread(self, io: _SyncIO, thread_id: str) -> None:
        self._next_write.clear()
        for sid in await self._thread_sessions(io, str(thread_id)):
            await io.delete(self._agent, sid)

    async def _rewrite(self, io: _SyncIO, sid: str, keep: Any) -> None:
        """Replaces a session's log with ``keep(records)`` in one ``PUT …/messages`` under
        ``If-Match`` (retried when another writer got in between). Records keep their keys."""
        self._next_write.clear()
        for _ in range(_REWRITE_ATTEMPTS):
            got = await io.read_log(self._agent, sid)
            if got is None:
                return
            messages, version = got
            kept_data = keep([m.data for m in messages])
            if len(kept_data) == len(messages):
                return
            kept_ids = {id(r) for r in kept_data}
            kept = [(dumps(m.data), m.key) for m in messages if id(m.data) in kept_ids]
            try:
                if not kept:
                    await io.delete(self._agent, sid, if_match=version)
                    return
                batches = self._batches(kept)
                first = batches[0]
                result = await io.replace(
                    self._agent, sid, [r for r, _ in first], keys=[k for _, k in first], if_match=version, **self._ttl()
                )
                version = result.version
                for batch in batches[1:]:  # only when the kept log does not fit one request
                    result = await io.append(
                        self._agent, sid, [r for r, _ in batch], keys=[k for _, k in batch], if_match=version,
                        **self._ttl(),
                    )
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
                            latest[owner] = r["id"]  # the newest checkpoint record of its owner
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
            got = await io.read_log(self._agent, sid)
            by_ns: dict[str, list[tuple[str, str | None]]] = {}
            for m in got[0] if got else []:
                r = m.data
                if not isinstance(r, dict) or r.get("thread") != source:
                    continue
                by_ns.setdefault(r["ns"], []).append((dumps({**r, "thread": target}), m.key))
            for ns, items in by_ns.items():
                for batch in self._batches(items):
                    await io.append(
                        self._agent, session_id_for(target, ns), [r for r, _ in batch], keys=[k for _, k in batch],
                        **self._ttl(),
                    )

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
