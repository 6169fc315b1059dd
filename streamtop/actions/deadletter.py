"""Dead-letter: move pending entries to another stream and ack them, one MULTI/EXEC per entry.

Each move is: WATCH the DLQ; check it is a stream or absent (TYPE); check the entry is still
pending in the group (XPENDING id id 1) and read it (XRANGE id id); MULTI; XADD to the DLQ (its
fields, then dlq-original-id, dlq-group, dlq-consumer, dlq-deliveries, dlq-source, dlq-fields: see
dlqformat.py); XACK in the group; EXEC.

Before the first move the run checks that this user may run MULTI/EXEC at all (base.
transactions_work): without MULTI the server would run the XADD alone and refuse the XACK, and
each re-run would add another copy. It refuses instead, before anything is written.

Why it never acks what it did not copy: inside MULTI/EXEC a failing command does not stop the
others, so an XADD into a DLQ of another type (WRONGTYPE) would still let the XACK run. The TYPE
check is inside the WATCH: if the DLQ changes type before EXEC, EXEC aborts and the move is retried
(and then refused with a message naming the DLQ key). Every reply of EXEC is checked: a copy whose
ack failed is removed again (XDEL); an ack whose copy failed (only a DLQ that exhausted its last
possible ID is left) stops the run and names the entry, whose data is still in the source stream.

Why this loses and duplicates nothing when the connection drops:
- before EXEC reaches the server, the server discards the queued MULTI: the entry is still pending
  and has no DLQ copy; running the action again moves it;
- once EXEC ran, both the copy and the ack happened (atomically); running it again finds the entry
  no longer pending and skips it, so it is never copied twice.
(redis-py reports a drop while watching as a WatchError; it is told apart and stops the run.) After
a drop the entry in flight is looked up again (still pending? a copy among the DLQ's last entries?)
so the result says whether it was moved.
WATCH on the DLQ makes two streamtops moving the same entry at once retry instead of both copying
it (XACK and XCLAIM do not trip a WATCH, measured on 6.2 and 9.1). If a worker acks the entry
between the check and EXEC, XACK in the transaction returns 0: the copy is removed again (XDEL)
and the entry is reported as acked meanwhile.
Entries whose data is gone (trimmed while pending) are moved with `dlq-missing` = 1 and no fields.
A dry run is the same function with the moves left out: same selection, same refusals.
"""

from __future__ import annotations

from typing import Any

import redis

from ..connection import AsyncClient
from ..model import PendingEntry, label
from ..parse import parse_entries, text, to_int
from .base import (
    DETAIL,
    ActionResult,
    ActionsLike,
    NoTransactions,
    fail,
    is_lost,
    next_id,
    one_line,
    pending_rows,
    transactions_work,
)
from .dlqformat import decode, encode

MAX_MOVE = 10_000  # entries per run (run again for more)
PEL_PAGE = 1000
WATCH_RETRIES = 5


async def _candidates(
    client: AsyncClient, key: bytes, group: bytes, ids: tuple[str, ...] | None, min_deliveries: int | None
) -> tuple[list[PendingEntry], list[str], bool]:
    """(pending entries to move, selected IDs not pending, more beyond MAX_MOVE)."""
    if ids is not None:
        pipe = client.pipeline(transaction=False)
        for i in ids:
            pipe.execute_command("XPENDING", key, group, i, i, 1, **DETAIL)
        found, gone = [], []
        for i, reply in zip(ids, await pipe.execute(), strict=True):
            rows = pending_rows(reply)
            (found.append(rows[0]) if rows else gone.append(i))
        return found, gone, False
    out: list[PendingEntry] = []
    lo = "-"
    while True:
        rows = pending_rows(await client.execute_command("XPENDING", key, group, lo, "+", PEL_PAGE, **DETAIL))
        out += [r for r in rows if r.deliveries >= (min_deliveries or 1)]
        if len(out) >= MAX_MOVE:
            return out[:MAX_MOVE], [], True
        if len(rows) < PEL_PAGE:
            return out, [], False
        lo = next_id(rows[-1].id)


