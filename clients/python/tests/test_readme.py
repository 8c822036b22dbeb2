"""The Python examples of clients/python/README.md run as pasted (against this test's service)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_one_example_per_part() -> None:
    assert len(BLOCKS) == 3
    assert all(len(b.strip().splitlines()) <= 20 for b in BLOCKS)


@pytest.mark.parametrize("index", range(3), ids=["client", "openai-agents", "langgraph"])
def test_readme_example_runs(base_url: str, index: int) -> None:
    code = BLOCKS[index].replace("http://127.0.0.1:8080", base_url)
    if "AgentStateSession(" in code:  # its default base_url is the local service
        code = code.replace('agent_id="support-bot",', f'agent_id="support-bot", base_url="{base_url}",')
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    expected = {
        0: ["412 precondition_failed", "'hi'"],
        1: ["Golden Gate Bridge"],
        2: ["'start', 'hello'", "checkpoints"],
    }[index]
    for text in expected:
        assert text in out.stdout, out.stdout
