"""Parsers from raw server replies to model objects.

They read the reply as the wire gives it (RESP2 flat lists or RESP3 maps, bytes or str), so the
differences between Redis 6.2, 7.x and Valkey 8/9 are absorbed here: a missing field is None and a
NULL is None, never 0. They never raise on an odd shape: a property test feeds them every shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias, overload

from streamtop.pipeline.model import (
    ConsumerInfo,
    GroupInfo,
    Lag,
    LagSource,
    PendingEntry,
    PendingSummary,
    StreamInfo,
    entries_after_bound,
)

Reply: TypeAlias = Any
"""A raw server reply, or a part of one, as the client hands it over (connection.RAW_COMMANDS,
execute_raw): bytes, str, int, float, None, a list or a dict, nested, or an exception in place of a
failed command's reply. Its shape depends on the protocol (RESP2 flat lists, RESP3 maps), the
server (Redis 6.2 to 8, Valkey) and the command, so it stays untyped: the parsers here read it with
isinstance checks and never raise on an odd shape (a property test feeds them every shape). The one
`Any` for a reply: everything that holds a raw reply says `Reply`."""

ReplyFields = dict[str, Reply]
"""A reply's fields by name (`pairs`): an XINFO GROUPS entry, say; the values raw."""


@overload
def text(value: bytes | str | int | float) -> str: ...
@overload
def text(value: object) -> str | None: ...


def text(value: object) -> str | None:
    """A reply value as str (invalid UTF-8 escaped); None stays None."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


# Group and consumer names recur in every stream (g1, g2 in each of 100,000): one bytes object
# per distinct name (issue 29), up to this many names, then each reply's own object.
_NAMES: dict[bytes, bytes] = {}
MAX_INTERNED_NAMES = 10_000


def name(value: Reply) -> bytes:
    """A group's or consumer's name as bytes, shared with every equal name already seen."""
    b = _b(value)
    got = _NAMES.get(b)
    if got is not None:
        return got
    if len(_NAMES) < MAX_INTERNED_NAMES:
        _NAMES[b] = b
    return b


def _b(value: Reply) -> bytes:
    if isinstance(value, bytes):
        return value
    if value is None:
        return b""
    return str(value).encode()


def to_int(value: Reply) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a RESP3 double of inf
        return None


_FIELD_NAMES: dict[bytes, str] = {}  # decoded reply field names ("length", "pending", ...)


def _field(name: Reply) -> str:
    """A reply's field name as str; the few names servers use are decoded once."""
    if isinstance(name, bytes):
        decoded = _FIELD_NAMES.get(name)
        if decoded is None:
            decoded = name.decode("utf-8", "backslashreplace")
            if len(_FIELD_NAMES) < 1024:
                _FIELD_NAMES[name] = decoded
        return decoded
    return text(name) or ""


def pairs(reply: Reply) -> ReplyFields:
    """A flat [k1, v1, k2, v2, ...] list or a map as a dict with str keys."""
    if isinstance(reply, Mapping):
        return {_field(k): v for k, v in reply.items()}
    if not isinstance(reply, list | tuple):
        return {}
    it = iter(reply)
    known = _FIELD_NAMES.get
    try:  # the names seen before found in C (issue 28: 20 fields a stream, 30,000 streams)
        return {known(k) or _field(k): v for k, v in zip(it, it, strict=False)}
    except TypeError:  # a name that is no dict key (an odd shape): each one decoded
        it = iter(reply)
        return {_field(k): v for k, v in zip(it, it, strict=False)}


def entry_id(entry: Reply) -> str | None:
    """The ID of an entry reply ([id, fields]) or None."""
    if isinstance(entry, list | tuple) and entry:
        return text(entry[0])
    return None


def entry_size(entry: Reply) -> int:
    """Bytes of an entry reply's field names and values ([id, [f, v, ...]] or [id, {f: v}])."""
    if not isinstance(entry, list | tuple) or len(entry) < 2:
        return 0
    body = entry[1]
    if isinstance(body, list):
        try:  # the usual shape, RESP2's flat list of bytes, summed in C
            return len(b"".join(body))
        except TypeError:
            pass
    items: Iterable[Reply] = body.items() if isinstance(body, Mapping) else _as_list(body)
    total = 0
    for item in items:
        for x in item if isinstance(item, tuple) else (item,):
            if isinstance(x, bytes | str):
                total += len(x)
    return total


def parse_stream(key: bytes, reply: Reply) -> StreamInfo:
    """XINFO STREAM (not FULL)."""
    return parse_stream_sized(key, reply)[0]


