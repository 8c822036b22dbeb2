"""langgraph-checkpoint-conformance (every capability) against AgentStateSaver, on both backends."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES, DetectedCapabilities

from agentstate.langgraph import AgentStateSaver


def test_every_capability_is_detected(base_url: str, agent_id: str) -> None:
    detected = DetectedCapabilities.from_instance(AgentStateSaver(base_url, agent_id=agent_id))
    assert detected.missing == frozenset()
    assert detected.detected == ALL_CAPABILITIES


@pytest.mark.parametrize("capability", sorted(c.value for c in ALL_CAPABILITIES))
async def test_conformance(base_url: str, agent_id: str, capability: str) -> None:
    @checkpointer_test(name=f"AgentStateSaver-{capability}")
    async def factory():
        saver = AgentStateSaver(base_url, agent_id=agent_id)
        try:
            yield saver
        finally:
            await saver.aclose()

    report = await validate(factory, capabilities={capability})
    result = report.results[capability]
    assert result.detected, f"{capability} not detected"
    assert result.tests_failed == 0 and result.passed, "\n".join(result.failures)
    assert result.tests_passed > 0
