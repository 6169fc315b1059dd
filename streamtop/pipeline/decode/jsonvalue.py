"""One field value as JSON: only an object or array counts when guessing (a bare `5` or `"x"` is
better shown as the text it is)."""

from __future__ import annotations

import json

_NOTHING = object()


def parse(value: bytes, *, containers_only: bool = True) -> object:
    """The parsed value, or `NOTHING` when the bytes are not (wanted) JSON."""
    head = value.lstrip()[:1]
    if containers_only and head not in (b"{", b"["):
        return _NOTHING
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return _NOTHING


NOTHING = _NOTHING