def parse_stream_sized(key: bytes, reply: Reply) -> tuple[StreamInfo, int, int]:
    """XINFO STREAM, and the sizes in bytes of the first and last entries it carried in full
    (the collector stops asking for them every poll when they are large)."""
    d = pairs(reply)
    first, last = d.get("first-entry"), d.get("last-entry")
    return _stream_from(key, d), entry_size(first), entry_size(last)


def _same(value: str | None, *like: str | None) -> str | None:
    """`value`, or the equal string already held (issue 29: a stream's IDs are mostly equal to one
    another, last-generated to last, recorded-first to first, and 100,000 streams' copies add up)."""
    if value is None:
        return None
    for other in like:
        if other == value:
            return other
    return _COMMON_IDS.get(value, value)


_COMMON_IDS = {i: i for i in ("0-0", "0-1")}


def _stream_from(key: bytes, d: ReplyFields) -> StreamInfo:
    first = entry_id(d.get("first-entry"))
    last = entry_id(d.get("last-entry"))
    return StreamInfo(
        key=key,
        length=to_int(d.get("length")) or 0,
        first_entry_id=first,
        last_entry_id=last,
        last_generated_id=_same(text(d.get("last-generated-id")), last),
        entries_added=to_int(d.get("entries-added")),
        max_deleted_entry_id=_same(text(d.get("max-deleted-entry-id"))),
        recorded_first_entry_id=_same(text(d.get("recorded-first-entry-id")), first),
        radix_tree_keys=to_int(d.get("radix-tree-keys")),
        radix_tree_nodes=to_int(d.get("radix-tree-nodes")),
    )


def _as_list(reply: Reply) -> list[Reply]:
    return list(reply) if isinstance(reply, list | tuple) else []


def parse_groups(reply: Reply) -> list[ReplyFields]:
    """XINFO GROUPS as one dict per group (name as bytes; the rest raw)."""
    out = []
    for item in _as_list(reply):
        d = pairs(item)
        if "name" in d:
            d["name"] = name(d["name"])
            out.append(d)
    return out


# Exact lags are mostly small numbers: one object each, shared (issue 29: 200,000 groups).
_SMALL_LAGS = tuple(Lag(LagSource.EXACT, value=i) for i in range(1024))
UNKNOWN_LAG = Lag(LagSource.UNKNOWN)


def exact_lag(value: int) -> Lag:
    return _SMALL_LAGS[value] if 0 <= value < len(_SMALL_LAGS) else Lag(LagSource.EXACT, value=value)


def group_lag(
    d: Mapping[str, Reply],
    estimate: int | None = None,
    capped: bool = False,
    stream: StreamInfo | None = None,
) -> Lag:
    """Lag from an XINFO GROUPS entry: exact when the server gives a number, else the estimate.

    With the stream's XINFO STREAM (`stream`), the one place the lag is checked against what the
    stream holds (model.entries_after_bound): a group below the first entry has the stream's
    length to read, exactly, whatever the server says; a server lag above the entries there can
    be after the position is never exact (the estimate, else unknown)."""
    return _lag(d, text(d.get("last-delivered-id")), estimate, capped, stream)


def _lag(
    d: Mapping[str, Reply],
    position: str | None,
    estimate: int | None,
    capped: bool,
    stream: StreamInfo | None,
) -> Lag:
    """group_lag with the group's last-delivered-id already decoded (`position`)."""
    lag = to_int(d.get("lag"))
    bound = (
        entries_after_bound(position, stream.length, stream.first_entry_id, stream.last_entry_id)
        if stream is not None and stream.error is None and not stream.stale
        else None
    )
    if bound is not None:
        most, exact = bound
        if exact:
            return exact_lag(most)
        if lag is not None and lag > most:
            lag = None  # impossible: never shown as exact
    if lag is not None:
        return exact_lag(lag)
    if estimate is not None:
        return Lag(LagSource.ESTIMATE, estimate=estimate, capped=capped)
    return UNKNOWN_LAG


def parse_consumers(reply: Reply) -> tuple[ConsumerInfo, ...]:
    """XINFO CONSUMERS."""
    out = []
    for item in _as_list(reply):
        d = pairs(item)
        if "name" not in d:
            continue
        out.append(
            ConsumerInfo(
                name=name(d["name"]),
                pending=to_int(d.get("pending")) or 0,
                idle_ms=to_int(d.get("idle")) or 0,
                inactive_ms=to_int(d.get("inactive")),
            )
        )
    return tuple(out)


