"""Pending entries without data (trimmed or XDEL'd while pending): find them in a group's PEL and
ack them. They can never be processed, so acking them loses nothing; and an ID's data never comes
back, so an ID found without data is still without data when the XACK runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import label
from ..nodata import read_bounds, without_data
from .base import DETAIL, ActionResult, fail, is_lost, needs, next_id, one_line, pending_rows

if TYPE_CHECKING:
    from .core import Actions

PAGE = 1000
MAX_SCAN = 1_000_000  # PEL entries read per run (run again for more)
ACK_CHUNK = 1000


async def find(actions: Actions, key: bytes, group: bytes) -> tuple[list[str], int, bool]:
    """(IDs without data in PEL order, PEL entries read, capped)."""
    client = actions.client
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


async def preview(actions: Actions, key: bytes, group: bytes) -> ActionResult:
    try:
        ids, seen, capped = await find(actions, key, group)
    except Exception as exc:
        return fail(exc, "find entries without data", key, group)
    more = f" (the first {seen:,} pending entries read)" if capped else ""
    msg = (
        f"{len(ids):,} pending entries of '{label(group)}' have no data (trimmed or deleted){more}"
        if ids
        else f"every pending entry of '{label(group)}' still has its data"
    )
    return ActionResult(True, msg, {"ids": ids, "count": len(ids), "capped": capped, "pending_read": seen})


async def ack(actions: Actions, key: bytes, group: bytes) -> ActionResult:
    client = actions.client
    need = needs("+xack", (key,))
    acked = 0
    try:
        ids, seen, capped = await find(actions, key, group)
        for at in range(0, len(ids), ACK_CHUNK):
            acked += int(await client.execute_command("XACK", key, group, *ids[at : at + ACK_CHUNK]) or 0)
    except Exception as exc:
        if is_lost(exc):
            return ActionResult(
                False,
                f"ack without data: the connection dropped ({one_line(exc)}) after "
                f"{acked:,} were acked; run it again to ack the rest (acking twice is "
                "harmless)",
                {"error": str(exc), "acked": acked, "lost_reply": True},
            )
        return fail(exc, "ack without data", key, group, need=need, acked=acked)
    if not ids:
        return ActionResult(
            True,
            f"nothing to ack: every pending entry of '{label(group)}' still has its data",
            {"acked": 0, "ids": [], "nothing": True},
        )
    msg = f"acked {acked:,} pending entries without data in '{label(group)}'"
    if acked < len(ids):
        msg += f"; {len(ids) - acked:,} were acked meanwhile"
    if capped:
        msg += f" (the first {seen:,} pending entries read: run again for more)"
    return ActionResult(True, msg, {"acked": acked, "ids": ids, "capped": capped})
