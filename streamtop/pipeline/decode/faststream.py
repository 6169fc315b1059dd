"""FastStream's Redis envelope (faststream.redis.parser.BinaryMessageFormatV1, FastStream 0.6+).

One field `__data__` holds: the identity header `\\x89BIN\\r\\n\\x1a\\n`, a version (u16 = 1), the
offset of the headers (u32) and of the body (u32), a header count (u16), then each header as two
u16-length-prefixed strings, then the body (JSON for dicts and models, else the bytes sent). All
big-endian. The older JSON envelope (`{"data": "...", "headers": {...}}`) is read too.
"""

from __future__ import annotations

import json
import struct

from streamtop.pipeline.decode.fields import value_of
from streamtop.pipeline.decode.types import Decoded, Fields
from streamtop.pipeline.model import as_text

FIELD = b"__data__"
MAGIC = b"\x89BIN\r\n\x1a\n"
VERSION = 1


def _text(raw: bytes) -> str:
    return as_text(raw)  # escaped once, where shown


def parse_binary(data: bytes) -> tuple[list[tuple[str, str]], bytes] | None:
    """(headers, body) of a v1 envelope, or None when the bytes are not one (or are cut short)."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 12:
        return None
    try:
        (version,) = struct.unpack_from(">H", data, len(MAGIC))
        headers_start, data_start = struct.unpack_from(">II", data, len(MAGIC) + 2)
        if version != VERSION or not headers_start <= data_start <= len(data):
            return None
        (count,) = struct.unpack_from(">H", data, headers_start)
        offset = headers_start + 2
        headers: list[tuple[str, str]] = []
        for _ in range(count):
            pair = []
            for _half in range(2):
                (size,) = struct.unpack_from(">H", data, offset)
                offset += 2
                if offset + size > data_start:
                    return None
                pair.append(_text(data[offset : offset + size]))
                offset += size
            headers.append((pair[0], pair[1]))
    except struct.error:
        return None
    return headers, data[data_start:]


def _legacy(data: bytes) -> tuple[list[tuple[str, str]], bytes] | None:
    """FastStream < 0.6 (JSONMessageFormat): {"data": "<body>", "headers": {...}}."""
    if not data.lstrip().startswith(b"{"):
        return None
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    if not isinstance(doc, dict) or set(doc) != {"data", "headers"} or not isinstance(doc["data"], str):
        return None
    headers = doc["headers"] if isinstance(doc["headers"], dict) else {}
    return [(str(k), str(v)) for k, v in headers.items()], doc["data"].encode("utf-8", "surrogatepass")


def body_value(body: bytes, content_type: str) -> object:
    """JSON when the content-type says so (or it parses as an object), else text, else escaped."""
    if "json" in content_type:
        kind, value = value_of(body, "json")
        if kind == "json":
            return value
    return value_of(body, "auto")[1]


def decode(entry_fields: Fields) -> Decoded | None:
    data = dict(entry_fields).get(FIELD)
    if data is None:
        return None
    parsed = parse_binary(data) or _legacy(data)
    if parsed is None:
        return None
    headers, body = parsed
    content_type = dict(headers).get("content-type", "")
    return Decoded("faststream", body_value(body, content_type), tuple(headers))
