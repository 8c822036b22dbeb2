"""An OpenAI Agents SDK ``Session`` stored in agentstate.

Usage::

    from agents import Agent, Runner
    from agentstate.openai_agents import AgentStateSession

    session = AgentStateSession("user-42", agent_id="support-bot")
    await Runner.run(agent, "Hello", session=session)

Each SDK session is one agentstate session of ``agent_id``; each item is one message. The
session's state document is never touched (``clear_session`` keeps it).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Awaitable
from typing import Any, TypeVar

try:
    from agents.memory.session import SessionABC
    from agents.memory.session_settings import SessionSettings, coerce_session_settings, resolve_session_limit
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "agentstate.openai_agents needs the OpenAI Agents SDK: pip install 'agentstate[openai-agents]'"
    ) from error

from ._client import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_BODY_BYTES,
    MAX_MESSAGES_PER_APPEND,
    MAX_PAGE,
    UNSET,
    AgentStateError,
    AsyncClient,
    append_body,
    dumps,
)
from ._ids import to_id

__all__ = ["AgentStateSession"]

_T = TypeVar("_T")


async def _await_mutation(awaitable: Awaitable[_T]) -> _T:
    """Finish a mutation that may already have reached the server, even if the caller is
    cancelled meanwhile; the cancellation is re-raised once the outcome is known."""
    task = asyncio.ensure_future(awaitable)
    cancellation: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError as exc:
            if cancellation is None:
                cancellation = exc
    result = task.result() if cancellation is None else None
    if cancellation is not None:
        task.exception()  # mark retrieved
        raise cancellation from None
    return result  # type: ignore[return-value]


def _batches(raw: list[str], max_items: int, max_body: int) -> list[list[str]]:
    """Splits serialised items into appends of at most ``max_items`` and ``max_body`` bytes.

    A single item that alone exceeds the body limit goes alone, and the server answers 413.
    """
    overhead = len(append_body([])) + 64  # room for ttl members
    batches: list[list[str]] = []
    current: list[str] = []
    size = overhead
    for item in raw:
        item_size = len(item.encode("utf-8")) + 1
        if current and (len(current) >= max_items or size + item_size > max_body):
            batches.append(current)
            current, size = [], overhead
        current.append(item)
        size += item_size
    if current:
        batches.append(current)
    return batches


class AgentStateSession(SessionABC):
    """A ``Session`` (openai-agents 0.24) backed by agentstate's message log.

    No I/O happens in the constructor. ``session_id`` and ``agent_id`` that are valid agentstate
    IDs (and contain no ``~``) are used as they are; other strings map deterministically and
    injectively to valid IDs (``agentstate.to_id``), and ones that would be too long raise
    ``ValueError``.
    """

    session_settings: SessionSettings | None = None

    def __init__(
        self,
        session_id: str,
        *,
        agent_id: str,
        base_url: str = DEFAULT_BASE_URL,
        ttl_seconds: int | None = None,
        sliding_ttl: bool = False,
        token: str | None = None,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        timeout: float = 10.0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.session_id = session_id
        self.agent_id = agent_id
        self._agent = to_id(agent_id, what="agent_id")
        self._session = to_id(session_id, what="session_id")
        self.base_url = base_url
        self.ttl_seconds = ttl_seconds
        self.sliding_ttl = sliding_ttl
        self.session_settings = coerce_session_settings(session_settings) if session_settings is not None else SessionSettings()
        self._token = token
        self._timeout = timeout
        self._max_body = max_body_bytes
        self._closed = False
        # httpx's async pool belongs to one event loop, so each loop gets its own client
        # (Runner.run_sync in a thread, then Runner.run in the main loop, both work).
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncClient] = weakref.WeakKeyDictionary()
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    # -- plumbing ---------------------------------------------------------------------------

    def _check_not_closed(self) -> None:
        if self._closed:
            raise RuntimeError("AgentStateSession is closed")

    def _client(self) -> AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = AsyncClient(self.base_url, token=self._token, timeout=self._timeout)
            self._clients[loop] = client
        return client

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[loop] = lock
        return lock

    def _ttl(self) -> dict[str, Any]:
        # Every append states the policy, so a session created by an append gets it too.
        return {"ttl_seconds": self.ttl_seconds if self.ttl_seconds is not None else UNSET, "sliding_ttl": self.sliding_ttl}

    # -- Session protocol -------------------------------------------------------------------

    async def get_items(self, limit: int | None = None) -> list[Any]:
        """The latest ``limit`` items in chronological order (all of them when ``limit`` is None)."""
        self._check_not_closed()
        effective = resolve_session_limit(limit, self.session_settings)
        if effective is not None and effective <= 0:
            return []
        client = self._client()
        try:
            if effective is not None and effective <= MAX_PAGE:
                page = await client.read_messages(self._agent, self._session, limit=effective)
                return [m.data for m in page.messages]
            if effective is None:
                # Everything: page forward, 1,000 per request.
                return [m.data async for m in client.iter_messages(self._agent, self._session)]
            # More than one page: page backwards from the newest message with `before=`, so this
            # costs O(limit), not O(total).
            newest_first: list[Any] = []
            async for message in client.iter_messages_backward(self._agent, self._session):
                newest_first.append(message.data)
                if len(newest_first) >= effective:
                    break
            newest_first.reverse()
            return newest_first
        except AgentStateError as error:
            if error.status == 404:
                return []
            raise

    async def add_items(self, items: list[Any]) -> None:
        """Appends the items in order. Items are serialised before the first request (a non-JSON
        item raises ``TypeError`` and nothing is sent), then sent in appends of at most 1,000
        items and ``max_body_bytes``; each append is atomic and carries its own
        ``Idempotency-Key``, which a retry reuses. A list that needs several appends is not
        atomic as a whole."""
        self._check_not_closed()
        if not items:
            return
        try:
            raw = [dumps(item) for item in items]
        except ValueError as error:  # NaN / infinity
            raise TypeError(f"item is not JSON: {error}") from error
        async with self._lock():
            self._check_not_closed()
            client = self._client()
            for batch in _batches(raw, MAX_MESSAGES_PER_APPEND, self._max_body):
                await _await_mutation(
                    client.append_raw_messages(
                        self._agent, self._session, batch, idempotency_key=f"oa-{uuid.uuid4().hex}", **self._ttl()
                    )
                )

    async def pop_item(self) -> Any | None:
        """Removes and returns the newest item; ``None`` when there is none. Never retried once it
        may have reached the server (a pop has no idempotency key), and once sent it completes
        even if the caller is cancelled."""
        self._check_not_closed()
        async with self._lock():
            self._check_not_closed()
            try:
                message = await _await_mutation(self._client().pop_message(self._agent, self._session))
            except AgentStateError as error:
                if error.status == 404:
                    return None
                raise
            return message.data

    async def clear_session(self) -> None:
        """Clears the items; the agentstate session and its state document stay."""
        self._check_not_closed()
        async with self._lock():
            self._check_not_closed()
            try:
                await _await_mutation(self._client().clear_messages(self._agent, self._session))
            except AgentStateError as error:
                if error.status != 404:
                    raise

    async def _atomic_replace_items(self, items: list[Any]) -> bool:
        """Hook of the SDK's compaction: replace the history in one step with ``PUT …/messages``
        (atomic, one request). Returns False, so that the SDK falls back to ``clear_session`` +
        ``add_items``, for a subclass (which may transform items) and for a history that does not
        fit one request (more than 1,000 items or ``max_body_bytes``)."""
        if type(self) is not AgentStateSession:
            return False
        self._check_not_closed()
        try:
            raw = [dumps(item) for item in items]
        except ValueError as error:  # NaN / infinity
            raise TypeError(f"item is not JSON: {error}") from error
        if len(_batches(raw, MAX_MESSAGES_PER_APPEND, self._max_body)) > 1:
            return False
        async with self._lock():
            self._check_not_closed()
            await _await_mutation(self._client().replace_raw_messages(self._agent, self._session, raw, **self._ttl()))
        return True

    # -- extras -----------------------------------------------------------------------------

    async def ping(self) -> bool:
        """True when agentstate answers ``/readyz`` with ready."""
        self._check_not_closed()
        try:
            body = await self._client().readyz()
        except AgentStateError:
            return False
        return body.get("status") == "ready"

    async def close(self) -> None:
        """Closes the HTTP client; the session is terminal afterwards (operations raise RuntimeError)."""
        self._closed = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover
            loop = None
        clients = list(self._clients.items())
        self._clients.clear()
        for client_loop, client in clients:
            if client_loop is loop:
                await client.aclose()
            # Clients of other loops cannot be closed from here; their loops own their sockets.

    async def __aenter__(self) -> AgentStateSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
