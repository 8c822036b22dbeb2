"""Python client for agentstate.

``agentstate.Client`` / ``agentstate.AsyncClient`` speak the HTTP API. The framework adapters
live in submodules and need their extras: ``agentstate.openai_agents.AgentStateSession``
(``pip install 'agentstate[openai-agents]'``) and ``agentstate.langgraph.AgentStateSaver``
(``pip install 'agentstate[langgraph]'``). Importing ``agentstate`` itself needs only httpx.
"""

from ._client import (
    UNSET,
    AgentStateError,
    AppendResult,
    AsyncClient,
    Client,
    Message,
    MessageList,
    ReplaceResult,
    SaveResult,
    Session,
    SessionList,
    SessionSummary,
    TrimResult,
)
from ._ids import from_id, is_valid_id, to_id

__version__ = "0.1.0"

__all__ = [
    "UNSET",
    "AgentStateError",
    "AppendResult",
    "AsyncClient",
    "Client",
    "Message",
    "MessageList",
    "ReplaceResult",
    "TrimResult",
    "SaveResult",
    "Session",
    "SessionList",
    "SessionSummary",
    "from_id",
    "is_valid_id",
    "to_id",
]
