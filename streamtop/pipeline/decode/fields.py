"""Plain field/value entries: each value as JSON, msgpack, UTF-8 text or escaped bytes.

One field holding a JSON object (or msgpack map) is the common "payload in one field" layout: its
object becomes the body, so its keys preview like fields. Otherwise the body maps each field to its
decoded value. The format says what the values held: the most structured one any value needed
("bytes" over "text"). Names and values stay raw (invalid UTF-8 as surrogateescape); the caller
escapes them once, where they are shown (model.label / render.text).
"""

from __future__ import annotations

from streamtop.pipeline.decode import jsonvalue, msgpackvalue
from streamtop.pipeline.decode.jsonvalue import NOTHING
from streamtop.pipeline.decode.types import Decoded, Fields
from streamtop.pipeline.model import as_text

FORMATS = ("json", "msgpack", "text", "bytes")
_RANK = {"text": 0, "bytes": 1, "msgpack": 2, "json": 3}  # escaped bytes outrank text: worth saying


def value_of(value: bytes, fmt: str) -> tuple[str, object]:
    """(what it was, the value): the forced format when it parses, else the best guess."""
    if fmt in ("json", "auto"):
        parsed = jsonvalue.parse(value, containers_only=fmt == "auto")
        if parsed is not NOTHING:
            return "json", parsed
    if fmt in ("msgpack", "auto"):
        parsed = msgpackvalue.parse(value, containers_only=fmt == "auto")
        if parsed is not NOTHING:
            return "msgpack", parsed
    if fmt != "bytes":
        try:
            return "text", value.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return "bytes", as_text(value)  # the bytes that are not UTF-8 as U+DC80.., escaped when shown


def decode(entry_fields: Fields, fmt: str) -> Decoded:
    kinds: list[str] = []
    body: dict[str, object] = {}
    for name, value in entry_fields:
        kind, decoded = value_of(value, fmt)
        kinds.append(kind)
        body[as_text(name)] = decoded
    best = max(kinds, key=_RANK.__getitem__)
    if len(entry_fields) == 1 and kinds[0] in ("json", "msgpack"):
        only = next(iter(body.values()))
        if isinstance(only, dict):
            return Decoded(best, only)
    return Decoded(best, body)
