"""HTTP clients for the agentstate v1.1 API (sync and async), typed results and errors."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

__all__ = [
    "AgentStateError",
    "AppendResult",
    "AsyncClient",
    "Client",
    "Message",
    "MessageList",
    "ReplaceResult",
    "SaveResult",
    "Session",
    "SessionList",
    "SessionSummary",
    "TrimResult",
    "UNSET",
    "dumps",
]

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
MAX_MESSAGES_PER_APPEND = 1000
MAX_PAGE = 1000
DEFAULT_MAX_BODY_BYTES = 1_048_576


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()
"""Leaves a field out of the request (for ``ttl_seconds``, where ``None`` means "never expires")."""


class AgentStateError(Exception):
    """An error answer of agentstate (``application/problem+json``), or a transport failure.

    ``status`` is the HTTP status (``None`` when no answer arrived), ``code`` the problem's stable
    ``code`` (``"connection_error"`` for transport failures), ``request_id`` the ``X-Request-Id``
    of the answer, and ``problem`` the whole problem body (``{}`` when there was none).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        code: str | None,
        request_id: str | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.problem: dict[str, Any] = problem or {}

    @property
    def current_version(self) -> int | None:
        """On a 412: the session's current version (``None`` when it is missing)."""
        return self.problem.get("current_version")

    @classmethod
    def from_response(cls, response: httpx.Response) -> AgentStateError:
        problem: dict[str, Any] = {}
        if response.content:
            try:
                decoded = response.json()
                if isinstance(decoded, dict):
                    problem = decoded
            except ValueError:
                pass
        code = problem.get("code")
        detail = problem.get("detail") or response.reason_phrase
        request_id = response.headers.get("x-request-id") or problem.get("request_id")
        message = f"{response.status_code} {code or 'error'}: {detail}"
        if request_id:
            message += f" (request {request_id})"
        return cls(message, status=response.status_code, code=code, request_id=request_id, problem=problem)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _etag_version(response: httpx.Response) -> int | None:
    tag = response.headers.get("etag")
    if tag and len(tag) >= 3 and tag[0] == '"' and tag[-1] == '"' and tag[1:-1].isdigit():
        return int(tag[1:-1])
    return None


