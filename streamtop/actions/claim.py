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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from streamtop.pipeline.connection import AsyncClient
from streamtop.pipeline.model import label
from streamtop.pipeline.parse import parse_entries, text

from .base import (
    DETAIL,
    MAX_CAP,
    ActionResult,
    ValidationError,
    check_id,
    check_ids,
    check_name,
    fail,
    is_lost,
    lost_words,
    needs,
    next_id,
    one_line,
    parse_idle,
    parse_int,
    pending_rows,
)
from .context import Context

PAGE = 100  # entries per XAUTOCLAIM or XCLAIM
MAX_CALLS = 100_000  # a backstop against a cursor that never reaches 0-0

Progress = Callable[[int, int], object]  # (claimed so far, cap); what it returns is not used


def _done(cursor: str | None) -> bool:
    return cursor in ("0-0", "0", None, "")


def owners_text(owners: dict[bytes, int]) -> str:
    """ "from 'c1' (190), 'c3' (2)": who held the claimed entries."""
    return ", ".join(f"'{label(o)}' ({n:,})" for o, n in sorted(owners.items(), key=lambda kv: -kv[1]))


def _count(owners: dict[bytes, int], who: bytes | None) -> None:
    if who is not None:
        owners[who] = owners.get(who, 0) + 1


@dataclass(frozen=True, kw_only=True)
class ClaimResult(ActionResult):
    """`claimed` (`claimed_ids`) into the consumer; `owners`: from whom (name: count);
    `skipped_ids`: not claimed (idle below the minimum, changed hands, acked meanwhile);
    `deleted_ids`: dropped from the PEL by the server (no data); `missing`: claimed without data
    (6.2); `cursor`/`more`: where a capped XAUTOCLAIM run continues; `reports_deleted`: the server
    lists deleted IDs (7.0+); `consumers`: the group's consumers, when the target was refused;
    after a lost reply, `owner_of` (ID: owner now) or `owned_before`/`owned_now`."""

    claimed: int = 0
    claimed_ids: list[str] = field(default_factory=list)
    skipped_ids: list[str] = field(default_factory=list)
    deleted_ids: list[str] = field(default_factory=list)
    missing: int = 0
    owners: dict[bytes, int] = field(default_factory=dict)
    cursor: str | None = None
    more: bool = False
    reports_deleted: bool | None = None
    consumers: list[bytes] | None = None
    owner_of: dict[str, bytes | None] = field(default_factory=dict)
    owned_before: int | None = None
    owned_now: int | None = None


async def claim_auto(
    ctx: Context,
    key: bytes | str,
    group: bytes | str,
    consumer: bytes | str,
    min_idle_ms: int | str,
    cap: int | str = 1000,
    *,
    must_exist: bool = False,
    start: str = "0-0",
    progress: Progress | None = None,
    cancel: asyncio.Event | None = None,
    dry_run: bool = False,
) -> ClaimResult:
    """Claim all stuck: XAUTOCLAIM (without JUSTID) with its cursor carried from `start` until
    it wraps to 0-0 or `cap` are claimed, so one run never claims an entry twice; the result
    says from whom, and the cursor to continue from when the cap stopped it.

    7.0+ also lists IDs it dropped from the PEL because their entries were deleted; 6.2 gives a
    2-element reply with `nil` for such entries and keeps them pending (counted as `missing`).
    `must_exist`: refuse unless `consumer` already is in the group (XAUTOCLAIM creates it).
    `dry_run`: the same checks and pages, nothing claimed (works in read-only mode).
    """
    key, group = check_name(key, "stream key"), check_name(group, "group")
    consumer = check_name(consumer, "consumer")
    min_idle = parse_idle(min_idle_ms)
    most = parse_int(cap, "cap", 1, MAX_CAP)
    start = check_id(start, "start ID")
    if refused := await _refusal(ctx, key, group, consumer, must_exist, dry_run):
        return refused
    return await _claim_all(ctx, key, group, consumer, min_idle, most, start, progress, cancel, dry_run)