class DlqNotStream(Exception):
    """The dead-letter key holds another type: nothing may be moved into it."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class HalfApplied(Exception):
    """EXEC ran but one of its commands failed (the other may have been applied)."""

    def __init__(self, entry_id: str, copied: Any, acked: Any) -> None:
        super().__init__(entry_id)
        self.entry_id, self.copied, self.acked = entry_id, copied, acked


async def _move_one(
    client: AsyncClient, key: bytes, group: bytes, entry_id: str, dlq: bytes
) -> tuple[str, Any]:
    """('moved', dlq id) | ('gone', None) | ('raced', None) | ('busy', None).
    Raises DlqNotStream before anything is queued, HalfApplied when EXEC's replies disagree, and
    redis.ConnectionError when the connection drops at any step (redis-py says WatchError then)."""
    try:
        return await _try_move(client, key, group, entry_id, dlq)
    except redis.WatchError as exc:
        if "occurred while watching" in str(exc):
            raise redis.ConnectionError(f"connection lost during the move of {entry_id}") from exc
        raise


async def _try_move(
    client: AsyncClient, key: bytes, group: bytes, entry_id: str, dlq: bytes
) -> tuple[str, Any]:
    for _ in range(WATCH_RETRIES):
        async with client.pipeline(transaction=True) as pipe:
            await pipe.watch(dlq)
            # Inside the WATCH: if the DLQ's type changes before EXEC, EXEC aborts and we retry, so
            # the XADD below cannot fail with WRONGTYPE while the XACK succeeds.
            kind = text(await pipe.execute_command("TYPE", dlq)) or ""
            if kind not in ("stream", "none"):
                await pipe.unwatch()  # type: ignore[no-untyped-call]  # redis-py: no annotations
                raise DlqNotStream(kind)
            rows = pending_rows(
                await pipe.execute_command("XPENDING", key, group, entry_id, entry_id, 1, **DETAIL)
            )
            if not rows:
                await pipe.unwatch()  # type: ignore[no-untyped-call]  # redis-py: no annotations
                return "gone", None
            pe = rows[0]
            data = parse_entries(await pipe.execute_command("XRANGE", key, entry_id, entry_id))
            own = data[0][1] if data else []
            fields = encode(own, entry_id, group, pe.consumer, pe.deliveries, key, missing=not data)
            pipe.multi()  # type: ignore[no-untyped-call]  # redis-py: no annotations
            pipe.execute_command("XADD", dlq, "*", *fields)
            pipe.execute_command("XACK", key, group, entry_id)
            try:
                new_id, acked = await pipe.execute(raise_on_error=False)
            except redis.WatchError as exc:
                if "occurred while watching" in str(exc):  # a drop, not a change of the DLQ
                    raise
                continue
        if isinstance(new_id, Exception) or isinstance(acked, Exception):
            if isinstance(new_id, Exception) and isinstance(acked, Exception):
                raise new_id  # neither applied
            if isinstance(acked, Exception):  # copied, not acked: take the copy back
                await client.execute_command("XDEL", dlq, text(new_id))
                raise acked
            raise HalfApplied(entry_id, new_id, acked)
        new_id = text(new_id)
        if not to_int(acked):
            await client.execute_command("XDEL", dlq, new_id)
            return "raced", None
        return "moved", new_id
    return "busy", None


async def _after_drop(
    client: AsyncClient, key: bytes, group: bytes, entry_id: str, dlq: bytes
) -> tuple[str, str | None]:
    """What became of the entry whose move was cut: 'moved' (acked and copied), 'not moved' (still
    pending, no copy), or 'unknown' (the server cannot be read). The copy is looked for among the
    DLQ's last entries: the move is the newest XADD to it unless others write to the DLQ too."""
    try:
        pipe = client.pipeline(transaction=False)
        pipe.execute_command("XPENDING", key, group, entry_id, entry_id, 1, **DETAIL)
        pipe.execute_command("XREVRANGE", dlq, "+", "-", "COUNT", 10)
        pend, last = await pipe.execute()
    except Exception:
        return "unknown", None
    copies = [i for i, f in parse_entries(last) if decode(i, f).original_id == entry_id]
    if pending_rows(pend):
        return ("unknown" if copies else "not moved"), None
    return ("moved", copies[0]) if copies else ("unknown", None)


