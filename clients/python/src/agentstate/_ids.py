"""Mapping of arbitrary strings to agentstate IDs.

An agentstate ID matches ``^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$``. ``to_id`` keeps every such ID
as it is, except those that contain ``~``, which is the escape character. Any other string is
escaped: it becomes ``x~`` followed by the string with every byte of its UTF-8 form that is not in
``[A-Za-z0-9._@-]`` written as ``~HH`` (upper-case hex). Escaped IDs always contain ``~`` and
plain ones never do, and the escape is reversible, so the mapping is deterministic and injective.
A result longer than 128 characters raises ``ValueError``.
"""

from __future__ import annotations

import re

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~@-]{0,127}$")
MAX_ID_LENGTH = 128
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-")


def is_valid_id(value: str) -> bool:
    """Whether ``value`` is an agentstate ID as it is."""
    return bool(ID_PATTERN.match(value)) and value.isascii()


def escape(value: str) -> str:
    """Escapes every byte outside ``[A-Za-z0-9._@-]`` as ``~HH``. The result never contains ``~~``."""
    out = []
    for byte in value.encode("utf-8"):
        out.append(chr(byte) if byte in _SAFE else f"~{byte:02X}")
    return "".join(out)


def unescape(value: str) -> str:
    """The inverse of ``escape``."""
    data = bytearray()
    i = 0
    while i < len(value):
        if value[i] == "~":
            data.append(int(value[i + 1 : i + 3], 16))
            i += 3
        else:
            data.append(ord(value[i]))
            i += 1
    return data.decode("utf-8")


def to_id(value: str, *, what: str = "ID") -> str:
    """Maps ``value`` to a valid agentstate ID (see the module docstring)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if is_valid_id(value) and "~" not in value:
        return value
    mapped = "x~" + escape(value)
    if len(mapped) > MAX_ID_LENGTH:
        raise ValueError(
            f"{what} {value!r} is too long: it maps to {len(mapped)} characters, agentstate allows {MAX_ID_LENGTH}"
        )
    return mapped


def from_id(value: str) -> str:
    """The inverse of ``to_id``."""
    if value.startswith("x~"):
        return unescape(value[2:])
    return value