async def claim_from(
    ctx: Context,
    key: bytes | str,
    group: bytes | str,
    source: bytes | str,
    consumer: bytes | str,
    min_idle_ms: int | str,
    cap: int | str = MAX_CAP,
    *,
    must_exist: bool = False,
    progress: Progress | None = None,
    cancel: asyncio.Event | None = None,
    dry_run: bool = False,
) -> ClaimResult:
    """Claim what `source` holds (idle at least `min_idle_ms`) into `consumer`: XPENDING IDLE
    with the consumer filter, then XCLAIM in batches, forward through the PEL."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    source, consumer = check_name(source, "source consumer"), check_name(consumer, "consumer")
    if source == consumer:
        raise ValidationError("the source and the target consumer are the same")
    min_idle = parse_idle(min_idle_ms)
    most = parse_int(cap, "cap", 1, MAX_CAP)
    if refused := await _refusal(ctx, key, group, consumer, must_exist, dry_run):
        return refused
    return await _claim_from(ctx, key, group, source, consumer, min_idle, most, progress, cancel, dry_run)


async def claim_ids(
    ctx: Context,
    key: bytes | str,
    group: bytes | str,
    consumer: bytes | str,
    min_idle_ms: int | str,
    ids: Sequence[str],
    *,
    must_exist: bool = False,
) -> ClaimResult:
    """XCLAIM exactly these IDs; those idle less than `min_idle_ms` or no longer pending stay."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    consumer = check_name(consumer, "consumer")
    min_idle = parse_idle(min_idle_ms)
    wanted = check_ids(ids, "pending entry")
    if refused := await _refusal(ctx, key, group, consumer, must_exist):
        return refused
    try:
        reply = await ctx.cmd("XCLAIM", key, group, consumer, min_idle, *wanted)
    except Exception as exc:
        if is_lost(exc):
            return await ctx.lost(_claim_lost, exc, key, group, consumer, wanted)
        return fail(ClaimResult, exc, "claim", key, group, need=needs("+xclaim", (key,)))
    rows = list(reply) if isinstance(reply, list | tuple) else []
    claimed = [i for i, _ in parse_entries([e for e in rows if e])]
    missing = sum(1 for e in rows if e is None)
    skipped = [i for i in wanted if i not in set(claimed)]
    msg = f"claimed {len(claimed)} of {len(wanted)} into '{label(consumer)}'"
    if skipped:
        msg += f"; {len(skipped)} not claimed (idle below min, or no longer pending)"
    return ClaimResult(
        True, msg, claimed=len(claimed), claimed_ids=claimed, skipped_ids=skipped, missing=missing
    )


async def _refusal(
    ctx: Context, key: bytes, group: bytes, consumer: bytes, must_exist: bool, dry_run: bool = False
) -> ClaimResult | None:
    """Why a claim into `consumer` does not run: read-only (a dry run runs anyway), or `must_exist`
    and the consumer is not in the group; None when it may."""
    if not dry_run and (refused := ctx.refusal(ClaimResult, "claim")):
        return refused
    return await _consumer_check(ctx, key, group, consumer, must_exist)


async def _consumer_check(
    ctx: Context, key: bytes, group: bytes, consumer: bytes, must_exist: bool
) -> ClaimResult | None:
    if not must_exist:
        return None
    try:
        names = [n for n, _ in await ctx.consumers(key, group)]
    except Exception as exc:
        return fail(ClaimResult, exc, "claim", key, group)
    if not names:
        return ClaimResult(
            False,
            f"group '{label(group)}' has no consumers yet: type a new consumer name to create one",
            consumers=[],
        )
    if consumer not in names:
        return ClaimResult(
            False, f"no consumer '{label(consumer)}' in group '{label(group)}'", consumers=names
        )
    return None


async def _owned(ctx: Context, key: bytes, group: bytes, consumer: bytes) -> int | None:
    """How many pending entries `consumer` owns (None if unknown): the baseline for telling
    what an XAUTOCLAIM whose reply was lost did."""
    try:
        return dict(await ctx.consumers(key, group)).get(consumer, 0)
    except Exception:
        return None


