"""schemathesis hooks for agentstate, loaded by scripts/schemathesis via SCHEMATHESIS_HOOKS.

Each hook covers one place where JSON Schema cannot say what the contract (DESIGN.md) says.
"""
import schemathesis


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """`DELETE .../messages` (clear or trim) and `DELETE .../messages/{seq}` remove messages; by
    contract the session and its log remain, so `GET .../messages` answering 200 afterwards is
    correct, not a use-after-free. A DELETE of the session itself is still checked."""
    free = getattr(failure, "free", None)
    if failure.code == "ST301" and isinstance(free, str) and free.startswith("DELETE ") and "/messages" in free:
        return False
    return True
