"""The most telling parts of a decoded entry first, as short (label, value) strings.

Names that say what happened (`task_name`, `event`, `type`...) lead; then the keys whose values
differ between the entries on screen (what tells rows apart); keys that are the same on every row
follow; IDs and bookkeeping (`task_id`, `labels`, `correlation_id`) come last.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from streamtop.pipeline.decode.types import Decoded

LEADING = ("task_name", "event", "event_type", "type", "kind", "action", "name", "status", "method")
TRAILING = (
    "task_id",
    "labels",
    "labels_types",
    "id",
    "message_id",
    "correlation_id",
    "uuid",
    "timestamp",
    "ts",
    "created_at",
)
VALUE_LIMIT = 40


def compact(value: object, limit: int = VALUE_LIMIT) -> str:
    """A value on one line: strings as they are, everything else as compact JSON, cut with …."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def varying_keys(bodies: Iterable[object]) -> frozenset[str]:
    """Keys of the object bodies whose values are not all equal (a key missing somewhere varies)."""
    seen: dict[str, str] = {}
    varying: set[str] = set()
    objects = [b for b in bodies if isinstance(b, dict)]
    for body in objects:
        for key, value in body.items():
            text = json.dumps(value, sort_keys=True, default=str)
            if seen.setdefault(key, text) != text:
                varying.add(key)
    return frozenset(k for k in seen if k in varying or any(k not in b for b in objects))


def order(keys: Sequence[str], varying: frozenset[str] = frozenset()) -> list[str]:
    def rank(item: tuple[int, str]) -> tuple[int, int]:
        i, key = item
        if key in LEADING:
            return (0, LEADING.index(key))
        if key in TRAILING:
            return (3, TRAILING.index(key))
        return (1 if key in varying else 2, i)

    return [k for _, k in sorted(enumerate(keys), key=rank)]


def pairs(decoded: Decoded, varying: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(label, value) in telling order; a body that is not an object is one pair with no label."""
    body = decoded.body
    if isinstance(body, dict):
        return [(key, compact(body[key])) for key in order(list(body), varying)]
    return [("", compact(body))]
