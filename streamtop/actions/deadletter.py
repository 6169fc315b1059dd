"""Dead-letter: move pending entries to another stream and ack them, one MULTI/EXEC per entry.

Each move is: WATCH the DLQ; check the entry is still pending in the group (XPENDING id id 1) and
read it (XRANGE id id); MULTI; XADD to the DLQ (its fields, then dlq-original-id, dlq-group,
dlq-consumer, dlq-deliveries, dlq-source); XACK in the group; EXEC.

Why this loses and duplicates nothing when the connection drops:
- before EXEC reaches the server, the server discards the queued MULTI: the entry is still pending
  and has no DLQ copy; running the action again moves it;
- once EXEC ran, both the copy and the ack happened (atomically); running it again finds the entry
  no longer pending and skips it, so it is never copied twice.
(redis-py reports a drop while watching as a WatchError; it is told apart and stops the run.)
WATCH on the DLQ makes two streamtops moving the same entry at once retry instead of both copying
it (XACK and XCLAIM do not trip a WATCH, measured on 6.2 and 9.1). If a worker acks the entry
between the check and EXEC, XACK in the transaction returns 0: the copy is removed again (XDEL)
and the entry is reported as acked meanwhile.
Entries whose data is gone (trimmed while pending) are moved with `dlq-missing` = 1 and no fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import redis

from ..model import PendingEntry, label
from ..parse import parse_entries, text, to_int
from .base import (
    ActionResult,
    next_id,
)
from .core import DETAIL, pending_rows

if TYPE_CHECKING:
    from .core import Actions

MAX_MOVE = 10_000  # entries per run (run again for more)
PEL_PAGE = 1000
WATCH_RETRIES = 5


async def _candidates(client: Any, key: bytes, group: bytes, ids: tuple[str, ...] | None,
                      min_deliveries: int | None) -> tuple[list[PendingEntry], list[str], bool]:
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
        rows = pending_rows(await client.execute_command("XPENDING", key, group, lo, "+", PEL_PAGE,
                                                         **DETAIL))
        out += [r for r in rows if r.deliveries >= (min_deliveries or 1)]
        if len(out) >= MAX_MOVE:
            return out[:MAX_MOVE], [], True
        if len(rows) < PEL_PAGE:
            return out, [], False
        lo = next_id(rows[-1].id)


async def _move_one(client: Any, key: bytes, group: bytes, entry_id: str, dlq: bytes) -> tuple[str, Any]:
    """('moved', dlq id) | ('gone', None) | ('raced', None)."""
    for _ in range(WATCH_RETRIES):
        async with client.pipeline(transaction=True) as pipe:
            await pipe.watch(dlq)
            rows = pending_rows(await pipe.execute_command("XPENDING", key, group, entry_id, entry_id, 1,
                                                                   **DETAIL))
            if not rows:
                await pipe.unwatch()
                return "gone", None
            pe = rows[0]
            data = parse_entries(await pipe.execute_command("XRANGE", key, entry_id, entry_id))
            fields: list[Any] = [x for kv in (data[0][1] if data else []) for x in kv]
            fields += [b"dlq-original-id", entry_id, b"dlq-group", group, b"dlq-consumer", pe.consumer,
                       b"dlq-deliveries", pe.deliveries, b"dlq-source", key]
            if not data:
                fields += [b"dlq-missing", b"1"]
            pipe.multi()
            pipe.execute_command("XADD", dlq, "*", *fields)
            pipe.execute_command("XACK", key, group, entry_id)
            try:
                new_id, acked = await pipe.execute()
            except redis.WatchError as exc:
                if "ConnectionError" in str(exc):  # redis-py's wording for a drop while watching
                    raise redis.ConnectionError(f"connection lost during EXEC of {entry_id}") from exc
                continue
        new_id = text(new_id)
        if not to_int(acked):
            await client.execute_command("XDEL", dlq, new_id)
            return "raced", None
        return "moved", new_id
    return "busy", None


async def dead_letter(actions: Actions, key: bytes, group: bytes, ids: tuple[str, ...] | None,
                      min_deliveries: int | None, dlq: bytes) -> ActionResult:
    client = actions.client
    try:
        entries, gone, more = await _candidates(client, key, group, ids, min_deliveries)
    except Exception as exc:
        return actions._fail(exc, "dead-letter", key, group)
    moved: list[tuple[str, str]] = []
    raced: list[str] = []
    busy: list[str] = []
    details: dict[str, Any] = {"dlq": dlq, "moved": moved, "not_pending": gone, "raced": raced,
                               "busy": busy, "more": more}
    for pe in entries:
        try:
            status, new_id = await _move_one(client, key, group, pe.id, dlq)
        except Exception as exc:
            res = actions._fail(exc, "dead-letter", key, group, **details)
            if not isinstance(exc, redis.ConnectionError | redis.TimeoutError | OSError):
                return res
            return ActionResult(False, f"{res.message}; {len(moved)} moved before that: run it again to "
                                "move the rest (moved entries are not pending any more and are skipped)",
                                res.details)
        if status == "moved":
            moved.append((pe.id, new_id))
        elif status == "gone":
            gone.append(pe.id)
        elif status == "raced":
            raced.append(pe.id)
        else:
            busy.append(pe.id)
    if not entries and not gone:
        return ActionResult(True, f"nothing to dead-letter: no pending entry of {label(group)!r} was "
                            f"delivered {min_deliveries} times or more", details)
    msg = f"moved {len(moved)} entries to {label(dlq)!r} and acked them in {label(group)!r}"
    if gone:
        msg += f"; {len(gone)} no longer pending (skipped)"
    if raced:
        msg += f"; {len(raced)} acked by someone else meanwhile (not moved)"
    if busy:
        msg += f"; {len(busy)} not moved (DLQ busy: try again)"
    if more:
        msg += f"; stopped at {MAX_MOVE}: run again for more"
    return ActionResult(True, msg, details)
