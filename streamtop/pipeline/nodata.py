"""Pending entries without data: PEL IDs whose stream entry is gone (trimmed or XDEL'd while pending).

They can never be processed (XREADGROUP and XCLAIM give no fields, 7.0+ XAUTOCLAIM drops them), so
the dashboard marks them, the trim preview counts them apart from the entries a trim would take,
and one action acks them.

Telling them apart costs little because of two facts of the server (measured on 7.0 and 9.1):
- an ID below the stream's first entry has no data (trimmed, or deleted at the head);
- `max-deleted-entry-id` (XINFO STREAM, 7.0+) is the greatest ID ever XDEL'd; a trim does not move
  it. So an ID above it (and at or after the first entry) certainly has its data.
Only the IDs in [first entry, max-deleted-entry-id] are looked up, one `XRANGE id id` each; on 6.2
(no such field) every ID from the first entry on is. A stream that never saw an XDEL has
max-deleted-entry-id 0-0: nothing is looked up at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from streamtop.pipeline.model import id_key
from streamtop.pipeline.parse import Reply, parse_entries

CHECK_CHUNK = 1000  # XRANGE id id per round trip


@dataclass(frozen=True, slots=True)
class Bounds:
    """What decides whether an ID still has its data, from one XINFO STREAM."""

    first_id: str | None  # None: the stream is empty (every pending ID is without data)
    max_deleted_id: str | None  # None: the server does not say (6.2): look everything up

    def below_first(self, entry_id: str) -> bool:
        return self.first_id is None or _key(entry_id) < _key(self.first_id)

    def needs_lookup(self, entry_id: str) -> bool:
        """Neither certainly gone (below the first entry) nor certainly there (after every XDEL)."""
        if self.below_first(entry_id):
            return False
        return self.max_deleted_id is None or _key(entry_id) <= _key(self.max_deleted_id)


def _key(entry_id: str) -> tuple[int, int]:
    return id_key(entry_id) or (0, 0)


def bounds_from_info(info: Mapping[str, Reply]) -> Bounds:
    """From XINFO STREAM as pairs (parse.pairs) or a parsed dict."""
    from streamtop.pipeline.parse import text, to_int

    first = info.get("first-entry")
    first_id = text(first[0]) if isinstance(first, list | tuple) and first else None
    if to_int(info.get("length")) == 0:
        first_id = None
    maxdel = info.get("max-deleted-entry-id")
    return Bounds(first_id, text(maxdel) if maxdel is not None else None)


async def read_bounds(client: aioredis.Redis | aioredis.RedisCluster, key: bytes) -> Bounds:
    from streamtop.pipeline.parse import pairs

    return bounds_from_info(pairs(await client.execute_command("XINFO", "STREAM", key)))


def lookup_commands(key: bytes, ids: Iterable[str]) -> list[tuple[bytes | str | int | float, ...]]:
    return [("XRANGE", key, i, i) for i in ids]


def gone_from_replies(ids: Sequence[str], replies: Sequence[Reply]) -> set[str]:
    """The looked-up IDs whose XRANGE came back empty (an error counts as unknown: not gone)."""
    return {
        i
        for i, rep in zip(ids, replies, strict=True)
        if not isinstance(rep, Exception) and not parse_entries(rep)
    }


async def without_data(
    client: aioredis.Redis | aioredis.RedisCluster, key: bytes, ids: Sequence[str], bounds: Bounds
) -> set[str]:
    """Which of these pending IDs have no entry in the stream any more."""
    gone = {i for i in ids if bounds.below_first(i)}
    unsure = [i for i in ids if bounds.needs_lookup(i)]
    for at in range(0, len(unsure), CHECK_CHUNK):
        chunk = unsure[at : at + CHECK_CHUNK]
        pipe = client.pipeline(transaction=False)
        for args in lookup_commands(key, chunk):
            pipe.execute_command(*args)
        gone |= gone_from_replies(chunk, await pipe.execute(raise_on_error=False))
    return gone
