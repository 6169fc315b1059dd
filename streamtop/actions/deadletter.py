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

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import redis
from redis.crc import key_slot

from streamtop.pipeline.connection import AsyncClient
from streamtop.pipeline.model import PendingEntry, ServerInfo, label
from streamtop.pipeline.parse import Reply, parse_entries, text, to_int

from .base import (
    DETAIL,
    ActionResult,
    NoTransactions,
    ValidationError,
    check_ids,
    check_name,
    fail,
    is_lost,
    next_id,
    one_line,
    parse_int,
    pending_rows,
    transactions_work,
)
from .context import Context
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

    def __init__(self, entry_id: str, copied: Reply, acked: Reply) -> None:
        super().__init__(entry_id)
        self.entry_id, self.copied, self.acked = entry_id, copied, acked


async def _move_one(
    client: AsyncClient, key: bytes, group: bytes, entry_id: str, dlq: bytes
) -> tuple[str, Reply]:
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
) -> tuple[str, Reply]:
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


@dataclass(frozen=True, kw_only=True)
class DeadLetterResult(ActionResult):
    """`moved`: (ID, its copy's ID in `dlq`) for each entry moved; `not_pending`: selected but no
    longer pending; `raced`: acked by someone else meanwhile; `busy`: the DLQ kept changing;
    `more`: the run stopped at MAX_MOVE; `would_move`: the entries selected; `new_dlq`: the DLQ
    does not exist yet; `dlq_type`: what else the DLQ key holds (refused); `half_applied`: the
    entry acked whose copy failed; `in_flight`: (ID, fate) of the move the connection cut."""

    dlq: bytes | None = None
    moved: list[tuple[str, str]] = field(default_factory=list)
    not_pending: list[str] = field(default_factory=list)
    raced: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    more: bool = False
    would_move: list[str] = field(default_factory=list)
    new_dlq: bool = False
    dlq_type: str | None = None
    half_applied: str | None = None
    in_flight: tuple[str, str] | None = None


def default_dlq(server: ServerInfo, key: bytes) -> bytes:
    """`<key>:dlq`; in a cluster, `{<key>}:dlq` unless `<key>:dlq` already hashes to the key's
    slot (a key with a hash tag), so the MULTI/EXEC of each move stays on one node."""
    plain = key + b":dlq"
    if server.mode != "cluster" or key_slot(plain) == key_slot(key):
        return plain
    return b"{" + key + b"}:dlq"