async def _autoclaim_lost(
    ctx: Context,
    exc: BaseException,
    key: bytes,
    group: bytes,
    consumer: bytes,
    claimed: list[str],
    before: int | None,
) -> ClaimResult:
    head = (
        f"claim: {lost_words(exc)} after XAUTOCLAIM was sent ({one_line(exc)}); "
        f"{len(claimed)} claimed before that"
    )
    base = ClaimResult(
        False, head, error=str(exc), lost_reply=True, claimed=len(claimed), claimed_ids=claimed
    )
    now = await _owned(ctx, key, group, consumer)
    if now is None or before is None:
        return replace(
            base,
            message=f"{head}; more may have been claimed: check with XPENDING "
            f"{label(key)} {label(group)} - + 100 {label(consumer)}",
            may_have_applied=True,
        )
    return replace(
        base,
        ok=True,
        message=f"{head}; '{label(consumer)}' now owns {now:,} pending entries "
        f"({now - before:+,} since the claim started)",
        owned_before=before,
        owned_now=now,
    )


async def _claim_lost(
    ctx: Context, exc: BaseException, key: bytes, group: bytes, consumer: bytes, ids: tuple[str, ...]
) -> ClaimResult:
    """The XCLAIM's reply was lost: who owns each of the IDs now."""
    got = await ctx.reread(*[("XPENDING", key, group, i, i, 1) for i in ids])
    head = f"claim: {lost_words(exc)} after XCLAIM was sent ({one_line(exc)})"
    if got is None or any(isinstance(g, Exception) for g in got):
        return ClaimResult(
            False,
            f"{head}: it may have been applied; check with XPENDING {label(key)} {label(group)} - + 100",
            error=str(exc),
            lost_reply=True,
            may_have_applied=True,
        )
    owners: dict[str, bytes | None] = {}
    for i, rep in zip(ids, got, strict=True):
        rows = pending_rows(rep)
        owners[i] = rows[0].consumer if rows else None
    mine = [i for i, o in owners.items() if o == consumer]
    others: dict[bytes, int] = {}
    for o in owners.values():
        if o is not None and o != consumer:
            others[o] = others.get(o, 0) + 1
    msg = f"{head}: {len(mine)} of {len(ids)} now belong to '{label(consumer)}'"
    if others:
        msg += "; " + ", ".join(f"{n} to '{label(o)}'" for o, n in others.items())
    if gone := sum(1 for o in owners.values() if o is None):
        msg += f"; {gone} no longer pending"
    return ClaimResult(
        bool(mine),
        msg,
        error=str(exc),
        lost_reply=True,
        claimed=len(mine),
        claimed_ids=mine,
        owner_of=owners,
    )


async def _claim_all(
    ctx: Context,
    key: bytes,
    group: bytes,
    consumer: bytes,
    min_idle_ms: int,
    cap: int,
    start: str,
    progress: Progress | None,
    cancel: asyncio.Event | None,
    dry_run: bool = False,
) -> ClaimResult:
    """XAUTOCLAIM page after page from `start` until the cursor wraps to 0-0 or `cap` are claimed.
    `dry_run`: the same pages read with XPENDING IDLE alone (what XAUTOCLAIM would take: the same
    start, filter and count; entries without data it would drop, not claim), nothing claimed."""
    client = ctx.client
    claimed: list[str] = []
    deleted: list[str] = []
    owners: dict[bytes, int] = {}
    missing, cursor, calls = 0, start, 0
    owned_before = await _owned(ctx, key, group, consumer)
    try:
        while len(claimed) < cap and calls < MAX_CALLS:
            if cancel is not None and cancel.is_set():
                break
            count = min(PAGE, cap - len(claimed))
            if dry_run:
                page, gone, cursor = await _would_take(client, key, group, min_idle_ms, cursor, count, owners)
                nil = 0
            else:
                page, gone, nil, cursor = await _autoclaim_page(
                    client, key, group, consumer, min_idle_ms, cursor, count, owners
                )
            calls += 1
            claimed += page
            deleted += gone
            missing += nil
            if progress is not None and not dry_run:
                progress(len(claimed), cap)
            if _done(cursor):
                break
    except Exception as exc:
        if is_lost(exc):
            return await ctx.lost(_autoclaim_lost, exc, key, group, consumer, claimed, owned_before)
        need = needs("+xautoclaim", (key,))
        return fail(ClaimResult, exc, "claim", key, group, need=need, claimed=len(claimed))
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
    return ClaimResult(
        True,
        msg,
        claimed=len(claimed),
        claimed_ids=claimed,
        deleted_ids=deleted,
        missing=missing,
        owners=owners,
        cursor=cursor,
        more=more,
        reports_deleted=ctx.server.autoclaim_reports_deleted,
        dry_run=dry_run,
        nothing=not claimed,
    )


