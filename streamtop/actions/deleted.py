"""Pending entries without data (trimmed or XDEL'd while pending): find them in a group's PEL and
ack them. They can never be processed, so acking them loses nothing; and an ID's data never comes
back, so an ID found without data is still without data when the XACK runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from streamtop.pipeline.model import label
from streamtop.pipeline.nodata import read_bounds, without_data

from .base import DETAIL, ActionResult, check_name, fail, is_lost, needs, next_id, one_line, pending_rows
from .context import Context

PAGE = 1000
MAX_SCAN = 1_000_000  # PEL entries read per run (run again for more)
ACK_CHUNK = 1000


@dataclass(frozen=True, kw_only=True)
class WithoutData(ActionResult):
    """The pending entries without data found (`ids`, `count`) in the first `pending_read`
    entries of the PEL (`capped`: there are more)."""

    ids: list[str] = field(default_factory=list)
    count: int = 0
    capped: bool = False
    pending_read: int = 0


@dataclass(frozen=True, kw_only=True)
class AckWithoutData(ActionResult):
    """`acked` of the entries without data found (`ids`); `capped`: run again for more."""

    acked: int = 0
    ids: list[str] = field(default_factory=list)
    capped: bool = False


async def find(ctx: Context, key: bytes, group: bytes) -> tuple[list[str], int, bool]:
    """(IDs without data in PEL order, PEL entries read, capped)."""
    client = ctx.client
    bounds = await read_bounds(client, key)
    found: list[str] = []
    seen, lo = 0, "-"
    while seen < MAX_SCAN:
        rows = pending_rows(await client.execute_command("XPENDING", key, group, lo, "+", PAGE, **DETAIL))
        seen += len(rows)
        gone = await without_data(client, key, [r.id for r in rows], bounds)
        found += [r.id for r in rows if r.id in gone]
        if len(rows) < PAGE:
            return found, seen, False
        lo = next_id(rows[-1].id)
    return found, seen, True


async def without_data_preview(ctx: Context, key: bytes | str, group: bytes | str) -> WithoutData:
    """Which pending entries of the group have no data any more (`ids`). A read."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    try:
        ids, seen, capped = await find(ctx, key, group)
    except Exception as exc:
        return fail(WithoutData, exc, "find entries without data", key, group)
    more = f" (the first {seen:,} pending entries read)" if capped else ""
    msg = (
        f"{len(ids):,} pending entries of '{label(group)}' have no data (trimmed or deleted){more}"
        if ids
        else f"every pending entry of '{label(group)}' still has its data"
    )
    return WithoutData(True, msg, ids=ids, count=len(ids), capped=capped, pending_read=seen)


async def ack_without_data(ctx: Context, key: bytes | str, group: bytes | str) -> AckWithoutData:
    """XACK every pending entry of the group whose data is gone (it can never be processed)."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    if refused := ctx.refusal(AckWithoutData, "ack entries without data"):
        return refused
    client = ctx.client
    need = needs("+xack", (key,))
    acked = 0
    try:
        ids, seen, capped = await find(ctx, key, group)
        for at in range(0, len(ids), ACK_CHUNK):
            acked += int(await client.execute_command("XACK", key, group, *ids[at : at + ACK_CHUNK]) or 0)
    except Exception as exc:
        if is_lost(exc):
            return AckWithoutData(
                False,
                f"ack without data: the connection dropped ({one_line(exc)}) after "
                f"{acked:,} were acked; run it again to ack the rest (acking twice is "
                "harmless)",
                error=str(exc),
                acked=acked,
                lost_reply=True,
            )
        return fail(AckWithoutData, exc, "ack without data", key, group, need=need, acked=acked)
    if not ids:
        return AckWithoutData(
            True, f"nothing to ack: every pending entry of '{label(group)}' still has its data", nothing=True
        )
    msg = f"acked {acked:,} pending entries without data in '{label(group)}'"
    if acked < len(ids):
        msg += f"; {len(ids) - acked:,} were acked meanwhile"
    if capped:
        msg += f" (the first {seen:,} pending entries read: run again for more)"
    return AckWithoutData(True, msg, acked=acked, ids=ids, capped=capped)