async def dead_letter(
    actions: ActionsLike,
    key: bytes,
    group: bytes,
    ids: tuple[str, ...] | None,
    min_deliveries: int | None,
    dlq: bytes,
    dry_run: bool = False,
) -> ActionResult:
    """The selection, the checks (the DLQ's type, MULTI/EXEC allowed), then the moves. A dry run
    is this same path with the moves left out, so it selects and refuses exactly as the run would."""
    client = actions.client
    need = (
        f"+xadd on '{label(dlq)}' and +xack on '{label(key)}' (and +xpending +xrange +type +watch "
        "+multi +exec, which it also runs)"
    )
    try:
        entries, gone, more = await _candidates(client, key, group, ids, min_deliveries)
        kind = text(await client.execute_command("TYPE", dlq)) or ""
        if entries and kind in ("stream", "none"):
            await transactions_work(client, dlq)
    except NoTransactions as exc:
        res = fail(exc.error, "dead-letter", key, group, need=need)
        return ActionResult(False, f"{res.message}: nothing was copied or acked", res.details)
    except Exception as exc:
        return fail(exc, "dead-letter", key, group, need=need)
    moved: list[tuple[str, str]] = []
    raced: list[str] = []
    busy: list[str] = []
    details: dict[str, Any] = {
        "dlq": dlq,
        "moved": moved,
        "not_pending": gone,
        "raced": raced,
        "busy": busy,
        "more": more,
        "dry_run": dry_run,
        "would_move": [pe.id for pe in entries],
        "new_dlq": kind == "none",
    }
    if entries and kind not in ("stream", "none"):
        return ActionResult(
            False,
            f"dead-letter refused: the dead-letter key '{label(dlq)}' is a {kind}, not a stream: "
            f"nothing {'would be' if dry_run else 'was'} copied or acked; choose another dead-letter "
            "key or remove that one",
            {**details, "dlq_type": kind},
        )
    if dry_run:
        if not entries:
            return _nothing(group, min_deliveries, gone, details)
        msg = f"would move {len(entries):,} entries of '{label(group)}' to '{label(dlq)}' and ack them"
        if gone:
            msg += f"; {len(gone):,} selected no longer pending"
        if more:
            msg += f"; one run moves at most {MAX_MOVE:,}: run again for more"
        if kind == "none":
            msg += f"; '{label(dlq)}' does not exist: a new stream will be created"
        return ActionResult(True, msg, details)
    for pe in entries:
        try:
            status, new_id = await _move_one(client, key, group, pe.id, dlq)
        except DlqNotStream as exc:
            return ActionResult(
                False,
                f"dead-letter refused: the dead-letter key '{label(dlq)}' is a "
                f"{exc.kind}, not a stream: nothing was copied or acked for it"
                + (f" ({len(moved)} moved before that)" if moved else "")
                + "; choose another dead-letter key or remove that one",
                {**details, "dlq_type": exc.kind},
            )
        except HalfApplied as exc:
            details["half_applied"] = exc.entry_id
            return ActionResult(
                False,
                f"dead-letter stopped: the copy of {exc.entry_id} to '{label(dlq)}' "
                f"failed ({one_line(exc.copied)}) but it was acked in '{label(group)}'; "
                f"its data is still in '{label(key)}' (XRANGE {label(key)} {exc.entry_id} "
                f"{exc.entry_id}); {len(moved)} moved before that",
                details,
            )
        except Exception as exc:
            res = fail(exc, "dead-letter", key, group, need=need, **details)
            if not is_lost(exc):
                return ActionResult(
                    False,
                    f"{res.message} ({len(moved)} moved before that)" if moved else res.message,
                    res.details,
                )
            fate, copy_id = await _after_drop(client, key, group, pe.id, dlq)
            if fate == "moved" and copy_id is not None:  # "moved" always comes with the copy's ID
                moved.append((pe.id, copy_id))
            details["in_flight"] = (pe.id, fate)
            said = {
                "moved": "it was moved (copied and acked)",
                "not moved": "it was not moved",
                "unknown": "it may have been moved: check the DLQ for its dlq-original-id",
            }[fate]
            return ActionResult(
                False,
                f"{res.message} while moving {pe.id}: {said}; {len(moved)} moved "
                "in all: run it again to move the rest (moved entries are not pending "
                "any more and are skipped)",
                res.details,
            )
        if status == "moved":
            moved.append((pe.id, new_id))
        elif status == "gone":
            gone.append(pe.id)
        elif status == "raced":
            raced.append(pe.id)
        else:
            busy.append(pe.id)
    if not entries and not gone:
        return _nothing(group, min_deliveries, gone, details)
    msg = f"moved {len(moved)} entries to '{label(dlq)}' and acked them in '{label(group)}'"
    if gone:
        msg += f"; {len(gone)} no longer pending (skipped)"
    if raced:
        msg += f"; {len(raced)} acked by someone else meanwhile (not moved)"
    if busy:
        msg += f"; {len(busy)} not moved (DLQ busy: try again)"
    if more:
        msg += f"; stopped at {MAX_MOVE}: run again for more"
    return ActionResult(True, msg, details)


def _nothing(
    group: bytes, min_deliveries: int | None, gone: list[str], details: dict[str, Any]
) -> ActionResult:
    if min_deliveries is None:
        why = f"none of the {len(gone):,} selected entries is pending in '{label(group)}'"
    else:
        why = f"no pending entry of '{label(group)}' was delivered {min_deliveries} times or more"
    return ActionResult(True, f"nothing to dead-letter: {why}", {**details, "nothing": True})
