"""Dead-letter: move pending entries to another stream and ack them, one MULTI/EXEC per batch of up
to BATCH (200) entries.

Each batch is: WATCH the DLQ; one pipelined read (after the WATCH): the DLQ's TYPE (a stream or
absent), then for each entry XPENDING id id 1 (still pending in the group?) and XRANGE id id (its
data); MULTI; for each entry still pending, XADD to the DLQ (its fields, then dlq-original-id,
dlq-group, dlq-consumer, dlq-deliveries, dlq-source, dlq-fields: see dlqformat.py) and XACK in the
group; EXEC. Three round trips a batch, where one transaction an entry took five an entry. A
batch is atomic: after a drop, either all of its entries were copied and acked, or none.

Before the first batch the run checks that this user may run MULTI/EXEC at all (base.
transactions_work): without MULTI the server would run the XADDs alone and refuse the XACKs, and
each re-run would add another copy. It refuses instead, before anything is written.

Why it never acks what it did not copy: inside MULTI/EXEC a failing command does not stop the
others, so an XADD into a DLQ of another type (WRONGTYPE) would still let the XACK run. The TYPE
check is read after the WATCH: if the DLQ changes type before EXEC, EXEC aborts and the batch is
retried (and then refused with a message naming the DLQ key). Every reply of EXEC is checked, each
entry's pair on its own: a copy whose ack failed is removed again (XDEL); an ack whose copy failed
(only a DLQ that exhausted its last possible ID is left) stops the run and names the entry, whose
data is still in the source stream.

Why this loses and duplicates nothing when the connection drops:
- before EXEC reaches the server, the server discards the queued MULTI: the batch's entries are
  still pending and have no DLQ copy; running the action again moves them;
- once EXEC ran, every copy and ack of the batch happened (atomically); running it again finds
  those entries no longer pending and skips them, so none is ever copied twice.
(redis-py reports a drop while watching as a WatchError; it is told apart and stops the run.) After
a drop the batch in flight is looked up again (still pending? copies among the DLQ's last entries,
by their dlq-original-id?) so the result says whether it was moved, and which copies are its.
WATCH on the DLQ makes two streamtops moving the same entries at once retry instead of both copying
them (XACK and XCLAIM do not trip a WATCH, measured on 6.2 and 9.1). If a worker acks an entry
between the read and EXEC, its XACK in the transaction returns 0: that copy alone is removed again
(XDEL) and that entry alone is reported as acked meanwhile; the rest of the batch is moved.
Entries whose data is gone (trimmed while pending) are moved with `dlq-missing` = 1 and no fields.
A dry run is the same function with the moves left out: same selection, same refusals.

In a cluster the DLQ must share the stream's hash slot (`{key}:dlq` by default; another slot is
refused before anything is sent, as with one transaction an entry), so a batch's WATCH, read and
MULTI/EXEC all go to the node that owns both keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
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
    batch_span,
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
BATCH = 200  # entries per MULTI/EXEC (a batch's read pipeline has 2 commands an entry, its EXEC 2)
Progress = Callable[[int, int], object]  # (entries handled so far, entries selected)


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
    """EXEC ran but one of an entry's commands failed (the other may have been applied)."""

    def __init__(self, entry_id: str, copied: Reply, acked: Reply) -> None:
        super().__init__(entry_id)
        self.entry_id, self.copied, self.acked = entry_id, copied, acked


