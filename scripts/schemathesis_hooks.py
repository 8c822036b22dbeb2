"""schemathesis hooks for agentstate, loaded by scripts/schemathesis via SCHEMATHESIS_HOOKS.

Each hook covers one place where JSON Schema cannot say what the contract (DESIGN.md) says.
"""
import schemathesis


@schemathesis.hook
def filter_body(context, body):
    """JSON Schema counts 365.0 as an integer, but the contract requires `ttl_seconds` to be an
    integer *literal* and answers 1.0 with 400. Skip generated bodies that send a float there."""
    if isinstance(body, dict) and isinstance(body.get("ttl_seconds"), float):
        return False
    return True


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """`DELETE .../messages` clears the message log; by contract the session and its (now empty)
    log remain, so `GET .../messages` answering 200 afterwards is correct, not a use-after-free.
    A DELETE of the session itself is still checked."""
    free = getattr(failure, "free", None)
    if failure.code == "ST301" and isinstance(free, str) and free.startswith("DELETE ") and free.endswith("/messages"):
        return False
    return True
