"""Redrive: move entries from a dead-letter stream back to their source stream (or another), with
their original fields and without the metadata dead-letter added; the way back from `D` once the
bug that poisoned them is fixed (what SQS calls a DLQ redrive).

The entries move in batches: consecutive DLQ entries with the same target, up to BATCH (200). Each
batch is: WATCH the DLQ and the target; one pipelined read after it: the target's TYPE (a stream or
absent) and each DLQ entry (XRANGE id id; gone: someone else moved it); MULTI; for each entry, XADD
to the target (the fields before the dlq-* tail) and XDEL from the DLQ; EXEC: three round trips a
batch, where one transaction an entry took four or five an entry. The redriven entry gets a new ID
(a stream only grows), so the groups of the target read it as new.

Why nothing is lost or duplicated when the connection drops: before EXEC reaches the server the
queued MULTI is discarded (the batch is still in the DLQ, not in the target; a re-run moves it);
once EXEC ran, every copy and XDEL of the batch happened, and a re-run no longer finds its entries.
WATCH on both keys makes two redrives of the same entry at once retry instead of both copying it
(the XDEL of the first touches the DLQ), and keeps the TYPE read true until EXEC. After a drop,
the batch in flight is looked up again (still in the DLQ?) so the result says whether it moved.
In a cluster a target in another slot than the DLQ cannot be in one transaction with it: `to` in
another slot is refused before anything is sent; a dlq-source in another slot fails as one
transaction an entry did: redis-py's cluster client refuses a WATCH over two slots before sending
it, so nothing of that batch moved.

An entry dead-lettered without data (`dlq-missing`) has nothing to restore: it is skipped and said.

Which fields go back is told by the DLQ entry's own count (dlqformat.py), never guessed from names.
Before the first move the run checks that MULTI/EXEC are allowed (base.transactions_work): without
them the XADD would run alone and a refused XDEL would leave the entry to be redriven again.

Every group of the target reads a redriven entry, not only the one that dead-lettered it (issue
25): before anything is written the groups of each target are listed with, for each, how many of
the originals it had already acked (its position past the ID and not pending there). When a target
is read by a group other than the one the entries came from, the run refuses unless `all_groups`;
the way around is a per-group retry stream (`to`) that only the failing group reads.
A dry run is this same path with the moves left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import redis
from redis.crc import key_slot

from streamtop.pipeline.connection import AsyncClient
from streamtop.pipeline.model import id_key as model_id_key
from streamtop.pipeline.model import label
from streamtop.pipeline.parse import Reply, parse_entries, parse_groups, text, to_int

from .base import (
    DETAIL,
    MAX_CAP,
    ActionResult,
    NoTransactions,
    ValidationError,
    batch_span,
    check_id,
    check_name,
    fail,
    id_key,
    is_lost,
    next_id,
    parse_int,
    pending_rows,
    transactions_work,
)
from .context import Context
from .dlqformat import DlqEntry, decode

PAGE = 500
WATCH_RETRIES = 5
BATCH = 200  # entries per MULTI/EXEC (one target each)
Progress = Callable[[int, int], object]  # (entries handled so far, entries selected)
ACK_CHECK_CHUNK = 1000


def split(entry_id: str, pairs: list[tuple[bytes, bytes]]) -> DlqEntry:
    """A DLQ entry's own fields and the metadata dead-letter recorded (either format)."""
    return decode(entry_id, pairs)


class TargetNotStream(Exception):
    def __init__(self, target: bytes, kind: str) -> None:
        super().__init__(kind)
        self.target, self.kind = target, kind


