"""Claim runs that reach every stuck entry once: "claim all stuck" (XAUTOCLAIM, its cursor carried
from page to page until it wraps to 0-0) and "claim what one consumer holds" (XPENDING with IDLE
and the consumer filter, then XCLAIM in batches).

Why not XAUTOCLAIM from 0-0 at every key press: each run then takes the *oldest* idle entries,
which after the first run are the ones it just moved (idle again once min-idle has passed), so a
crashed consumer's later entries are never reached while the delivery counts of the first ones
climb. Here one run moves forward through the PEL and never claims an entry twice; a run stopped
by its cap returns the cursor, and the next run can start there.

Who held what: each XAUTOCLAIM page goes in one pipeline after an XPENDING IDLE of the same range
(the server runs the two back to back), so the result can say "from c1: 190". The XPENDING rows
are the entries XAUTOCLAIM may take (same start, same filter, same count), in the same order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..model import label
from ..parse import parse_entries, text
from .base import DETAIL, ActionResult, fail, is_lost, needs, next_id, pending_rows

if TYPE_CHECKING:
    from .core import Actions

PAGE = 100  # entries per XAUTOCLAIM or XCLAIM
MAX_CALLS = 100_000  # a backstop against a cursor that never reaches 0-0

Progress = Callable[[int, int], Any]  # (claimed so far, cap)


def _done(cursor: str | None) -> bool:
    return cursor in ("0-0", "0", None, "")


def owners_text(owners: dict[bytes, int]) -> str:
    """ "from 'c1' (190), 'c3' (2)": who held the claimed entries."""
    return ", ".join(f"'{label(o)}' ({n:,})" for o, n in sorted(owners.items(), key=lambda kv: -kv[1]))


def _count(owners: dict[bytes, int], who: bytes | None) -> None:
    if who is not None:
        owners[who] = owners.get(who, 0) + 1


async def claim_all(
    actions: Actions,
    key: bytes,
    group: bytes,
    consumer: bytes,
    min_idle_ms: int,
    cap: int,
    start: str,
    progress: Progress | None,
    cancel: asyncio.Event | None,
    dry_run: bool = False,
) -> ActionResult:
    """XAUTOCLAIM page after page from `start` until the cursor wraps to 0-0 or `cap` are claimed.
    `dry_run`: the same pages read with XPENDING IDLE alone (what XAUTOCLAIM would take: the same
    start, filter and count; entries without data it would drop, not claim), nothing claimed."""
    client = actions.client
    claimed: list[str] = []
    deleted: list[str] = []
    owners: dict[bytes, int] = {}
    missing, cursor, calls = 0, start, 0
    owned_before = await actions._owned(key, group, consumer)
    try:
        while len(claimed) < cap and calls < MAX_CALLS:
            if cancel is not None and cancel.is_set():
                break
            count = min(PAGE, cap - len(claimed))
            if dry_run:
                page, gone, cursor = await _would_take(client, key, group, min_idle_ms, cursor, count, owners)
                claimed += page
                deleted += gone
                calls += 1
                if _done(cursor):
                    break
                continue
            pipe = client.pipeline(transaction=False)
            pipe.execute_command("XPENDING", key, group, "IDLE", min_idle_ms, cursor, "+", count, **DETAIL)
            pipe.execute_command("XAUTOCLAIM", key, group, consumer, min_idle_ms, cursor, "COUNT", count)
            rows, reply = await pipe.execute()
            calls += 1
            held = {p.id: p.consumer for p in pending_rows(rows)}
            parts = list(reply) if isinstance(reply, list | tuple) else []
            cursor = text(parts[0]) if parts else "0-0"
            raw_entries = parts[1] if len(parts) > 1 else []
            missing += sum(1 for e in raw_entries or () if e is None)
            page = [i for i, _ in parse_entries([e for e in raw_entries or () if e])]
            for i in page:
                _count(owners, held.get(i))
            claimed += page
            if len(parts) > 2:
                deleted += [text(d) for d in parts[2] or () if d is not None]
            if progress is not None:
                progress(len(claimed), cap)
            if _done(cursor):
                break
    except Exception as exc:
        if is_lost(exc):
            return await actions._lost(
                actions._autoclaim_lost, exc, key, group, consumer, claimed, owned_before
            )
        return fail(exc, "claim", key, group, need=needs("+xautoclaim", (key,)), claimed=len(claimed))
    more = not _done(cursor)
    msg = f"{'would claim' if dry_run else 'claimed'} {len(claimed):,} into '{label(consumer)}'"
    if dry_run and not claimed:
        msg = (
            f"nothing to claim: no pending entry of '{label(group)}' idle {min_idle_ms:,} ms or more "
            f"from {start} on"
        )
    if owners:
        msg += f" from {owners_text(owners)}"
    if more:
        msg += (
            f" (cap {cap:,} reached; more may be claimable: run again from {cursor})"
            if len(claimed) >= cap
            else f" (stopped; run again from {cursor} for the rest)"
        )
    if deleted:
        msg += f"; {len(deleted):,} deleted entries dropped from the PEL by the server (their data is gone)"
    if missing:
        msg += f"; {missing:,} claimed entries no longer exist in the stream"
    return ActionResult(
        True,
        msg,
        {
            "claimed": len(claimed),
            "claimed_ids": claimed,
            "deleted_ids": deleted,
            "missing": missing,
            "owners": owners,
            "cursor": cursor,
            "more": more,
            "reports_deleted": actions.server.autoclaim_reports_deleted,
            "dry_run": dry_run,
            "nothing": not claimed,
        },
    )


async def _would_take(
    client: Any, key: bytes, group: bytes, min_idle_ms: int, lo: str, count: int, owners: dict[bytes, int]
) -> tuple[list[str], list[str], str]:
    """One page of a dry run: (IDs XAUTOCLAIM would claim, IDs it would drop as deleted, the next
    cursor). XPENDING IDLE from the same cursor lists the same entries in the same order."""
    rows = pending_rows(
        await client.execute_command("XPENDING", key, group, "IDLE", min_idle_ms, lo, "+", count, **DETAIL)
    )
    gone = set(await _without_data(client, key, [p.id for p in rows]))
    page = [p for p in rows if p.id not in gone]
    for p in page:
        _count(owners, p.consumer)
    cursor = next_id(rows[-1].id) if len(rows) >= count else "0-0"
    return [p.id for p in page], [p.id for p in rows if p.id in gone], cursor


async def claim_from(
    actions: Actions,
    key: bytes,
    group: bytes,
    source: bytes,
    consumer: bytes,
    min_idle_ms: int,
    cap: int,
    progress: Progress | None,
    cancel: asyncio.Event | None,
    dry_run: bool = False,
) -> ActionResult:
    """What `source` holds, idle at least `min_idle_ms`, into `consumer`: XPENDING IDLE with the
    consumer filter, then XCLAIM of that page (with the same min idle, so an entry another client
    claimed meanwhile, and whose idle time that reset, stays where it went)."""
    client = actions.client
    claimed: list[str] = []
    skipped: list[str] = []
    deleted: list[str] = []
    lo = "-"
    batch: tuple[str, ...] = ()
    try:
        while len(claimed) < cap:
            if cancel is not None and cancel.is_set():
                break
            count = min(PAGE, cap - len(claimed))
            rows = pending_rows(
                await client.execute_command(
                    "XPENDING", key, group, "IDLE", min_idle_ms, lo, "+", count, source, **DETAIL
                )
            )
            if not rows:
                break
            batch = tuple(p.id for p in rows)
            if dry_run:  # what XCLAIM would take: the entries that still have their data
                page = set(batch) - set(await _without_data(client, key, list(batch)))
            else:
                reply = await client.execute_command("XCLAIM", key, group, consumer, min_idle_ms, *batch)
                got = list(reply) if isinstance(reply, list | tuple) else []
                page = {i for i, _ in parse_entries([e for e in got if e])}
            claimed += [i for i in batch if i in page]
            # an ID left out (or answered nil, 6.2) was either claimed by another client meanwhile
            # or has no data any more: 7.0+ drops such an ID from the PEL, 6.2 claims it as nil
            without = await _without_data(client, key, [i for i in batch if i not in page])
            deleted += without
            skipped += [i for i in batch if i not in page and i not in set(without)]
            batch = ()
            if progress is not None:
                progress(len(claimed), cap)
            if len(rows) < count:
                break
            lo = next_id(rows[-1].id)
    except Exception as exc:
        if is_lost(exc) and batch:
            lost = await actions._lost(actions._claim_lost, exc, key, group, consumer, batch)
            return ActionResult(
                lost.ok or bool(claimed),
                f"{lost.message}; {len(claimed):,} claimed before that",
                {
                    **lost.details,
                    "claimed": len(claimed) + lost.details.get("claimed", 0),
                    "claimed_ids": claimed + list(lost.details.get("claimed_ids", [])),
                },
            )
        return fail(exc, "claim", key, group, need=needs("+xclaim", (key,)), claimed=len(claimed))
    if not claimed and not deleted:
        return ActionResult(
            True,
            f"nothing to claim: '{label(source)}' holds no entry idle "
            f"{min_idle_ms:,} ms or more in '{label(group)}'",
            {
                "claimed": 0,
                "claimed_ids": [],
                "deleted_ids": [],
                "skipped_ids": skipped,
                "owners": {},
                "nothing": True,
                "dry_run": dry_run,
            },
        )
    verb = "would claim" if dry_run else "claimed"
    msg = f"{verb} {len(claimed):,} from '{label(source)}' into '{label(consumer)}'"
    more = len(claimed) >= cap
    if more:
        msg += f" (stopped at the cap of {cap:,}: run again for the rest)"
    if deleted:
        msg += f"; {len(deleted):,} IDs without data (trimmed or deleted) were not claimed"
    if skipped:
        msg += f"; {len(skipped):,} changed hands or were acked meanwhile"
    return ActionResult(
        True,
        msg,
        {
            "claimed": len(claimed),
            "claimed_ids": claimed,
            "deleted_ids": deleted,
            "skipped_ids": skipped,
            "more": more,
            "owners": {source: len(claimed)} if claimed else {},
            "dry_run": dry_run,
            "nothing": not claimed,
        },
    )


async def _without_data(client: Any, key: bytes, ids: list[str]) -> list[str]:
    """Of these IDs, those whose entry is no longer in the stream."""
    if not ids:
        return []
    pipe = client.pipeline(transaction=False)
    for i in ids:
        pipe.execute_command("XRANGE", key, i, i)
    replies = await pipe.execute()
    return [i for i, rep in zip(ids, replies, strict=True) if not parse_entries(rep)]