@dataclass
class Batch:
    """What became of one batch: `moved` (ID, copy ID), `gone` (not pending when read), `raced`
    (acked by someone else between the read and EXEC: the copy taken back), `busy` (the DLQ kept
    changing), and the first failure of an entry inside EXEC (the entries before and after it in
    the batch are counted all the same)."""

    moved: list[tuple[str, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    raced: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    failure: Exception | None = None


async def _move_batch(client: AsyncClient, key: bytes, group: bytes, ids: list[str], dlq: bytes) -> Batch:
    """Move a batch of entries in one MULTI/EXEC. Raises DlqNotStream before anything is queued,
    and redis.ConnectionError when the connection drops at any step (redis-py says WatchError
    then)."""
    try:
        return await _try_batch(client, key, group, ids, dlq)
    except redis.WatchError as exc:
        if "occurred while watching" in str(exc):
            raise redis.ConnectionError(f"connection lost during the move of {batch_span(ids)}") from exc
        raise


async def _read_batch(
    client: AsyncClient, key: bytes, group: bytes, ids: list[str], dlq: bytes
) -> tuple[str, list[tuple[PendingEntry, list[tuple[bytes, bytes]], bool]], list[str]]:
    """(the DLQ's type, (pending entry, its fields, data gone) of each ID still pending, the IDs
    not pending): one pipelined round trip, sent after the WATCH so EXEC aborts if the DLQ changes
    after it."""
    read = client.pipeline(transaction=False)
    read.execute_command("TYPE", dlq)
    for i in ids:
        read.execute_command("XPENDING", key, group, i, i, 1, **DETAIL)
        read.execute_command("XRANGE", key, i, i)
    replies = await read.execute()
    kind = text(replies[0]) or ""
    todo, gone = [], []
    for n, i in enumerate(ids):
        rows = pending_rows(replies[1 + 2 * n])
        if not rows:
            gone.append(i)
            continue
        data = parse_entries(replies[2 + 2 * n])
        todo.append((rows[0], data[0][1] if data else [], not data))
    return kind, todo, gone


async def _try_batch(client: AsyncClient, key: bytes, group: bytes, ids: list[str], dlq: bytes) -> Batch:
    for _ in range(WATCH_RETRIES):
        async with client.pipeline(transaction=True) as pipe:
            await pipe.watch(dlq)
            # Read after the WATCH: if the DLQ's type changes before EXEC, EXEC aborts and we
            # retry, so no XADD below can fail with WRONGTYPE while its XACK succeeds.
            kind, todo, gone = await _read_batch(client, key, group, ids, dlq)
            if kind not in ("stream", "none"):
                await pipe.unwatch()  # type: ignore[no-untyped-call]  # redis-py: no annotations
                raise DlqNotStream(kind)
            if not todo:
                await pipe.unwatch()  # type: ignore[no-untyped-call]  # redis-py: no annotations
                return Batch(gone=gone)
            pipe.multi()  # type: ignore[no-untyped-call]  # redis-py: no annotations
            for pe, own, missing in todo:
                fields = encode(own, pe.id, group, pe.consumer, pe.deliveries, key, missing=missing)
                pipe.execute_command("XADD", dlq, "*", *fields)
                pipe.execute_command("XACK", key, group, pe.id)
            try:
                replies = await pipe.execute(raise_on_error=False)
            except redis.WatchError as exc:
                if "occurred while watching" in str(exc):  # a drop, not a change of the DLQ
                    raise
                continue
        return await _outcome(client, dlq, [pe.id for pe, _, _ in todo], replies, Batch(gone=gone))
    return Batch(busy=list(ids))


async def _outcome(
    client: AsyncClient, dlq: bytes, ids: list[str], replies: list[Reply], out: Batch
) -> Batch:
    """Each entry's (XADD, XACK) replies of EXEC: moved, raced (XACK 0: the copy is taken back) or
    failed (a copy whose ack failed is taken back too; an ack whose copy failed is HalfApplied)."""
    take_back: list[str] = []
    for n, entry_id in enumerate(ids):
        new_id, acked = replies[2 * n], replies[2 * n + 1]
        if isinstance(new_id, Exception) or isinstance(acked, Exception):
            if isinstance(new_id, Exception) and isinstance(acked, Exception):
                out.failure = out.failure or new_id  # neither applied
            elif isinstance(acked, Exception):  # copied, not acked: take the copy back
                take_back.append(text(new_id) or "")
                out.failure = out.failure or acked
            else:
                out.failure = out.failure or HalfApplied(entry_id, new_id, acked)
        elif not to_int(acked):
            take_back.append(text(new_id) or "")
            out.raced.append(entry_id)
        else:
            out.moved.append((entry_id, text(new_id) or ""))
    if take_back:
        await client.execute_command("XDEL", dlq, *take_back)
    return out


async def _after_drop(
    client: AsyncClient, key: bytes, group: bytes, ids: list[str], dlq: bytes
) -> tuple[str, list[tuple[str, str]]]:
    """What became of the batch whose move was cut: 'moved' (its EXEC ran: each entry acked and
    copied, with the copies' IDs), 'not moved' (still pending, no copy), or 'unknown' (the server
    cannot be read, or it does not add up). The copies are looked for among the DLQ's last
    entries: the batch is the newest XADDs to it unless others write to the DLQ too."""
    try:
        pipe = client.pipeline(transaction=False)
        for i in ids:
            pipe.execute_command("XPENDING", key, group, i, i, 1, **DETAIL)
        pipe.execute_command("XREVRANGE", dlq, "+", "-", "COUNT", len(ids) + 10)
        *pend, last = await pipe.execute()
    except Exception:
        return "unknown", []
    wanted = set(ids)
    found: dict[str, str] = {}
    for copy_id, f in parse_entries(last):
        original = decode(copy_id, f).original_id
        if original in wanted:
            found.setdefault(original, copy_id)
    pending = {i for i, reply in zip(ids, pend, strict=True) if pending_rows(reply)}
    if pending & set(found):
        return "unknown", []
    if found:  # the EXEC ran (a batch is atomic): those not pending without a copy were not
        return "moved", [(i, found[i]) for i in ids if i in found]  # pending before it
    return ("not moved", []) if pending else ("unknown", [])


@dataclass(frozen=True, kw_only=True)
class DeadLetterResult(ActionResult):
    """`moved`: (ID, its copy's ID in `dlq`) for each entry moved; `not_pending`: selected but no
    longer pending; `raced`: acked by someone else meanwhile; `busy`: the DLQ kept changing;
    `more`: the run stopped at MAX_MOVE; `would_move`: the entries selected; `new_dlq`: the DLQ
    does not exist yet; `dlq_type`: what else the DLQ key holds (refused); `half_applied`: the
    entry acked whose copy failed; `in_flight`: (first ID, fate) of the batch the connection cut,
    `in_flight_ids` its IDs; `cancelled`: stopped by the person between two batches."""

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
    in_flight_ids: list[str] = field(default_factory=list)
    cancelled: bool = False


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
    batch: int = BATCH,
    progress: Progress | None = None,
    cancel: asyncio.Event | None = None,
) -> DeadLetterResult:
    """Move pending entries to a dead-letter stream and ack them, one MULTI/EXEC per batch of
    `batch` entries (see the module's doc for what happens when the connection drops and on
    retry). `dry_run`: the same checks and selection, nothing written (works in read-only mode).
    `progress(handled, selected)` after each batch; `cancel` set: stop before the next batch."""
    batch = parse_int(batch, "batch size", 1, MAX_MOVE)
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
    return await _dead_letter(ctx, key, group, sel, n, dlq, dry_run, batch, progress, cancel)


async def _dead_letter(
    ctx: Context,
    key: bytes,
    group: bytes,
    ids: tuple[str, ...] | None,
    min_deliveries: int | None,
    dlq: bytes,
    dry_run: bool = False,
    batch: int = BATCH,
    progress: Progress | None = None,
    cancel: asyncio.Event | None = None,
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
    return await _moves(client, base, key, group, entries, dlq, need, min_deliveries, batch, progress, cancel)


async def _moves(
    client: AsyncClient,
    base: DeadLetterResult,
    key: bytes,
    group: bytes,
    entries: list[PendingEntry],
    dlq: bytes,
    need: str,
    min_deliveries: int | None,
    batch: int = BATCH,
    progress: Progress | None = None,
    cancel: asyncio.Event | None = None,
) -> DeadLetterResult:
    """Move the entries `batch` at a time, each batch in one transaction; the result says what
    became of each entry."""
    moved: list[tuple[str, str]] = []
    raced: list[str] = []
    busy: list[str] = []
    gone = base.not_pending  # appended to as entries turn out not pending
    lost: tuple[str, str] | None = None  # the last batch's reply lost, and it was moved
    lost_ids: list[str] = []
    cancelled = False
    handled = 0

    def now(ok: bool, message: str, **more: Any) -> DeadLetterResult:
        return replace(
            base, ok=ok, message=message, moved=moved, raced=raced, busy=busy, cancelled=cancelled, **more
        )

    batches = [[pe.id for pe in entries[at : at + batch]] for at in range(0, len(entries), batch)]
    for ids in batches:
        if cancel is not None and cancel.is_set():
            cancelled = True
            break
        try:
            done = await _move_batch(client, key, group, ids, dlq)
        except DlqNotStream as exc:
            return now(
                False,
                f"dead-letter refused: the dead-letter key '{label(dlq)}' is a "
                f"{exc.kind}, not a stream: nothing was copied or acked for it"
                + (f" ({len(moved)} moved before that)" if moved else "")
                + "; choose another dead-letter key or remove that one",
                dlq_type=exc.kind,
            )
        except Exception as exc:
            res = fail(DeadLetterResult, exc, "dead-letter", key, group, need=need)
            if not is_lost(exc):
                return now(
                    False,
                    f"{res.message} ({len(moved)} moved before that)" if moved else res.message,
                    error=res.error,
                )
            fate, copies = await _after_drop(client, key, group, ids, dlq)
            moved += copies
            if fate == "moved" and ids is batches[-1]:  # the last: nothing is left to run again for
                lost, lost_ids = (ids[0], fate), ids
                break
            return now(
                False,
                f"{res.message} while moving {batch_span(ids)}: {_fate_words(fate, len(ids))}; {len(moved)} "
                "moved in all: run it again to move the rest (moved entries are not pending any more "
                "and are skipped)",
                error=res.error,
                in_flight=(ids[0], fate),
                in_flight_ids=ids,
            )
        moved += done.moved
        gone += done.gone
        raced += done.raced
        busy += done.busy
        if done.failure is not None:
            msg, extra = _failed(done.failure, dlq, key, group, need, len(moved))
            return now(False, msg, **extra)
        handled += len(ids)
        if progress is not None:
            progress(handled, len(entries))
    if not entries and not gone:
        return _nothing(group, min_deliveries, gone, now(True, ""))
    msg = _moved_message(dlq, group, len(moved), len(gone), len(raced), len(busy), base.more)
    if cancelled:
        msg += f"; stopped by you: {len(entries) - handled:,} not moved (still pending)"
    if lost is not None:
        what = (
            f"checked, {lost[0]} was moved"
            if len(lost_ids) == 1
            else f"checked, {batch_span(lost_ids)} were moved"
        )
        msg += f"; the connection was lost as the last batch moved: {what}"
        return now(True, msg, in_flight=lost, in_flight_ids=lost_ids)
    return now(True, msg)


def _fate_words(fate: str, n: int) -> str:
    if n == 1:
        return {
            "moved": "it was moved (copied and acked)",
            "not moved": "it was not moved",
            "unknown": "it may have been moved: check the DLQ for its dlq-original-id",
        }[fate]
    return {
        "moved": "they were moved (copied and acked, in one MULTI/EXEC)",
        "not moved": "they were not moved",
        "unknown": "they may have been moved: check the DLQ for their dlq-original-id",
    }[fate]


def _failed(
    failure: Exception, dlq: bytes, key: bytes, group: bytes, need: str, moved: int
) -> tuple[str, dict[str, Any]]:
    """The message (and fields) of a run stopped by an entry that failed inside EXEC."""
    if isinstance(failure, HalfApplied):
        return (
            f"dead-letter stopped: the copy of {failure.entry_id} to '{label(dlq)}' "
            f"failed ({one_line(failure.copied)}) but it was acked in '{label(group)}'; "
            f"its data is still in '{label(key)}' (XRANGE {label(key)} {failure.entry_id} "
            f"{failure.entry_id}); {moved} moved in all",
            {"half_applied": failure.entry_id},
        )
    res = fail(DeadLetterResult, failure, "dead-letter", key, group, need=need)
    return f"{res.message} ({moved} moved in all)" if moved else res.message, {"error": res.error}


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