@dataclass(frozen=True)
class SessionSummary:
    """A session without its state (the answer of a save, and an entry of a list)."""

    agent_id: str
    session_id: str
    version: int
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    ttl_seconds: int | None
    sliding_ttl: bool
    message_count: int
    state_bytes: int
    message_bytes: int

    @classmethod
    def _fields_from(cls, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "agent_id": body["agent_id"],
            "session_id": body["session_id"],
            "version": body["version"],
            "created_at": _time(body["created_at"]),
            "updated_at": _time(body["updated_at"]),
            "expires_at": _time(body.get("expires_at")),
            "ttl_seconds": body.get("ttl_seconds"),
            "sliding_ttl": body.get("sliding_ttl", False),
            "message_count": body.get("message_count", 0),
            "state_bytes": body.get("state_bytes", 0),
            "message_bytes": body.get("message_bytes", 0),
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SessionSummary:
        return cls(**cls._fields_from(body))


@dataclass(frozen=True)
class SaveResult(SessionSummary):
    """The answer of ``save_session``: ``created`` is True for 201, False for 200."""

    created: bool = False


@dataclass(frozen=True)
class Session(SessionSummary):
    """A session with its state (``None`` when never set)."""

    state: Any = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Session:
        return cls(**cls._fields_from(body), state=body.get("state"))


@dataclass(frozen=True)
class SessionList:
    sessions: list[SessionSummary]
    next_cursor: str | None


@dataclass(frozen=True)
class AppendResult:
    version: int
    first_seq: int
    last_seq: int
    message_count: int


@dataclass(frozen=True)
class ReplaceResult:
    """The answer of ``replace_messages``: ``first_seq``/``last_seq`` are ``None`` for an empty
    log; ``created`` is True when the replace created the session (201)."""

    version: int
    first_seq: int | None
    last_seq: int | None
    message_count: int
    created: bool


@dataclass(frozen=True)
class TrimResult:
    """The answer of ``trim_messages``: how many messages went, and the session's version."""

    deleted: int
    version: int


@dataclass(frozen=True)
class Message:
    seq: int
    data: Any
    key: str | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Message:
        return cls(body["seq"], body["data"], body.get("key"))


@dataclass(frozen=True)
class MessageList:
    """A page of messages, ascending seq. ``next_after`` is set by ``after=`` reads with more to
    come, ``next_before`` by ``before=`` reads (and latest-``limit`` reads have neither), and
    ``version`` is the session's version (the answer's ETag). ``None`` from a read means 304."""

    messages: list[Message]
    next_after: int | None
    next_before: int | None = None
    version: int | None = None


def dumps(value: Any) -> str:
    """Compact JSON as agentstate stores it. Raises ``TypeError`` or ``ValueError`` (NaN) for non-JSON values."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


T = TypeVar("T")


@dataclass
class _Op(Generic[T]):
    """One request: everything but the transport. Both clients execute the same ops."""

    method: str
    path: str
    ok: tuple[int, ...]
    parse: Callable[[httpx.Response], T]
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    @property
    def retry_503(self) -> bool:
        # 503 means nothing was written, but only requests that the server can deduplicate or
        # that a precondition guards may be sent again: another writer may have won meanwhile.
        return "Idempotency-Key" in self.headers or "If-Match" in self.headers

    def finish(self, response: httpx.Response) -> T:
        if response.status_code not in self.ok:
            raise AgentStateError.from_response(response)
        return self.parse(response)


def _seg(value: str) -> str:
    return quote(value, safe="")


def _session_path(agent_id: str, session_id: str) -> str:
    return f"/agents/{_seg(agent_id)}/sessions/{_seg(session_id)}"


def _json_body(members: dict[str, Any]) -> bytes:
    return dumps(members).encode("utf-8")


def _ttl_members(ttl_seconds: Any, sliding_ttl: bool | None) -> dict[str, Any]:
    members: dict[str, Any] = {}
    if ttl_seconds is not UNSET:
        members["ttl_seconds"] = ttl_seconds
    if sliding_ttl is not None:
        members["sliding_ttl"] = sliding_ttl
    return members


def _precondition_headers(if_match: int | str | None, if_none_match: str | None = None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if if_match is not None:
        headers["If-Match"] = f'"{if_match}"' if isinstance(if_match, int) else if_match
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    return headers


def append_body(
    raw_messages: Sequence[str],
    ttl_seconds: Any = UNSET,
    sliding_ttl: bool | None = None,
    keys: Sequence[str | None] | None = None,
) -> bytes:
    """The body of a message POST or PUT from already serialised messages (see ``dumps``)."""
    extra = _ttl_members(ttl_seconds, sliding_ttl)
    if keys is not None:
        if len(keys) != len(raw_messages):
            raise ValueError(f"{len(keys)} keys for {len(raw_messages)} messages")
        extra = {"keys": list(keys), **extra}
    tail = "".join(f",{dumps(k)}:{dumps(v)}" for k, v in extra.items())
    return ('{"messages":[' + ",".join(raw_messages) + "]" + tail + "}").encode("utf-8")


class _Routes:
    """One method per route of the v1.1 API. Each returns ``self._run(op)``: the result for
    ``Client``, an awaitable of it for ``AsyncClient``."""

    def _run(self, op: _Op[Any]) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- sessions ---------------------------------------------------------------------------

    def save_session(
        self,
        agent_id: str,
        session_id: str,
        state: Any,
        *,
        ttl_seconds: int | None = UNSET,
        sliding_ttl: bool | None = None,
        if_match: int | str | None = None,
        if_none_match: str | None = None,
    ) -> SaveResult:
        """``PUT /agents/{a}/sessions/{s}``: create (201) or replace (200) the state."""
        body = _json_body({"state": state, **_ttl_members(ttl_seconds, sliding_ttl)})
        return self._run(
            _Op(
                "PUT",
                _session_path(agent_id, session_id),
                (200, 201),
                lambda r: SaveResult(**SessionSummary._fields_from(r.json()), created=r.status_code == 201),
                headers={"Content-Type": "application/json", **_precondition_headers(if_match, if_none_match)},
                body=body,
            )
        )

    def get_session(self, agent_id: str, session_id: str, *, if_none_match: int | str | None = None) -> Session | None:
        """``GET /agents/{a}/sessions/{s}``. ``None`` when ``if_none_match`` matched (304)."""
        headers = {}
        if if_none_match is not None:
            headers["If-None-Match"] = f'"{if_none_match}"' if isinstance(if_none_match, int) else if_none_match
        return self._run(
            _Op(
                "GET",
                _session_path(agent_id, session_id),
                (200, 304),
                lambda r: None if r.status_code == 304 else Session.from_json(r.json()),
                headers=headers,
            )
        )

    def head_session(self, agent_id: str, session_id: str) -> int:
        """``HEAD /agents/{a}/sessions/{s}``: the session's version (from its ETag)."""
        return self._run(_Op("HEAD", _session_path(agent_id, session_id), (200,), lambda r: _etag_version(r)))

    def delete_session(self, agent_id: str, session_id: str, *, if_match: int | str | None = None) -> None:
        """``DELETE /agents/{a}/sessions/{s}``."""
        return self._run(
            _Op("DELETE", _session_path(agent_id, session_id), (204,), lambda r: None, headers=_precondition_headers(if_match))
        )

    def list_sessions(self, agent_id: str, *, limit: int | None = None, cursor: str | None = None) -> SessionList:
        """``GET /agents/{a}/sessions``: one page, newest first."""
        params: dict[str, Any] = {}
        if limit is not None:
            params["limit"] = limit
        if cursor is not None:
            params["cursor"] = cursor

        def parse(r: httpx.Response) -> SessionList:
            body = r.json()
            return SessionList([SessionSummary.from_json(s) for s in body["sessions"]], body.get("next_cursor"))

        return self._run(_Op("GET", f"/agents/{_seg(agent_id)}/sessions", (200,), parse, params=params))

    def delete_all_sessions(self, agent_id: str) -> int:
        """``DELETE /agents/{a}/sessions``: how many were deleted."""
        return self._run(_Op("DELETE", f"/agents/{_seg(agent_id)}/sessions", (200,), lambda r: r.json()["deleted"]))

    # -- messages ---------------------------------------------------------------------------

    def append_messages(
        self,
        agent_id: str,
        session_id: str,
        messages: Sequence[Any],
        *,
        idempotency_key: str | None = None,
        if_match: int | str | None = None,
        ttl_seconds: int | None = UNSET,
        sliding_ttl: bool | None = None,
        keys: Sequence[str | None] | None = None,
    ) -> AppendResult:
        """``POST …/messages``: append 1–1000 messages atomically (creates the session).
        ``keys`` (parallel to ``messages``, ``None`` for no key) names messages; a key that is
        taken in the session is 409 ``key_conflict`` and nothing is written."""
        return self.append_raw_messages(
            agent_id,
            session_id,
            [dumps(m) for m in messages],
            idempotency_key=idempotency_key,
            if_match=if_match,
            ttl_seconds=ttl_seconds,
            sliding_ttl=sliding_ttl,
            keys=keys,
        )

    def append_raw_messages(
        self,
        agent_id: str,
        session_id: str,
        raw_messages: Sequence[str],
        *,
        idempotency_key: str | None = None,
        if_match: int | str | None = None,
        ttl_seconds: int | None = UNSET,
        sliding_ttl: bool | None = None,
        keys: Sequence[str | None] | None = None,
    ) -> AppendResult:
        """Like ``append_messages``, for messages already serialised as JSON text."""
        headers = {"Content-Type": "application/json", **_precondition_headers(if_match)}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key

        def parse(r: httpx.Response) -> AppendResult:
            b = r.json()
            return AppendResult(b["version"], b["first_seq"], b["last_seq"], b["message_count"])

        return self._run(
            _Op(
                "POST",
                _session_path(agent_id, session_id) + "/messages",
                (201,),
                parse,
                headers=headers,
                body=append_body(raw_messages, ttl_seconds, sliding_ttl, keys),
            )
        )

    def replace_messages(
        self,
        agent_id: str,
        session_id: str,
        messages: Sequence[Any],
        *,
        keys: Sequence[str | None] | None = None,
        if_match: int | str | None = None,
        ttl_seconds: int | None = UNSET,
        sliding_ttl: bool | None = None,
    ) -> ReplaceResult:
        """``PUT …/messages``: replace the whole log with 0–1000 messages in one atomic step
        (seqs continue; creates the session)."""
        return self.replace_raw_messages(
            agent_id, session_id, [dumps(m) for m in messages], keys=keys, if_match=if_match,
            ttl_seconds=ttl_seconds, sliding_ttl=sliding_ttl,
        )

    def replace_raw_messages(
        self,
        agent_id: str,
        session_id: str,
        raw_messages: Sequence[str],
        *,
        keys: Sequence[str | None] | None = None,
        if_match: int | str | None = None,
        ttl_seconds: int | None = UNSET,
        sliding_ttl: bool | None = None,
    ) -> ReplaceResult:
        """Like ``replace_messages``, for messages already serialised as JSON text."""

        def parse(r: httpx.Response) -> ReplaceResult:
            b = r.json()
            return ReplaceResult(
                b["version"], b.get("first_seq"), b.get("last_seq"), b["message_count"], r.status_code == 201
            )

        return self._run(
            _Op(
                "PUT",
                _session_path(agent_id, session_id) + "/messages",
                (200, 201),
                parse,
                headers={"Content-Type": "application/json", **_precondition_headers(if_match)},
                body=append_body(raw_messages, ttl_seconds, sliding_ttl, keys),
            )
        )

    def read_messages(
        self,
        agent_id: str,
        session_id: str,
        *,
        limit: int | None = None,
        after: int | None = None,
        before: int | None = None,
        if_none_match: int | str | None = None,
    ) -> MessageList | None:
        """``GET …/messages``: the most recent ``limit`` messages; with ``after`` the first
        ``limit`` with a higher seq; with ``before`` the newest ``limit`` with a lower seq (pass
        ``next_before`` back to page further back). Ascending seq always. ``None`` when
        ``if_none_match`` matched the session's version (304)."""
        params: dict[str, Any] = {}
        if limit is not None:
            params["limit"] = limit
        if after is not None:
            params["after"] = after
        if before is not None:
            params["before"] = before
        headers = {}
        if if_none_match is not None:
            headers["If-None-Match"] = f'"{if_none_match}"' if isinstance(if_none_match, int) else if_none_match

        def parse(r: httpx.Response) -> MessageList | None:
            if r.status_code == 304:
                return None
            b = r.json()
            return MessageList(
                [Message.from_json(m) for m in b["messages"]], b.get("next_after"), b.get("next_before"), _etag_version(r)
            )

        return self._run(
            _Op("GET", _session_path(agent_id, session_id) + "/messages", (200, 304), parse, params=params, headers=headers)
        )

    def get_message_by_key(self, agent_id: str, session_id: str, key: str) -> Message | None:
        """``GET …/messages?key=K``: the message with that key, ``None`` when there is none (the
        server answers both a missing key and a missing session with 404 ``not_found``)."""

        def parse(r: httpx.Response) -> Message | None:
            if r.status_code == 404:
                return None
            messages = r.json()["messages"]
            return Message.from_json(messages[0]) if messages else None

        return self._run(
            _Op("GET", _session_path(agent_id, session_id) + "/messages", (200, 404), parse, params={"key": key})
        )

    def trim_messages(
        self, agent_id: str, session_id: str, *, before: int, if_match: int | str | None = None
    ) -> TrimResult:
        """``DELETE …/messages?before=S``: remove every message with seq < S atomically."""
        return self._run(
            _Op(
                "DELETE",
                _session_path(agent_id, session_id) + "/messages",
                (200,),
                lambda r: TrimResult(r.json()["deleted"], r.json()["version"]),
                params={"before": before},
                headers=_precondition_headers(if_match),
            )
        )

    def delete_message(
        self, agent_id: str, session_id: str, seq: int, *, if_match: int | str | None = None
    ) -> Message:
        """``DELETE …/messages/{seq}``: remove and return that message (404 when there is none)."""
        return self._run(
            _Op(
                "DELETE",
                _session_path(agent_id, session_id) + f"/messages/{int(seq)}",
                (200,),
                lambda r: Message.from_json(r.json()),
                headers=_precondition_headers(if_match),
            )
        )

    def pop_message(self, agent_id: str, session_id: str, *, if_match: int | str | None = None) -> Message:
        """``DELETE …/messages/last``: remove and return the newest message (404 when none)."""

        def parse(r: httpx.Response) -> Message:
            return Message.from_json(r.json())

        return self._run(
            _Op(
                "DELETE",
                _session_path(agent_id, session_id) + "/messages/last",
                (200,),
                parse,
                headers=_precondition_headers(if_match),
            )
        )

    def clear_messages(self, agent_id: str, session_id: str, *, if_match: int | str | None = None) -> int | None:
        """``DELETE …/messages``: clear the log, keep the state. Returns the new version."""
        return self._run(
            _Op(
                "DELETE",
                _session_path(agent_id, session_id) + "/messages",
                (204,),
                _etag_version,
                headers=_precondition_headers(if_match),
            )
        )

    # -- operations -------------------------------------------------------------------------

    def healthz(self) -> dict[str, Any]:
        """``GET /healthz``."""
        return self._run(_Op("GET", "/healthz", (200,), lambda r: r.json()))

    def readyz(self) -> dict[str, Any]:
        """``GET /readyz``: ``{"status": "ready"}``, or ``{"status": "unavailable", "reason": …}`` (503)."""
        return self._run(_Op("GET", "/readyz", (200, 503), lambda r: r.json()))

    def metrics(self) -> str:
        """``GET /metrics`` (Prometheus text)."""
        return self._run(_Op("GET", "/metrics", (200,), lambda r: r.text))

    def openapi(self) -> str:
        """``GET /openapi.yaml``."""
        return self._run(_Op("GET", "/openapi.yaml", (200,), lambda r: r.text))


def _is_before_send(error: httpx.TransportError) -> bool:
    # Errors raised before any byte of the request went out: sending again cannot duplicate it.
    return isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def _retry_delay(attempt: int, response: httpx.Response | None, backoff: float) -> float:
    delay = backoff * (2**attempt) * (0.5 + random.random() / 2)
    if response is not None:
        retry_after = response.headers.get("retry-after", "")
        if retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 5.0))
    return delay


