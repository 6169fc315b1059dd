"""The one result every decoder returns, so previews, the entry view and `tail --json` agree."""

from __future__ import annotations

from dataclasses import dataclass

Fields = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class Decoded:
    """`body` is JSON-able (dict, list, str, numbers): an object's keys become preview pairs.
    `headers` are an envelope's own (FastStream's correlation_id, content-type...)."""

    format: str
    body: object
    headers: tuple[tuple[str, str], ...] = ()


def jsonable(value: object) -> object:
    """msgpack may hold bytes and non-string keys: make the value JSON-able. `bin` is bytes, not
    text: every byte becomes U+DC00+byte, which model.label shows as \\xHH (never decoded as
    UTF-8, and unlike any str value, whose backslashes are doubled)."""
    if isinstance(value, bytes):
        return "".join(map(chr, (0xDC00 + b for b in value)))
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)
