"""One field value as msgpack, "where it parses cleanly": when guessing, only a map or array that
uses every byte and is not readable text (almost any short byte string is *some* msgpack value).
msgpack is optional: without it this decoder never matches."""

from __future__ import annotations

from streamtop.pipeline.decode.jsonvalue import NOTHING
from streamtop.pipeline.decode.types import jsonable

try:
    import msgpack  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - msgpack is in the dependencies
    msgpack = None


def parse(value: bytes, *, containers_only: bool = True) -> object:
    if msgpack is None or not value:
        return NOTHING
    if containers_only:
        first = value[0]
        if not (0x80 <= first <= 0x9F or first in (0xDC, 0xDD, 0xDE, 0xDF)):
            return NOTHING  # fixmap, fixarray, array16/32, map16/32
    try:
        parsed = msgpack.unpackb(value, raw=False, strict_map_key=False)
    except Exception:  # msgpack raises many types (ExtraData, FormatError, ValueError...)
        return NOTHING
    return jsonable(parsed)