def _transport_error(error: httpx.TransportError, op: _Op[Any]) -> AgentStateError:
    err = AgentStateError(f"{op.method} {op.path}: {type(error).__name__}: {error}", status=None, code="connection_error")
    err.__cause__ = error
    return err


class _Base(_Routes):
    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout: float | httpx.Timeout,
        retries: int,
        backoff: float,
        headers: dict[str, str] | None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self._headers = {"Accept": "application/json", "User-Agent": "agentstate-python/0.1.0", **(headers or {})}
        if token is not None:
            self._headers["Authorization"] = f"Bearer {token}"
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    def _request(self, op: _Op[Any]) -> dict[str, Any]:
        return {
            "method": op.method,
            "url": op.path,
            "params": op.params or None,
            "headers": op.headers,
            "content": op.body,
        }


class Client(_Base):
    """Synchronous client. ``Client(base_url, token=None, timeout=10.0, retries=2)``.

    Retries only where that is safe: after connection errors raised before the request was sent
    (any request), and after 503 on requests that carry ``Idempotency-Key`` or ``If-Match``.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        token: str | None = None,
        timeout: float | httpx.Timeout = 10.0,
        retries: int = 2,
        backoff: float = 0.05,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        event_hooks: dict[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        super().__init__(base_url, token, timeout, retries, backoff, headers)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers, timeout=self._timeout, transport=transport,
            event_hooks=event_hooks,
        )

    def _run(self, op: _Op[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.request(**self._request(op))
            except httpx.TransportError as error:
                if _is_before_send(error) and attempt < self.retries:
                    time.sleep(_retry_delay(attempt, None, self.backoff))
                    attempt += 1
                    continue
                raise _transport_error(error, op) from error
            if response.status_code == 503 and op.retry_503 and attempt < self.retries:
                time.sleep(_retry_delay(attempt, response, self.backoff))
                attempt += 1
                continue
            return op.finish(response)

    def iter_sessions(self, agent_id: str, *, page_size: int = MAX_PAGE) -> Iterator[SessionSummary]:
        """Every session of the agent, newest first, following ``next_cursor``."""
        cursor = None
        while True:
            page = self.list_sessions(agent_id, limit=page_size, cursor=cursor)
            yield from page.sessions
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def iter_messages(self, agent_id: str, session_id: str, *, after: int = 0, page_size: int = MAX_PAGE) -> Iterator[Message]:
        """Every message with seq > ``after``, ascending, following ``next_after``."""
        while True:
            page = self.read_messages(agent_id, session_id, limit=page_size, after=after)
            yield from page.messages
            if page.next_after is None:
                return
            after = page.next_after

    def iter_messages_backward(
        self, agent_id: str, session_id: str, *, before: int | None = None, page_size: int = MAX_PAGE
    ) -> Iterator[Message]:
        """Every message with seq < ``before`` (all of them without it), newest first, one
        ``before=`` page at a time."""
        while True:
            if before is None:
                page = self.read_messages(agent_id, session_id, limit=page_size)
            else:
                page = self.read_messages(agent_id, session_id, limit=page_size, before=before)
            assert page is not None
            yield from reversed(page.messages)
            if not page.messages or page.messages[0].seq <= 1 or (before is not None and page.next_before is None):
                return
            if before is None and len(page.messages) < page_size:
                return
            before = page.messages[0].seq

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Base):
    """Asynchronous client; the same methods as ``Client``, as coroutines.

    One ``AsyncClient`` belongs to one event loop (httpx's connection pool does).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        token: str | None = None,
        timeout: float | httpx.Timeout = 10.0,
        retries: int = 2,
        backoff: float = 0.05,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        event_hooks: dict[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        super().__init__(base_url, token, timeout, retries, backoff, headers)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, timeout=self._timeout, transport=transport,
            event_hooks=event_hooks,
        )

    async def _run(self, op: _Op[T]) -> T:  # type: ignore[override]
        attempt = 0
        while True:
            try:
                response = await self._http.request(**self._request(op))
            except httpx.TransportError as error:
                if _is_before_send(error) and attempt < self.retries:
                    await asyncio.sleep(_retry_delay(attempt, None, self.backoff))
                    attempt += 1
                    continue
                raise _transport_error(error, op) from error
            if response.status_code == 503 and op.retry_503 and attempt < self.retries:
                await asyncio.sleep(_retry_delay(attempt, response, self.backoff))
                attempt += 1
                continue
            return op.finish(response)

    async def iter_sessions(self, agent_id: str, *, page_size: int = MAX_PAGE) -> AsyncIterator[SessionSummary]:
        cursor = None
        while True:
            page = await self.list_sessions(agent_id, limit=page_size, cursor=cursor)
            for s in page.sessions:
                yield s
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def iter_messages(
        self, agent_id: str, session_id: str, *, after: int = 0, page_size: int = MAX_PAGE
    ) -> AsyncIterator[Message]:
        while True:
            page = await self.read_messages(agent_id, session_id, limit=page_size, after=after)
            for m in page.messages:
                yield m
            if page.next_after is None:
                return
            after = page.next_after

    async def iter_messages_backward(
        self, agent_id: str, session_id: str, *, before: int | None = None, page_size: int = MAX_PAGE
    ) -> AsyncIterator[Message]:
        while True:
            if before is None:
                page = await self.read_messages(agent_id, session_id, limit=page_size)
            else:
                page = await self.read_messages(agent_id, session_id, limit=page_size, before=before)
            assert page is not None
            for m in reversed(page.messages):
                yield m
            if not page.messages or page.messages[0].seq <= 1 or (before is not None and page.next_before is None):
                return
            if before is None and len(page.messages) < page_size:
                return
            before = page.messages[0].seq

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
