"""Produce: one test sensor event, or a burst of them in pipelined chunks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from streamtop.pipeline.model import label
from streamtop.pipeline.parse import parse_entries, text, to_int

from ..events import sensor_event, xadd_many
from .base import (
    MAX_BURST,
    MAX_MAXLEN,
    ActionResult,
    check_name,
    fail,
    is_auth_failure,
    is_lost,
    is_not_answering,
    lost_words,
    needs,
    next_id,
    one_line,
    parse_int,
)
from .context import Context

BURST_CHUNK = 500  # XADDs per round trip of a burst (progress and cancel act per chunk)


@dataclass(frozen=True, kw_only=True)
class ProduceResult(ActionResult):
    """`id`: the new entry's ID; `fields`: what it holds; `lost_first`: the drop that came before
    an authentication failure on reconnect."""

    id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    added: int = 0
    lost_first: str | None = None


@dataclass(frozen=True, kw_only=True)
class BurstResult(ActionResult):
    """`added` of `requested`; after a lost chunk, `added_confirmed` by replies and
    `added_in_lost_chunk` found on the server after the last confirmed entry."""

    added: int = 0
    requested: int = 0
    last_id: str | None = None
    cancelled: bool = False
    added_confirmed: int = 0
    added_in_lost_chunk: int = 0


async def produce_one(ctx: Context, key: bytes | str) -> ProduceResult:
    """One test sensor event with an auto ID."""
    key = check_name(key, "stream key")
    if refused := ctx.refusal(ProduceResult, "produce"):
        return refused
    fields = sensor_event()
    try:
        reply = await ctx.cmd("XADD", key, "*", *[x for kv in fields.items() for x in kv])
    except Exception as exc:
        res = fail(ProduceResult, exc, "produce", key, need=needs("+xadd", (key,)))
        if not is_lost(exc):
            return res
        again = None if is_not_answering(exc) else await ctx.reconnect_error()
        if again is not None and is_auth_failure(again):  # a restart with other credentials
            return fail(ProduceResult, again, "produce", key, lost_first=str(exc))
        return ProduceResult(
            False,
            f"{res.message}: the event may have been added (check with XREVRANGE {label(key)} + - COUNT 1)",
            error=res.error,
            lost_reply=True,
            may_have_applied=True,
        )
    entry_id = text(reply)
    return ProduceResult(
        True,
        f"added {entry_id} to '{label(key)}' ({fields['sensor_id']}, temp {fields['temp']})",
        id=entry_id,
        fields=fields,
        added=1,
    )


async def produce_burst(
    ctx: Context,
    key: bytes | str,
    n: int | str,
    maxlen: int | str | None = None,
    approx: bool = False,
    progress: Callable[[int, int], object] | None = None,
    cancel: asyncio.Event | None = None,
) -> BurstResult:
    """N test events in pipelined chunks. `progress(done, n)` after each chunk; setting
    `cancel` stops after the chunk in flight (what was sent stays and is reported).

    The count is exact on error: a server error (OOM, NOPERM) counts the chunk's replies that
    were IDs; a chunk whose replies were lost is counted on the server afterwards (entries
    after the last confirmed ID, see `_lost_chunk`)."""
    key = check_name(key, "stream key")
    n = parse_int(n, "burst size", 1, MAX_BURST)
    maxlen = parse_int(maxlen, "MAXLEN", 0, MAX_MAXLEN) if maxlen not in (None, "") else None
    if refused := ctx.refusal(BurstResult, "produce burst"):
        return refused
    need = needs("+xadd", (key,))
    done, last_id, chunk_done = 0, None, 0

    def on_chunk(added: int) -> None:
        nonlocal chunk_done
        chunk_done = added

    try:  # where this burst starts: its entries are the ones after the current last entry
        last = parse_entries(await ctx.cmd("XREVRANGE", key, "+", "-", "COUNT", 1))
        start_id = last[0][0] if last else None
    except Exception as exc:
        res = fail(BurstResult, exc, "produce burst", key, need=need)
        return BurstResult(False, f"{res.message} (after 0 of {n:,} added)", error=res.error, requested=n)
    while done < n and not (cancel is not None and cancel.is_set()):
        batch = [sensor_event() for _ in range(min(BURST_CHUNK, n - done))]
        chunk_done = 0
        try:
            _, lid = await xadd_many(
                ctx.client, key, batch, maxlen=maxlen, approx=approx, chunk=BURST_CHUNK, progress=on_chunk
            )
        except Exception as exc:
            if is_lost(exc):
                return await ctx.lost(_lost_chunk, exc, key, n, done, last_id or start_id, len(batch))
            done += chunk_done
            res = fail(BurstResult, exc, "produce burst", key, need=need)
            return BurstResult(
                False,
                f"{res.message} (after {done:,} of {n:,} added)",
                error=res.error,
                added=done,
                requested=n,
            )
        done += len(batch)
        last_id = lid or last_id
        if progress is not None:
            progress(done, n)
    cancelled = done < n
    msg = (
        f"burst cancelled: {done:,} of {n:,} events added to '{label(key)}'"
        if cancelled
        else f"added {done:,} events to '{label(key)}'"
    )
    return BurstResult(True, msg, added=done, requested=n, last_id=last_id, cancelled=cancelled)


async def _lost_chunk(
    ctx: Context, exc: BaseException, key: bytes, n: int, done: int, after: str | None, size: int
) -> BurstResult:
    """The reply of a chunk was lost: count what the server has after the last confirmed ID
    (entries of other writers in that span would be counted too; a MAXLEN may have trimmed)."""
    start = next_id(after) if after else "-"
    got = await ctx.reread(("XRANGE", key, start, "+", "COUNT", size + 1), ("XLEN", key))
    if got is None or any(isinstance(g, Exception) for g in got):
        return BurstResult(
            False,
            f"produce burst: {lost_words(exc)} after a chunk of {size:,} "
            f"was sent ({one_line(exc)}); {done:,} of {n:,} confirmed added, up to "
            f"{size:,} more may have been added: check with XLEN {label(key)}",
            added=done,
            may_have_applied=True,
            error=str(exc),
            requested=n,
            added_confirmed=done,
            lost_reply=True,
        )
    found = min(size, len(parse_entries(got[0])))
    total = done + found
    return BurstResult(
        False,
        f"produce burst: {lost_words(exc)} after a chunk of {size:,} was "
        f"sent ({one_line(exc)}): {total:,} of {n:,} added ({done:,} confirmed, "
        f"{found:,} found after the last confirmed entry); '{label(key)}' now has "
        f"{to_int(got[1]) or 0:,} entries",
        added=total,
        added_in_lost_chunk=found,
        error=str(exc),
        requested=n,
        added_confirmed=done,
        lost_reply=True,
    )