async def _autoclaim_page(
    client: AsyncClient,
    key: bytes,
    group: bytes,
    consumer: bytes,
    min_idle_ms: int,
    cursor: str,
    count: int,
    owners: dict[bytes, int],
) -> tuple[list[str], list[str], int, str]:
    """One XAUTOCLAIM page, after an XPENDING IDLE of the same range in the same round trip (who
    held each): (IDs claimed, IDs the server dropped as deleted, nil entries (6.2), next cursor)."""
    pipe = client.pipeline(transaction=False)
    pipe.execute_command("XPENDING", key, group, "IDLE", min_idle_ms, cursor, "+", count, **DETAIL)
    pipe.execute_command("XAUTOCLAIM", key, group, consumer, min_idle_ms, cursor, "COUNT", count)
    rows, reply = await pipe.execute()
    held = {p.id: p.consumer for p in pending_rows(rows)}
    parts = list(reply) if isinstance(reply, list | tuple) else []
    raw_entries = (parts[1] if len(parts) > 1 else None) or []
    page = [i for i, _ in parse_entries([e for e in raw_entries if e])]
    for i in page:
        _count(owners, held.get(i))
    deleted = [text(d) for d in parts[2] or () if d is not None] if len(parts) > 2 else []
    missing = sum(1 for e in raw_entries if e is None)
    return page, deleted, missing, (text(parts[0]) if parts else "0-0")


async def _would_take(
    client: AsyncClient,
    key: bytes,
    group: bytes,
    min_idle_ms: int,
    lo: str,
    count: int,
    owners: dict[bytes, int],
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


async def _claim_from(
    ctx: Context,
    key: bytes,
    group: bytes,
    source: bytes,
    consumer: bytes,
    min_idle_ms: int,
    cap: int,
    progress: Progress | None,
    cancel: asyncio.Event | None,
    dry_run: bool = False,
) -> ClaimResult:
    """What `source` holds, idle at least `min_idle_ms`, into `consumer`: XPENDING IDLE with the
    consumer filter, then XCLAIM of that page (with the same min idle, so an entry another client
    claimed meanwhile, and whose idle time that reset, stays where it went)."""
    client = ctx.client
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
            lost = await ctx.lost(_claim_lost, exc, key, group, consumer, batch)
            return replace(
                lost,
                ok=lost.ok or bool(claimed),
                message=f"{lost.message}; {len(claimed):,} claimed before that",
                claimed=len(claimed) + lost.claimed,
                claimed_ids=claimed + lost.claimed_ids,
                recheck=None,
            )
        return fail(
            ClaimResult, exc, "claim", key, group, need=needs("+xclaim", (key,)), claimed=len(claimed)
        )
    if not claimed and not deleted:
        return ClaimResult(
            True,
            f"nothing to claim: '{label(source)}' holds no entry idle "
            f"{min_idle_ms:,} ms or more in '{label(group)}'",
            skipped_ids=skipped,
            nothing=True,
            dry_run=dry_run,
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
    return ClaimResult(
        True,
        msg,
        claimed=len(claimed),
        claimed_ids=claimed,
        deleted_ids=deleted,
        skipped_ids=skipped,
        more=more,
        owners={source: len(claimed)} if claimed else {},
        dry_run=dry_run,
        nothing=not claimed,
    )


async def _without_data(client: AsyncClient, key: bytes, ids: list[str]) -> list[str]:
    """Of these IDs, those whose entry is no longer in the stream."""
    if not ids:
        return []
    pipe = client.pipeline(transaction=False)
    for i in ids:
        pipe.execute_command("XRANGE", key, i, i)
    replies = await pipe.execute()
    return [i for i, rep in zip(ids, replies, strict=True) if not parse_entries(rep)]