async def dead_letter(
    ctx: Context,
    key: bytes | str,
    group: bytes | str,
    ids: Sequence[str] | None = None,
    min_deliveries: int | str | None = None,
    dlq_key: bytes | str | None = None,
    *,
    dry_run: bool = False,
) -> DeadLetterResult:
    """Move pending entries to a dead-letter stream and ack them, one MULTI/EXEC per entry (see
    the module's doc for what happens when the connection drops and on retry). `dry_run`: the
    same checks and selection, nothing written (works in read-only mode)."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    if (ids is None or not len(ids)) == (min_deliveries is None or min_deliveries == ""):
        if ids is not None and not len(ids) and min_deliveries is None:
            raise ValidationError("no pending entry selected")
        raise ValidationError("give either the selected entries or a minimum delivery count")
    sel = check_ids(ids, "pending entry") if ids else None
    n = parse_int(min_deliveries, "minimum deliveries", 1) if sel is None else None
    dlq = (
        check_name(dlq_key, "dead-letter key")
        if dlq_key not in (None, "", b"")
        else default_dlq(ctx.server, key)
    )
    if dlq == key:
        raise ValidationError("the dead-letter stream must not be the source stream")
    if ctx.server.mode == "cluster" and key_slot(dlq) != key_slot(key):
        raise ValidationError(
            f"in a cluster the dead-letter stream must share the stream's hash slot "
            f"(each move is one MULTI/EXEC): '{label(dlq)}' is in slot {key_slot(dlq)}, "
            f"'{label(key)}' in slot {key_slot(key)}; use a hash tag, e.g. "
            f"'{label(default_dlq(ctx.server, key))}'"
        )
    if not dry_run and (refused := ctx.refusal(DeadLetterResult, "dead-letter")):
        return refused
    return await _dead_letter(ctx, key, group, sel, n, dlq, dry_run)


async def _dead_letter(
    ctx: Context,
    key: bytes,
    group: bytes,
    ids: tuple[str, ...] | None,
    min_deliveries: int | None,
    dlq: bytes,
    dry_run: bool = False,
) -> DeadLetterResult:
    """The selection, the checks (the DLQ's type, MULTI/EXEC allowed), then the moves. A dry run
    is this same path with the moves left out, so it selects and refuses exactly as the run would."""
    client = ctx.client
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
        res = fail(DeadLetterResult, exc.error, "dead-letter", key, group, need=need)
        return replace(res, message=f"{res.message}: nothing was copied or acked")
    except Exception as exc:
        return fail(DeadLetterResult, exc, "dead-letter", key, group, need=need)
    base = DeadLetterResult(
        True,
        "",
        dlq=dlq,
        not_pending=gone,
        more=more,
        dry_run=dry_run,
        would_move=[pe.id for pe in entries],
        new_dlq=kind == "none",
    )
    if entries and kind not in ("stream", "none"):
        return replace(
            base,
            ok=False,
            message=f"dead-letter refused: the dead-letter key '{label(dlq)}' is a {kind}, not a stream: "
            f"nothing {'would be' if dry_run else 'was'} copied or acked; choose another dead-letter "
            "key or remove that one",
            dlq_type=kind,
        )
    if dry_run:
        if not entries:
            return _nothing(group, min_deliveries, gone, base)
        msg = f"would move {len(entries):,} entries of '{label(group)}' to '{label(dlq)}' and ack them"
        if gone:
            msg += f"; {len(gone):,} selected no longer pending"
        if more:
            msg += f"; one run moves at most {MAX_MOVE:,}: run again for more"
        if kind == "none":
            msg += f"; '{label(dlq)}' does not exist: a new stream will be created"
        return replace(base, message=msg)
    return await _moves(client, base, key, group, entries, dlq, need, min_deliveries)


async def _moves(
    client: AsyncClient,
    base: DeadLetterResult,
    key: bytes,
    group: bytes,
    entries: list[PendingEntry],
    dlq: bytes,
    need: str,
    min_deliveries: int | None,
) -> DeadLetterResult:
    """Move each entry in its own transaction; the result says what became of each."""
    moved: list[tuple[str, str]] = []
    raced: list[str] = []
    busy: list[str] = []
    gone = base.not_pending  # appended to as entries turn out not pending
    lost: tuple[str, str] | None = None  # the last move's reply lost, and it was moved

    def now(ok: bool, message: str, **more: Any) -> DeadLetterResult:
        return replace(base, ok=ok, message=message, moved=moved, raced=raced, busy=busy, **more)

    for pe in entries:
        try:
            status, new_id = await _move_one(client, key, group, pe.id, dlq)
        except DlqNotStream as exc:
            return now(
                False,
                f"dead-letter refused: the dead-letter key '{label(dlq)}' is a "
                f"{exc.kind}, not a stream: nothing was copied or acked for it"
                + (f" ({len(moved)} moved before that)" if moved else "")
                + "; choose another dead-letter key or remove that one",
                dlq_type=exc.kind,
            )
        except HalfApplied as exc:
            return now(
                False,
                f"dead-letter stopped: the copy of {exc.entry_id} to '{label(dlq)}' "
                f"failed ({one_line(exc.copied)}) but it was acked in '{label(group)}'; "
                f"its data is still in '{label(key)}' (XRANGE {label(key)} {exc.entry_id} "
                f"{exc.entry_id}); {len(moved)} moved before that",
                half_applied=exc.entry_id,
            )
        except Exception as exc:
            res = fail(DeadLetterResult, exc, "dead-letter", key, group, need=need)
            if not is_lost(exc):
                return now(
                    False,
                    f"{res.message} ({len(moved)} moved before that)" if moved else res.message,
                    error=res.error,
                )
            fate, copy_id = await _after_drop(client, key, group, pe.id, dlq)
            if fate == "moved" and copy_id is not None:  # "moved" always comes with the copy's ID
                moved.append((pe.id, copy_id))
                if pe is entries[-1]:  # the last one: it all ran, nothing is left to run again for
                    lost = (pe.id, fate)
                    break
            said = {
                "moved": "it was moved (copied and acked)",
                "not moved": "it was not moved",
                "unknown": "it may have been moved: check the DLQ for its dlq-original-id",
            }[fate]
            return now(
                False,
                f"{res.message} while moving {pe.id}: {said}; {len(moved)} moved "
                "in all: run it again to move the rest (moved entries are not pending "
                "any more and are skipped)",
                error=res.error,
                in_flight=(pe.id, fate),
            )
        if status == "moved":
            moved.append((pe.id, new_id))
        else:
            {"gone": gone, "raced": raced}.get(status, busy).append(pe.id)
    if not entries and not gone:
        return _nothing(group, min_deliveries, gone, now(True, ""))
    msg = _moved_message(dlq, group, len(moved), len(gone), len(raced), len(busy), base.more)
    if lost is not None:
        msg += f"; the connection was lost as the last one moved: checked, {lost[0]} was moved"
        return now(True, msg, in_flight=lost)
    return now(True, msg)


def _moved_message(dlq: bytes, group: bytes, moved: int, gone: int, raced: int, busy: int, more: bool) -> str:
    msg = f"moved {moved} entries to '{label(dlq)}' and acked them in '{label(group)}'"
    if gone:
        msg += f"; {gone} no longer pending (skipped)"
    if raced:
        msg += f"; {raced} acked by someone else meanwhile (not moved)"
    if busy:
        msg += f"; {busy} not moved (DLQ busy: try again)"
    if more:
        msg += f"; stopped at {MAX_MOVE}: run again for more"
    return msg


def _nothing(
    group: bytes, min_deliveries: int | None, gone: list[str], base: DeadLetterResult
) -> DeadLetterResult:
    if min_deliveries is None:
        why = f"none of the {len(gone):,} selected entries is pending in '{label(group)}'"
    else:
        why = f"no pending entry of '{label(group)}' was delivered {min_deliveries} times or more"
    return replace(base, ok=True, message=f"nothing to dead-letter: {why}", nothing=True)
