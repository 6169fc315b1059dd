"""Payload decoders: what the bytes of a stream entry mean, for previews, the entry view and `tail`.

Libraries do not write field=value pairs a person can read: FastStream packs each message into one
field `__data__` in its own binary envelope, taskiq puts the whole task as JSON in one field `data`.
`decode_entry` picks a decoder per entry (the envelopes first, then JSON, msgpack, UTF-8 text,
escaped bytes) unless the stream's format was given (`--decode KEY=FORMAT`). Headless: plain data
out (JSON-able bodies), rendering is the caller's (render.text at the boundary).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from streamtop.pipeline.decode import faststream, fields, taskiq
from streamtop.pipeline.decode.types import Decoded, Fields

__all__ = ["AUTO", "FORMATS", "Decoded", "DecodeSpec", "decode_entry", "parse_decode_arg"]

AUTO = "auto"
RAW = "raw"
_ENVELOPES: dict[str, Callable[[Fields], Decoded | None]] = {
    "faststream": faststream.decode,
    "taskiq": taskiq.decode,
}
FORMATS = (AUTO, *_ENVELOPES, *fields.FORMATS, RAW)

DecodeSpec = Mapping[bytes, str]  # stream key -> format; a key not named is "auto"


def decode_entry(entry_fields: Fields, fmt: str = AUTO) -> Decoded | None:
    """The entry decoded by `fmt`, or by the first decoder that recognises it; None for "raw", a
    deleted entry, or when the forced format does not parse (the caller shows the fields as they
    are)."""
    if fmt == RAW or not entry_fields:
        return None
    if fmt in _ENVELOPES:
        return _ENVELOPES[fmt](entry_fields)
    if fmt in fields.FORMATS:
        return fields.decode(entry_fields, fmt)
    for decoder in _ENVELOPES.values():
        found = decoder(entry_fields)
        if found is not None:
            return found
    return fields.decode(entry_fields, AUTO)


def parse_decode_arg(value: str) -> tuple[bytes | None, str]:
    """`KEY=FORMAT` (one stream) or `FORMAT` (every stream): ValueError names the formats."""
    key, sep, fmt = value.rpartition("=")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} in --decode {value!r} (formats: {', '.join(FORMATS)})")
    if sep and not key:
        raise ValueError(f"--decode {value!r}: the stream key before '=' is empty")
    return (key.encode("utf-8", "surrogateescape") if sep else None), fmt


def spec_from_args(values: Sequence[str] | None) -> dict[bytes | None, str]:
    """Every --decode of a command line as one mapping (None: the format of every other stream)."""
    out: dict[bytes | None, str] = {}
    for value in values or ():
        key, fmt = parse_decode_arg(value)
        out[key] = fmt
    return out


def format_for(spec: Mapping[bytes | None, str], key: bytes) -> str:
    return spec.get(key, spec.get(None, AUTO))
