"""How a dead-lettered entry is written, and read back by redrive: the entry's own fields, in order
and untouched, then the metadata, then `dlq-fields` = how many of the pairs are the entry's own.

Why a count: the entry's own fields may be named anything, `dlq-missing` or `dlq-source` too, so
no rule on names can tell where they end (issue 24: reading "the trailing run of dlq-* fields" took
an entry's own last field `dlq-missing` for metadata and lost it). The count, always the last pair,
says exactly where they end.

The previous format (streamtop before issue 24) wrote no count; its metadata was always exactly
dlq-original-id, dlq-group, dlq-consumer, dlq-deliveries, dlq-source, in that order, plus
`dlq-missing 1` after them when the entry had no data (and then no fields of its own). That fixed
tail is what is taken as metadata from such an entry, nothing more; an entry that ends in neither
form was not written by streamtop and is all its own fields.
"""

from __future__ import annotations

from dataclasses import dataclass

ORIGINAL_ID = b"dlq-original-id"
GROUP = b"dlq-group"
CONSUMER = b"dlq-consumer"
DELIVERIES = b"dlq-deliveries"
SOURCE = b"dlq-source"
MISSING = b"dlq-missing"
COUNT = b"dlq-fields"
OLD_TAIL = (ORIGINAL_ID, GROUP, CONSUMER, DELIVERIES, SOURCE)

Pairs = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class DlqEntry:
    """One DLQ entry split into what goes back and what dead-letter recorded about it."""

    id: str
    fields: Pairs  # the original fields, in order, duplicates kept
    meta: dict[bytes, bytes]

    @property
    def source(self) -> bytes | None:
        return self.meta.get(SOURCE)

    @property
    def group(self) -> bytes | None:
        return self.meta.get(GROUP)

    @property
    def original_id(self) -> str | None:
        raw = self.meta.get(ORIGINAL_ID)
        return raw.decode("ascii", "replace") if raw is not None else None

    @property
    def missing(self) -> bool:
        return self.meta.get(MISSING) == b"1"


def _b(value: bytes | str | int) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def encode(
    fields: list[tuple[bytes, bytes]] | Pairs,
    entry_id: str,
    group: bytes,
    consumer: bytes,
    deliveries: int,
    source: bytes,
    missing: bool,
) -> list[bytes]:
    """The XADD arguments (after the ID) of the DLQ copy: own fields, metadata, the count."""
    out = [x for kv in fields for x in kv]
    meta = [
        (ORIGINAL_ID, _b(entry_id)),
        (GROUP, group),
        (CONSUMER, consumer),
        (DELIVERIES, _b(deliveries)),
        (SOURCE, source),
    ]
    if missing:
        meta.append((MISSING, b"1"))
    meta.append((COUNT, _b(len(fields))))
    return out + [x for kv in meta for x in kv]


def decode(entry_id: str, pairs: list[tuple[bytes, bytes]] | Pairs) -> DlqEntry:
    """Split a DLQ entry (either format) into its own fields and the metadata."""
    pairs = tuple(pairs)
    if pairs and pairs[-1][0] == COUNT:
        raw = pairs[-1][1]
        if raw.isdigit() and int(raw) <= len(pairs) - 1:
            n = int(raw)
            return DlqEntry(entry_id, pairs[:n], dict(pairs[n:]))
    names = tuple(k for k, _ in pairs)
    if names[-5:] == OLD_TAIL:
        return DlqEntry(entry_id, pairs[:-5], dict(pairs[-5:]))
    if names[-6:] == (*OLD_TAIL, MISSING):
        return DlqEntry(entry_id, pairs[:-6], dict(pairs[-6:]))
    return DlqEntry(entry_id, pairs, {})
