"""Reads of a group's PEL that dialogs and dry runs show before a claim or an ack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from streamtop.pipeline.connection import Arg
from streamtop.pipeline.model import PendingEntry, label

from .base import (
    DETAIL,
    MAX_CAP,
    ActionResult,
    check_ids,
    check_name,
    fail,
    next_id,
    parse_idle,
    parse_int,
    pending_rows,
)
from .context import Context


@dataclass(frozen=True, kw_only=True)
class PendingList(ActionResult):
    """The pending entries read (`rows`, their `ids`), how many each consumer holds (`owners`),
    `capped`: the cap stopped the read."""

    rows: tuple[PendingEntry, ...] = ()
    ids: list[str] = field(default_factory=list)
    count: int = 0
    owners: dict[bytes, int] = field(default_factory=dict)
    capped: bool = False


@dataclass(frozen=True, kw_only=True)
class PendingIds(ActionResult):
    """Of the IDs asked about: those pending (`ids`) and those not (`not_pending`)."""

    ids: list[str] = field(default_factory=list)
    not_pending: list[str] = field(default_factory=list)


async def pending_list(
    ctx: Context,
    key: bytes | str,
    group: bytes | str,
    consumer: bytes | str | None = None,
    min_idle_ms: int | str = 0,
    cap: int | str = MAX_CAP,
) -> PendingList:
    """The group's pending entries (of one consumer, idle at least `min_idle_ms`), up to `cap`,
    in PEL order: what a claim or an ack of a consumer would take (dry runs, previews). A read."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    who = check_name(consumer, "consumer") if consumer not in (None, "", b"") else None
    min_idle_ms = parse_idle(min_idle_ms)
    cap = parse_int(cap, "cap", 1, MAX_CAP)
    rows: list[PendingEntry] = []
    lo = "-"
    try:
        while len(rows) < cap:
            count = min(1000, cap - len(rows))
            args: list[Arg] = ["XPENDING", key, group, "IDLE", min_idle_ms, lo, "+", count]
            args += [who] if who is not None else []
            page = pending_rows(await ctx.client.execute_command(*args, **DETAIL))
            rows += page
            if len(page) < count:
                break
            lo = next_id(page[-1].id)
    except Exception as exc:
        return fail(PendingList, exc, "pending entries", key, group)
    owners: dict[bytes, int] = {}
    for p in rows:
        owners[p.consumer] = owners.get(p.consumer, 0) + 1
    of = f" of '{label(who)}'" if who is not None else ""
    idle = f" idle {min_idle_ms:,} ms or more" if min_idle_ms else ""
    return PendingList(
        True,
        f"{len(rows):,} pending entries{of}{idle} in '{label(group)}'",
        rows=tuple(rows),
        ids=[p.id for p in rows],
        count=len(rows),
        owners=owners,
        capped=len(rows) >= cap,
    )


async def pending_ids(ctx: Context, key: bytes | str, group: bytes | str, ids: Sequence[str]) -> PendingIds:
    """Which of these IDs are pending in the group (`ids`). A read."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    wanted = check_ids(ids, "pending entry")
    try:
        pipe = ctx.client.pipeline(transaction=False)
        for i in wanted:
            pipe.execute_command("XPENDING", key, group, i, i, 1, **DETAIL)
        replies = await pipe.execute()
    except Exception as exc:
        return fail(PendingIds, exc, "pending entries", key, group)
    found = [i for i, rep in zip(wanted, replies, strict=True) if pending_rows(rep)]
    return PendingIds(
        True,
        f"{len(found)} of {len(wanted)} are pending in '{label(group)}'",
        ids=found,
        not_pending=[i for i in wanted if i not in set(found)],
    )
