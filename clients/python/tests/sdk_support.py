"""Helpers for the adapted openai-agents session tests.

``make_session`` builds an ``AgentStateSession`` against the service the current test runs on,
under a fresh agent ID per test, so fixed session names of the SDK tests never collide.
"""

from __future__ import annotations

from typing import Any

from openai.types.responses import ResponseOutputMessage, ResponseOutputText

from agentstate.openai_agents import AgentStateSession

CURRENT: dict[str, str] = {}


def make_session(session_id: str, **kwargs: Any) -> AgentStateSession:
    return AgentStateSession(session_id, agent_id=CURRENT["agent_id"], base_url=CURRENT["base_url"], **kwargs)


def get_text_message(content: str) -> ResponseOutputMessage:
    # Copied from openai-agents 0.24.0 tests/test_responses.py.
    return ResponseOutputMessage(
        id="1",
        type="message",
        role="assistant",
        content=[ResponseOutputText(text=content, type="output_text", annotations=[], logprobs=[])],
        status="completed",
    )
