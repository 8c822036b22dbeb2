"""Regenerates tests/test_sdk_session.py and tests/test_sdk_session_limit.py from the
openai-agents sdist's tests/memory/test_session.py and test_session_limit.py.

    pip download --no-deps --no-binary :all: openai-agents==0.24.0 && tar xzf openai_agents-0.24.0.tar.gz
    python tests/sdk_adapt/adapt.py openai_agents-0.24.0/tests

It replaces SQLiteSession with AgentStateSession (make_session: a fresh agent per test against
the running service), awaits close(), and drops the tests listed in DROPPED (see README.md).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent

# name -> why it is dropped (also listed in clients/python/README.md)
DROPPED = {
    "test_await_mutation_cancellation_hides_later_failure_without_loop_error": "tests the SDK's private helper, not a session",
    "test_sqlite_session_close_closes_worker_thread_connections": "SQLite per-thread connections",
    "test_sqlite_session_reaps_connections_from_exited_worker_threads": "SQLite per-thread connections",
    "test_sqlite_session_closes_retired_connections_before_the_next_allocation": "SQLite per-thread connections",
    "test_sqlite_session_keeps_connections_of_live_worker_threads": "SQLite per-thread connections",
    "test_sqlite_session_pop_item_skips_corrupt_most_recent": "writes corrupt rows straight into SQLite; agentstate stores only valid JSON",
    "test_sqlite_session_pop_item_returns_none_after_dropping_only_corrupt_rows": "corrupt SQLite rows",
    "test_sqlite_session_get_items_limit_skips_corrupt_newest_rows": "corrupt SQLite rows",
    "test_sqlite_session_get_items_session_settings_limit_skips_corrupt_rows": "corrupt SQLite rows",
    "test_sqlite_session_special_characters_and_sql_injection": "inspects the SQLite table",
    "test_sqlite_session_file_lock_is_shared_across_instances": "SQLite file locks",
    "test_sqlite_session_failed_add_items_releases_write_lock": "SQLite write lock",
    "test_sqlite_session_failed_clear_session_rolls_back": "SQLite rollback",
    "test_sqlite_session_failed_pop_item_releases_write_lock": "SQLite write lock",
    "test_sqlite_session_rollback_failure_evicts_connection": "SQLite connection eviction",
    "test_sqlite_session_close_retries_quarantined_connection": "SQLite connection quarantine",
    "test_sqlite_session_post_commit_cancellation_propagates_after_known_outcome": "patches SQLite internals (the same behaviour is covered in test_sdk_redis_session.py)",
}

HEADER = '''# Adapted from openai-agents 0.24.0 (sdist) tests/memory/{name} by tests/sdk_adapt/adapt.py:
# SQLiteSession -> AgentStateSession against the running agentstate service. Do not edit by hand.
# ruff: noqa
'''


def drop_functions(source: str, names: set[str]) -> str:
    lines = source.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        match = re.match(r"^(async )?def (\w+)\(", line)
        if match and match.group(2) in names:
            # remove the decorators just collected
            while out and out[-1].startswith("@"):
                out.pop()
            i += 1
            while i < len(lines) and (lines[i] == "" or lines[i].startswith((" ", "\t", ")"))):
                i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def adapt(source: str, name: str) -> str:
    source = drop_functions(source, set(DROPPED))
    source = source.replace(
        "from agents import Agent, RunConfig, Runner, SessionSettings, SQLiteSession, TResponseInputItem",
        "from agents import Agent, RunConfig, Runner, SessionSettings, TResponseInputItem",
    )
    source = source.replace("from agents import Agent, RunConfig, SQLiteSession", "from agents import Agent, RunConfig")
    source = source.replace("from agents.memory.sqlite_session import _await_mutation\n", "")
    source = source.replace("from tests.test_responses import get_text_message", "from sdk_support import get_text_message, make_session")
    source = source.replace("from tests.memory.test_session import run_agent_async", "from test_sdk_session import run_agent_async")
    source = re.sub(r"SQLiteSession\(\s*([^,()]+?),\s*(?:db_path|Path\([^)]*\)\s*/\s*\"[^\"]*\")\s*([,)])", r"make_session(\1\2", source)
    source = re.sub(r"SQLiteSession\(", "make_session(", source)
    source = re.sub(r"^(\s+)(session\w*)\.close\(\)$", r"\1await \2.close()", source, flags=re.M)
    source = source.replace('match="SQLiteSession is closed"', 'match="AgentStateSession is closed"')
    return HEADER.format(name=name) + source


def main() -> None:
    tests = Path(sys.argv[1])
    for src, dst in [("test_session.py", "test_sdk_session.py"), ("test_session_limit.py", "test_sdk_session_limit.py")]:
        text = (tests / "memory" / src).read_text()
        (OUT / dst).write_text(adapt(text, src))
        print("wrote", OUT / dst)


if __name__ == "__main__":
    main()
