"""Ack: exactly the IDs given, or every entry one consumer holds (entries without data: deleted.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from streamtop.pipeline.model import label
from streamtop.pipeline.parse import to_int

from .base import (
    DETAIL,
    ActionResult,
    check_ids,
    check_name,
    fail,
    is_lost,
    lost_words,
    needs,
    one_line,
    pending_rows,
)
from .context import Context
from .pending import pending_list


@dataclass(frozen=True, kw_only=True)
class AckResult(ActionResult):
    """`acked`: the server's count; `acked_ids`: the IDs that left the PEL by this ack;
    `not_pending`: no longer pending before it; `still_pending`: pending after it."""

    acked: int = 0
    acked_ids: list[str] = field(default_factory=list)
    not_pending: list[str] = field(default_factory=list)
    still_pending: list[str] = field(default_factory=list)


async def ack(ctx: Context, key: bytes | str, group: bytes | str, ids: Sequence[str]) -> AckResult:
    """XACK exactly these IDs. Entries no longer pending (acked meanwhile) are reported."""
    key = check_name(key, "stream key")
    group = check_name(group, "group")
    ids = check_ids(ids, "pending entry")
    if refused := ctx.refusal(AckResult, "ack"):
        return refused
    need = needs("+xack", (key,), "+xpending")
    try:
        # No MULTI (a user without +multi must get a true report, issue 24): which IDs are
        # pending, the XACK, and which are still pending after it, in one round trip. The
        # XACK's reply is the server's own count of what it acked.
        pipe = ctx.client.pipeline(transaction=False)
        for i in ids:
            pipe.execute_command("XPENDING", key, group, i, i, 1, **DETAIL)
        pipe.execute_command("XACK", key, group, *ids)
        for i in ids:
            pipe.execute_command("XPENDING", key, group, i, i, 1, **DETAIL)
        replies = await pipe.execute(raise_on_error=False)
    except Exception as exc:
        if is_lost(exc):
            return await ctx.lost(_ack_lost, exc, key, group, ids)
        return fail(AckResult, exc, "ack", key, group, need=need)
    before, reply, after = replies[: len(ids)], replies[len(ids)], replies[len(ids) + 1 :]
    if isinstance(reply, Exception):
        return fail(AckResult, reply, "ack", key, group, need=need, acked=0)
    acked = to_int(reply) or 0
    if errors := [x for x in before + after if isinstance(x, Exception)]:
        if not acked:  # NOGROUP, say: XACK answers 0 for a group that does not exist
            return fail(AckResult, errors[0], "ack", key, group, need=need, acked=0)
        # XPENDING refused, the XACK ran: its count is all that can be told
        return AckResult(
            True,
            f"acked {acked} of {len(ids)} in '{label(group)}' (which ones cannot be told: "
            "XPENDING was refused)",
            acked=acked,
        )
    was = {i for i, rep in zip(ids, before, strict=True) if pending_rows(rep)}
    still = {i for i, rep in zip(ids, after, strict=True) if pending_rows(rep)}
    done = [i for i in ids if i in was and i not in still]
    gone = [i for i in ids if i not in was]
    msg = f"acked {acked} of {len(ids)} in '{label(group)}'"
    if gone:
        msg += f"; {len(gone)} no longer pending (acked or removed meanwhile)"
    if still:
        msg += f"; {len(still)} still pending (claimed or re-delivered meanwhile)"
    return AckResult(True, msg, acked=acked, acked_ids=done, not_pending=gone, still_pending=sorted(still))


async def _ack_lost(
    ctx: Context, exc: BaseException, key: bytes, group: bytes, ids: tuple[str, ...]
) -> AckResult:
    """The ack's reply was lost: which of the IDs are still pending now."""
    got = await ctx.reread(*[("XPENDING", key, group, i, i, 1) for i in ids])
    if got is None or any(isinstance(g, Exception) for g in got):
        return AckResult(
            False,
            f"ack: {lost_words(exc)} after the ack was sent ({one_line(exc)})"
            f": it may have been applied; check with XPENDING {label(key)} "
            f"{label(group)} - + 100",
            error=str(exc),
            lost_reply=True,
            may_have_applied=True,
        )
    still = [i for i, rep in zip(ids, got, strict=True) if pending_rows(rep)]
    gone = [i for i in ids if i not in set(still)]
    msg = (
        f"ack: {lost_words(exc)} after the ack was sent ({one_line(exc)}): {len(gone)} of "
        f"{len(ids)} are no longer pending in '{label(group)}'"
    )
    if still:
        msg += f"; {len(still)} still pending: ack them again"
    return AckResult(
        not still,
        msg,
        error=str(exc),
        lost_reply=True,
        acked=len(gone),
        acked_ids=gone,
        still_pending=still,
        not_pending=gone,
    )


async def ack_consumer(
    ctx: Context, key: bytes | str, group: bytes | str, consumer: bytes | str
) -> AckResult:
    """Ack every entry `consumer` holds (what a runbook does for a consumer whose work is known
    to be done elsewhere), in chunks of 1000 through `ack`."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    consumer = check_name(consumer, "consumer")
    if refused := ctx.refusal(AckResult, "ack"):
        return refused
    found = await pending_list(ctx, key, group, consumer)
    if not found.ok:
        return AckResult(False, found.message, error=found.error)
    ids = found.ids
    if not ids:
        return AckResult(
            True,
            f"nothing to ack: '{label(consumer)}' holds no pending entry in '{label(group)}'",
            nothing=True,
        )
    acked: list[str] = []
    for at in range(0, len(ids), 1000):
        res = await ack(ctx, key, group, ids[at : at + 1000])
        acked += res.acked_ids
        if not res.ok:
            msg = f"{res.message} ({len(acked):,} acked before that)"
            return replace(res, message=msg, acked=len(acked), acked_ids=acked, recheck=None)
    return AckResult(
        True,
        f"acked {len(acked):,} entries '{label(consumer)}' held in '{label(group)}'",
        acked=len(acked),
        acked_ids=acked,
    )