async def select(
    client: AsyncClient, dlq: bytes, group: bytes | None, start: str, end: str, count: int, to: bytes | None
) -> tuple[list[tuple[DlqEntry, bytes]], list[DlqEntry], list[DlqEntry]]:
    """(entries to move with their target, entries without data, entries with no source to go back
    to), in DLQ order, at most `count` to move."""
    chosen: list[tuple[DlqEntry, bytes]] = []
    missing: list[DlqEntry] = []
    homeless: list[DlqEntry] = []
    lo = start
    while len(chosen) < count:
        rows = parse_entries(await client.execute_command("XRANGE", dlq, lo, end, "COUNT", PAGE))
        for entry_id, pairs in rows:
            e = split(entry_id, pairs)
            if group is not None and e.group != group:
                continue
            target = to or e.source
            if e.missing or not e.fields:
                missing.append(e)
            elif target is None:
                homeless.append(e)
            elif len(chosen) < count:
                chosen.append((e, target))
        if len(rows) < PAGE:
            break
        lo = next_id(rows[-1][0])
    return chosen, missing, homeless


@dataclass
class Batch:
    """What became of one batch: `moved` (DLQ ID, new ID), `gone` (no longer in the DLQ), `busy`
    (kept changing), and the first failure of an entry inside EXEC (the others of the batch are
    counted all the same)."""

    moved: list[tuple[str, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    failure: Exception | None = None


async def _move_batch(client: AsyncClient, dlq: bytes, ids: list[str], target: bytes) -> Batch:
    """Move a batch of DLQ entries to `target` in one MULTI/EXEC. Raises TargetNotStream before
    anything is queued, redis.ConnectionError when the connection drops at any step."""
    for _ in range(WATCH_RETRIES):
        try:
            async with client.pipeline(transaction=True) as pipe:
                await pipe.watch(dlq, target)
                # read after the WATCH, in one round trip: a change of either key before EXEC aborts it
                read = client.pipeline(transaction=False)
                read.execute_command("TYPE", target)
                for i in ids:
                    read.execute_command("XRANGE", dlq, i, i)
                kind, *found = await read.execute()
                kind = text(kind)
                if kind not in ("stream", "none"):
                    await pipe.unwatch()  # type: ignore[no-untyped-call]  # redis-py: no annotations
                    raise TargetNotStream(target, kind or "?")
                todo: list[tuple[str, list[tuple[bytes, bytes]]]] = []
                gone: list[str] = []
                for i, reply in zip(ids, found, strict=True):
                    rows = parse_entries(reply)
                    (todo.append((i, rows[0][1])) if rows else gone.append(i))
                if not todo:
                    await pipe.unwatch()  # type: ignore[no-untyped-call]  # redis-py: no annotations
                    return Batch(gone=gone)
                pipe.multi()  # type: ignore[no-untyped-call]  # redis-py: no annotations
                for i, pairs in todo:
                    pipe.execute_command(
                        "XADD", target, "*", *[x for kv in split(i, pairs).fields for x in kv]
                    )
                    pipe.execute_command("XDEL", dlq, i)
                replies = await pipe.execute(raise_on_error=False)
        except redis.WatchError as exc:
            if "occurred while watching" in str(exc):  # a drop, not a change of a watched key
                lost = f"connection lost during the redrive of {batch_span(ids)}"
                raise redis.ConnectionError(lost) from exc
            continue
        return await _outcome(client, dlq, target, todo, replies, Batch(gone=gone))
    return Batch(busy=list(ids))


async def _outcome(
    client: AsyncClient,
    dlq: bytes,
    target: bytes,
    todo: list[tuple[str, list[tuple[bytes, bytes]]]],
    replies: list[Reply],
    out: Batch,
) -> Batch:
    """Each entry's (XADD, XDEL) replies of EXEC: moved, or put right (a copy whose DLQ entry stayed
    is taken back; a DLQ entry deleted whose copy failed is put back whole, under a new DLQ ID)."""
    take_back: list[str] = []
    for n, (entry_id, pairs) in enumerate(todo):
        new_id, deleted = replies[2 * n], replies[2 * n + 1]
        if isinstance(new_id, Exception):
            if not isinstance(deleted, Exception) and to_int(deleted):
                await client.execute_command("XADD", dlq, "*", *[x for kv in pairs for x in kv])
            out.failure = out.failure or new_id
        elif isinstance(deleted, Exception) or not to_int(deleted):
            # copied but the DLQ entry stayed: take the copy back so it is not redriven twice
            take_back.append(text(new_id) or "")
            if isinstance(deleted, Exception):
                out.failure = out.failure or deleted
            else:
                out.gone.append(entry_id)
        else:
            out.moved.append((entry_id, text(new_id) or ""))
    if take_back:
        await client.execute_command("XDEL", target, *take_back)
    return out


async def _after_drop(client: AsyncClient, dlq: bytes, ids: list[str]) -> str:
    """'moved' (no longer in the DLQ: the batch's EXEC ran), 'not moved' (still there), 'unknown'
    (the server cannot be read, or some are there and some not: a batch moves whole)."""
    try:
        pipe = client.pipeline(transaction=False)
        for i in ids:
            pipe.execute_command("XRANGE", dlq, i, i)
        there = [bool(parse_entries(reply)) for reply in await pipe.execute()]
    except Exception:
        return "unknown"
    if all(there):
        return "not moved"
    return "moved" if not any(there) else "unknown"


async def target_types(client: AsyncClient, targets: list[bytes]) -> dict[bytes, str]:
    """TYPE of each target in one round trip: "none" for a stream the redrive would create."""
    pipe = client.pipeline(transaction=False)
    for t in targets:
        pipe.execute_command("TYPE", t)
    return {t: text(k) or "?" for t, k in zip(targets, await pipe.execute(), strict=True)}


@dataclass(frozen=True, slots=True)
class GroupReach:
    """A group of a redrive's target: it will read the redriven entries. `acked`: how many of
    their originals it had already acked (processed), of `checked` (those with an original ID in
    this stream); `source`: it is the group the entries were dead-lettered from."""

    target: bytes
    name: bytes
    source: bool
    acked: int
    checked: int
    entries: int
    pending: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.source:
            return f"'{label(self.name)}' (dead-lettered them: the retry)"
        if not self.checked:
            return f"'{label(self.name)}' (would read {self.entries:,} as new entries)"
        return (
            f"'{label(self.name)}' (had already acked {self.acked:,} of {self.checked:,}: "
            "it would process them again)"
        )


async def group_reach(client: AsyncClient, chosen: list[tuple[DlqEntry, bytes]]) -> list[GroupReach]:
    """Every group of every target, with how many of the originals it had already acked: the
    original ID at or before its last-delivered-id and not in its PEL. Reads only."""
    by_target: dict[bytes, list[DlqEntry]] = {}
    for e, t in chosen:
        by_target.setdefault(t, []).append(e)
    out: list[GroupReach] = []
    for target, entries in by_target.items():
        try:
            groups = parse_groups(await client.execute_command("XINFO", "GROUPS", target))
        except redis.ResponseError as exc:
            if "no such key" in str(exc).lower():
                continue  # a new stream: no group reads it yet
            raise
        mine = [
            (e.original_id, k)
            for e in entries
            if e.source == target and e.original_id and (k := model_id_key(e.original_id)) is not None
        ]
        for g in groups:
            name = g["name"]
            last = model_id_key(text(g.get("last-delivered-id")) or "0-0") or (0, 0)
            past = [i for i, k in mine if k <= last]
            pending: list[str] = []
            for at in range(0, len(past), ACK_CHECK_CHUNK):
                pipe = client.pipeline(transaction=False)
                chunk = past[at : at + ACK_CHECK_CHUNK]
                for i in chunk:
                    pipe.execute_command("XPENDING", target, name, i, i, 1, **DETAIL)
                replies = await pipe.execute()
                pending += [i for i, rep in zip(chunk, replies, strict=True) if pending_rows(rep)]
            checked = len(mine)
            same = all(e.group == name for e in entries)
            out.append(
                GroupReach(target, name, same, len(past) - len(pending), checked, len(entries), pending)
            )
    return out


def reach_text(reach: list[GroupReach]) -> str:
    """ "'s' is read by 'g1' (dead-lettered them: the retry), 'g2' (had already acked 2 of 2: ...)" """
    parts: dict[bytes, list[str]] = {}
    for g in reach:
        parts.setdefault(g.target, []).append(g.describe())
    return "; ".join(f"'{label(t)}' is read by {', '.join(p)}" for t, p in parts.items())


@dataclass(frozen=True, kw_only=True)
class RedriveResult(ActionResult):
    """`to`: target: entries (planned in a dry run or a refusal, moved in a run); `moved`: (DLQ ID,
    new ID); `would_move`: the DLQ IDs a dry run selected; `without_data`/`no_source`: DLQ IDs
    left (nothing to restore, no dlq-source); `groups`: every group of the targets; `refused` with
    `other_groups` (target, group): groups other than the source's read the target; `new_streams`:
    targets a run creates; `gone`: left the DLQ meanwhile; `busy`: kept changing; `target_type`:
    what a target holds instead of a stream; `in_flight`: (first ID, fate) of the batch the drop
    cut, `in_flight_ids` its IDs; `cancelled`: stopped by the person between two batches."""

    dlq: bytes | None = None
    to: dict[bytes, int] = field(default_factory=dict)
    without_data: list[str] = field(default_factory=list)
    no_source: list[str] = field(default_factory=list)
    groups: list[GroupReach] = field(default_factory=list)
    all_groups: bool = False
    moved: list[tuple[str, str]] = field(default_factory=list)
    would_move: list[str] = field(default_factory=list)
    new_streams: list[bytes] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    target_type: str | None = None
    refused: bool = False
    other_groups: list[tuple[bytes, bytes]] = field(default_factory=list)
    in_flight: tuple[str, str] | None = None
    in_flight_ids: list[str] = field(default_factory=list)
    cancelled: bool = False


async def redrive(
    ctx: Context,
    dlq_key: bytes | str,
    to: bytes | str | None = None,
    group: bytes | str | None = None,
    count: int | str = 10_000,
    *,
    start: str = "-",
    end: str = "+",
    dry_run: bool = False,
    all_groups: bool = False,
    batch: int = BATCH,
    progress: Progress | None = None,
    cancel: asyncio.Event | None = None,
) -> RedriveResult:
    """Move DLQ entries back to their source stream (dlq-source) or to `to`, with the original
    fields only, one MULTI/EXEC per batch of up to `batch` entries with the same target.
    `group`: only entries dead-lettered from that group; `start`/`end`: a range of DLQ IDs.
    Refused when a group other than the one the entries came from reads the target, unless
    `all_groups`. `dry_run`: the same path, nothing written (a read). `progress(handled,
    selected)` after each batch; `cancel` set: stop before the next."""
    dlq = check_name(dlq_key, "dead-letter key")
    target = check_name(to, "target stream") if to not in (None, "", b"") else None
    only = check_name(group, "group") if group not in (None, "", b"") else None
    most = parse_int(count, "count", 1, MAX_CAP)
    batch = parse_int(batch, "batch size", 1, MAX_CAP)
    start = check_id(start, "start ID", special=("-",))
    end = check_id(end, "end ID", special=("+",))
    check_range(start, end)
    if target == dlq:
        raise ValidationError("the target stream must not be the dead-letter stream itself")
    if target is not None and ctx.server.mode == "cluster" and key_slot(target) != key_slot(dlq):
        raise ValidationError(
            f"in a cluster the target must share the dead-letter stream's hash slot (each move is "
            f"one MULTI/EXEC): '{label(target)}' is in slot {key_slot(target)}, '{label(dlq)}' in "
            f"slot {key_slot(dlq)}"
        )
    if not dry_run and (refused := ctx.refusal(RedriveResult, "redrive")):
        return refused
    return await _redrive(
        ctx.client, dlq, target, only, start, end, most, dry_run, all_groups, batch, progress, cancel
    )


async def _redrive(
    client: AsyncClient,
    dlq: bytes,
    to: bytes | None,
    group: bytes | None,
    start: str,
    end: str,
    count: int,
    dry_run: bool,
    all_groups: bool = False,
    batch: int = BATCH,
    progress: Progress | None = None,
    cancel: asyncio.Event | None = None,
) -> RedriveResult:
    need = (
        f"+xadd on the target and +xdel on '{label(dlq)}' (and +xrange +type +xinfo +xpending +watch "
        "+multi +exec, which it also runs)"
    )
    try:
        chosen, missing, homeless = await select(client, dlq, group, start, end, count, to)
        kinds = await target_types(client, sorted({t for _, t in chosen})) if chosen else {}
        ok_kinds = {t: k for t, k in kinds.items() if k in ("stream", "none")}
        reach = await group_reach(client, [(e, t) for e, t in chosen if t in ok_kinds])
        if chosen and len(ok_kinds) == len(kinds):
            await transactions_work(client, dlq)
    except NoTransactions as exc:
        res = fail(RedriveResult, exc.error, "redrive", dlq, need=need)
        return replace(res, message=f"{res.message}: nothing was moved")
    except Exception as exc:
        return fail(RedriveResult, exc, "redrive", dlq, need=need)
    planned: dict[bytes, int] = {}
    for _, t in chosen:
        planned[t] = planned.get(t, 0) + 1
    base = RedriveResult(
        True,
        "",
        dlq=dlq,
        to=planned,
        without_data=[e.id for e in missing],
        no_source=[e.id for e in homeless],
        dry_run=dry_run,
        groups=reach,
        all_groups=all_groups,
    )
    skipped = ""
    if missing:
        skipped += f"; {len(missing):,} dead-lettered without data (nothing to restore) stay"
    if homeless:
        skipped += f"; {len(homeless):,} have no dlq-source field: give a target stream"
    if not chosen:
        return replace(base, message=f"nothing to redrive from '{label(dlq)}'" + skipped, nothing=True)
    if refused := _refusal(base, kinds, reach):
        return refused
    new = [t for t, k in kinds.items() if k == "none"]
    if reach:
        skipped += f"; {reach_text(reach)}"
    if dry_run:
        for t in new:  # said before XADD creates it (issue 18)
            skipped += f"; '{label(t)}' does not exist: a new stream will be created"
        where = ", ".join(f"{n:,} to '{label(t)}'" for t, n in planned.items())
        return replace(
            base,
            message=f"would redrive {len(chosen):,} entries from '{label(dlq)}': {where}" + skipped,
            would_move=[e.id for e, _ in chosen],
            new_streams=new,
        )
    return await _moves(client, base, chosen, new, skipped, need, batch, progress, cancel)


def _refusal(base: RedriveResult, kinds: dict[bytes, str], reach: list[GroupReach]) -> RedriveResult | None:
    """Refused before anything is written: a target of another type, or read by other groups."""
    nothing = f"nothing {'would be' if base.dry_run else 'was'} moved"
    if wrong := {t: k for t, k in kinds.items() if k not in ("stream", "none")}:
        t, kind = next(iter(wrong.items()))
        return replace(
            base,
            ok=False,
            message=f"redrive refused: '{label(t)}' is a {kind}, not a stream: {nothing}",
            target_type=kind,
        )
    others = [g for g in reach if not g.source]
    if others and not base.all_groups:
        return replace(
            base,
            ok=False,
            message="redrive refused: every group of the target reads a redriven entry, not only the one "
            f"that dead-lettered it: {reach_text(reach)}. Give a retry stream only that group reads "
            f"(--to KEY), or redrive to every group anyway (--all-groups): {nothing}",
            refused=True,
            other_groups=[(g.target, g.name) for g in others],
        )
    return None


def batches(chosen: list[tuple[DlqEntry, bytes]], size: int) -> list[tuple[list[str], bytes]]:
    """The moves in DLQ order, cut into runs of at most `size` entries with one target each."""
    out: list[tuple[list[str], bytes]] = []
    for e, target in chosen:
        if out and out[-1][1] == target and len(out[-1][0]) < size:
            out[-1][0].append(e.id)
        else:
            out.append(([e.id], target))
    return out


async def _moves(
    client: AsyncClient,
    base: RedriveResult,
    chosen: list[tuple[DlqEntry, bytes]],
    new: list[bytes],
    skipped: str,
    need: str,
    batch: int = BATCH,
    progress: Progress | None = None,
    cancel: asyncio.Event | None = None,
) -> RedriveResult:
    """Each batch in its own transaction; the result says only what happened (a concurrent redrive
    may have taken others)."""
    dlq = base.dlq or b""
    moved: list[tuple[str, str]] = []
    gone: list[str] = []
    busy: list[str] = []
    went: dict[bytes, int] = {}
    lost: list[str] = []  # the last batch's reply lost, and it was moved
    cancelled = False
    handled = 0

    def now(ok: bool, message: str, **more: Any) -> RedriveResult:
        return replace(
            base,
            ok=ok,
            message=message,
            moved=moved,
            gone=gone,
            busy=busy,
            to=went,
            cancelled=cancelled,
            **more,
        )

    runs = batches(chosen, batch)
    for ids, target in runs:
        if cancel is not None and cancel.is_set():
            cancelled = True
            break
        try:
            done = await _move_batch(client, dlq, ids, target)
        except TargetNotStream as exc:
            return now(
                False,
                f"redrive refused: '{label(exc.target)}' is a {exc.kind}, not a "
                f"stream: nothing was moved there ({len(moved):,} moved before that)",
                target_type=exc.kind,
            )
        except Exception as exc:
            res = fail(RedriveResult, exc, "redrive", dlq, need=need)
            if not is_lost(exc):
                return now(False, f"{res.message} ({len(moved):,} moved before that)", error=res.error)
            fate = await _after_drop(client, dlq, ids)
            if fate == "moved":
                moved.extend((i, "") for i in ids)
                went[target] = went.get(target, 0) + len(ids)
                if ids is runs[-1][0]:  # the last one: it all ran, nothing is left to run again for
                    lost = ids
                    break
            return now(
                False,
                f"{res.message} while moving {batch_span(ids)}: {_fate_words(fate, len(ids))}; "
                f"{len(moved):,} moved in all: run it again to move the rest (moved entries left the DLQ)",
                error=res.error,
                in_flight=(ids[0], fate),
                in_flight_ids=ids,
            )
        moved += done.moved
        gone += done.gone
        busy += done.busy
        if done.moved:
            went[target] = went.get(target, 0) + len(done.moved)
        if done.failure is not None:
            res = fail(RedriveResult, done.failure, "redrive", dlq, need=need)
            return now(False, f"{res.message} ({len(moved):,} moved in all)", error=res.error)
        handled += len(ids)
        if progress is not None:
            progress(handled, len(chosen))
    msg = _done_message(dlq, went, new, skipped, len(moved), len(gone), len(busy))
    if cancelled:
        msg += f"; stopped by you: {len(chosen) - handled:,} not moved (still in the DLQ)"
    if lost:
        what = f"{lost[0]} was moved" if len(lost) == 1 else f"{batch_span(lost)} were moved"
        msg += f"; the connection was lost as the last batch moved: checked, {what}"
        return now(True, msg, in_flight=(lost[0], "moved"), in_flight_ids=lost)
    return now(True, msg)


def _done_message(
    dlq: bytes, went: dict[bytes, int], new: list[bytes], skipped: str, moved: int, gone: int, busy: int
) -> str:
    where = ", ".join(f"{n:,} to '{label(t)}'" for t, n in went.items())
    skipped += "".join(f"; '{label(t)}' was created (a new stream)" for t in new if went.get(t))
    msg = f"redrove {moved:,} entries from '{label(dlq)}'" + (f": {where}" if where else "") + skipped
    if gone:
        msg += f"; {gone:,} left the DLQ meanwhile (not moved)"
    if busy:
        msg += f"; {busy:,} not moved (the DLQ or the target kept changing: try again)"
    return msg


def _fate_words(fate: str, n: int) -> str:
    if n == 1:
        return {
            "moved": "it was moved",
            "not moved": "it was not moved",
            "unknown": "it may have been moved: check the DLQ for it",
        }[fate]
    return {
        "moved": "they were moved (in one MULTI/EXEC)",
        "not moved": "they were not moved",
        "unknown": "they may have been moved: check the DLQ for them",
    }[fate]


def check_range(start: str, end: str) -> None:
    if start not in ("-", "+") and end not in ("-", "+") and id_key(start) > id_key(end):
        raise ValidationError(f"the start ID {start} is after the end ID {end}")