def parse_pending_summary(reply: Reply, oldest: Reply = None) -> PendingSummary:
    """XPENDING key group (summary form), with an optional `XPENDING key group - + 1` reply."""
    if isinstance(reply, Mapping):  # not a server shape today, but cheap to accept
        d = pairs(reply)
        items = [d.get("pending"), d.get("min"), d.get("max"), d.get("consumers")]
    else:
        items = _as_list(reply) + [None] * 4
    consumers: list[tuple[bytes, int]] = []
    for row in _as_list(items[3]):
        if isinstance(row, Mapping):
            r = pairs(row)
            consumers.append((name(r.get("name")), to_int(r.get("pending")) or 0))
        elif isinstance(row, list | tuple) and len(row) >= 2:
            consumers.append((name(row[0]), to_int(row[1]) or 0))  # shared, as XINFO CONSUMERS' are
    entries = parse_pending_entries(oldest)
    return PendingSummary(
        count=to_int(items[0]) or 0,
        smallest_id=text(items[1]),
        greatest_id=text(items[2]),
        consumers=tuple(consumers),
        oldest=entries[0] if entries else None,
    )


def parse_pending_entries(reply: Reply) -> tuple[PendingEntry, ...]:
    """XPENDING key group start end count [consumer] (extended form)."""
    out = []
    for row in _as_list(reply):
        if not isinstance(row, list | tuple) or len(row) < 4:
            continue
        entry_id = text(row[0])
        if entry_id is None:
            continue
        out.append(
            PendingEntry(
                id=entry_id,
                consumer=_b(row[1]),
                idle_ms=to_int(row[2]) or 0,
                deliveries=to_int(row[3]) or 0,
            )
        )
    return tuple(out)


def parse_entries(reply: Reply) -> list[tuple[str, list[tuple[bytes, bytes]]]]:
    """XRANGE / XREVRANGE: [(id, [(field, value), ...]), ...]; deleted entries get no fields."""
    out = []
    for row in _as_list(reply):
        if not isinstance(row, list | tuple) or not row:
            continue
        entry_id = text(row[0])
        if entry_id is None:
            continue
        raw = row[1] if len(row) > 1 else None
        if isinstance(raw, Mapping):
            fields = [(_b(k), _b(v)) for k, v in raw.items()]
        else:
            flat = _as_list(raw)
            fields = [(_b(flat[i]), _b(flat[i + 1])) for i in range(0, len(flat) - 1, 2)]
        out.append((entry_id, fields))
    return out


def build_group(
    d: Mapping[str, Reply],
    consumers: Iterable[ConsumerInfo] = (),
    summary: PendingSummary | None = None,
    estimate: int | None = None,
    capped: bool = False,
    error: str | None = None,
    stream: StreamInfo | None = None,
) -> GroupInfo:
    """A GroupInfo from an XINFO GROUPS dict plus the per-group replies; with the stream's XINFO
    STREAM, the lag is checked against it (group_lag)."""
    given = text(d.get("last-delivered-id"))
    position = given or "0-0"
    if stream is not None:
        position = _same(position, stream.last_entry_id, stream.first_entry_id) or position
        if given is not None:
            given = position  # the equal ID already held (its hash too: id_key's cache)
    return GroupInfo(
        name=name(d.get("name")),
        consumers=to_int(d.get("consumers")) or 0,
        pending=to_int(d.get("pending")) or 0,
        last_delivered_id=position,
        entries_read=to_int(d.get("entries-read")),
        lag=_lag(d, given, estimate, capped, stream),
        consumer_list=tuple(consumers),
        pending_summary=summary,
        error=error,
    )


def parse_info(reply: Reply) -> dict[str, str]:
    """INFO as a dict of str (accepts redis-py's parsed dict or the raw text)."""
    if isinstance(reply, Mapping):
        return {str(k): text(v) or "" for k, v in reply.items()}
    body = text(reply) or ""
    out = {}
    for line in body.splitlines():
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return out


def version_tuple(text: str | None) -> tuple[int, int, int]:
    """ "7.2.4" -> (7, 2, 4); "9.1.2-rc1" -> (9, 1, 2): the leading ASCII digits of each part."""
    parts = []
    for piece in (text or "").strip().split(".")[:3]:
        m = re.match(r"[0-9]+", piece)  # not isdigit(): int("²") fails
        parts.append(int(m.group()) if m else 0)
    while len(parts) < 3:
        parts.append(0)
    return (parts[0], parts[1], parts[2])
