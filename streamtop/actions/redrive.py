"""Redrive: move entries from a dead-letter stream back to their source stream (or another), with
their original fields and without the metadata dead-letter added; the way back from `D` once the
bug that poisoned them is fixed (what SQS calls a DLQ redrive).

Each move is: WATCH the DLQ and the target; check the target is a stream or absent (TYPE); read the
DLQ entry (XRANGE id id; gone: someone else moved it); MULTI; XADD to the target (the fields before
the dlq-* tail); XDEL from the DLQ; EXEC. The redriven entry gets a new ID (a stream only grows),
so the groups of the target read it as new.

Why nothing is lost or duplicated when the connection drops: before EXEC reaches the server the
queued MULTI is discarded (the entry is still in the DLQ, not in the target; a re-run moves it);
once EXEC ran, both the copy and the XDEL happened, and a re-run no longer finds the entry. WATCH
on both keys makes two redrives of the same entry at once retry instead of both copying it (the
XDEL of the first touches the DLQ), and keeps the TYPE check true until EXEC. After a drop, the entry
in flight is looked up again (still in the DLQ?) so the result says whether it moved.

An entry dead-lettered without data (`dlq-missing`) has nothing to restore: it is skipped and said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis

from ..model import label
from ..parse import parse_entries, text, to_int
from .base import ActionResult, fail, id_key, is_lost, next_id

if TYPE_CHECKING:
    from .core import Actions

# what dead-letter appends after the original fields (deadletter.py), in that order
META = (b"dlq-original-id", b"dlq-group", b"dlq-consumer", b"dlq-deliveries", b"dlq-source", b"dlq-missing")
PAGE = 500
WATCH_RETRIES = 5


@dataclass(frozen=True, slots=True)
class DlqEntry:
    """One DLQ entry split into what goes back and what dead-letter recorded about it."""

    id: str
    fields: tuple[tuple[bytes, bytes], ...]  # the original fields, in order
    meta: dict[bytes, bytes]

    @property
    def source(self) -> bytes | None:
        return self.meta.get(b"dlq-source")

    @property
    def group(self) -> bytes | None:
        return self.meta.get(b"dlq-group")

    @property
    def missing(self) -> bool:
        return self.meta.get(b"dlq-missing") == b"1"


def split(entry_id: str, pairs: list[tuple[bytes, bytes]]) -> DlqEntry:
    """The metadata is the tail of dlq-* fields dead-letter appended; an original field that happens
    to be named dlq-something, before that tail, stays with the original fields."""
    fields = list(pairs)
    meta: dict[bytes, bytes] = {}
    while fields and fields[-1][0] in META and fields[-1][0] not in meta:
        name, value = fields.pop()
        meta[name] = value
    return DlqEntry(entry_id, tuple(fields), meta)


class TargetNotStream(Exception):
    def __init__(self, target: bytes, kind: str) -> None:
        super().__init__(kind)
        self.target, self.kind = target, kind


async def select(
    client: Any, dlq: bytes, group: bytes | None, start: str, end: str, count: int, to: bytes | None
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


async def _move_one(client: Any, dlq: bytes, entry_id: str, target: bytes) -> tuple[str, str | None]:
    """('moved', new id) | ('gone', None) | ('busy', None); raises TargetNotStream before anything
    is queued, redis.ConnectionError when the connection drops at any step."""
    for _ in range(WATCH_RETRIES):
        try:
            async with client.pipeline(transaction=True) as pipe:
                await pipe.watch(dlq, target)
                kind = text(await pipe.execute_command("TYPE", target))
                if kind not in ("stream", "none"):
                    await pipe.unwatch()
                    raise TargetNotStream(target, kind or "?")
                rows = parse_entries(await pipe.execute_command("XRANGE", dlq, entry_id, entry_id))
                if not rows:
                    await pipe.unwatch()
                    return "gone", None
                pairs = rows[0][1]
                e = split(rows[0][0], pairs)
                pipe.multi()
                pipe.execute_command("XADD", target, "*", *[x for kv in e.fields for x in kv])
                pipe.execute_command("XDEL", dlq, entry_id)
                new_id, deleted = await pipe.execute(raise_on_error=False)
        except redis.WatchError as exc:
            if "occurred while watching" in str(exc):  # a drop, not a change of a watched key
                raise redis.ConnectionError(f"connection lost during the redrive of {entry_id}") from exc
            continue
        if isinstance(new_id, Exception):
            if not isinstance(deleted, Exception) and to_int(deleted):
                # the copy failed but the DLQ entry went: put it back (under a new DLQ ID), whole
                await client.execute_command("XADD", dlq, "*", *[x for kv in pairs for x in kv])
            raise new_id
        if isinstance(deleted, Exception) or not to_int(deleted):
            # copied but the DLQ entry stayed: take the copy back so it is not redriven twice
            await client.execute_command("XDEL", target, text(new_id))
            if isinstance(deleted, Exception):
                raise deleted
            return "gone", None
        return "moved", text(new_id)
    return "busy", None


async def _after_drop(client: Any, dlq: bytes, entry_id: str) -> str:
    """'moved' (no longer in the DLQ: the EXEC ran), 'not moved' (still there), 'unknown'."""
    try:
        rows = parse_entries(await client.execute_command("XRANGE", dlq, entry_id, entry_id))
    except Exception:
        return "unknown"
    return "not moved" if rows else "moved"


async def target_types(client: Any, targets: list[bytes]) -> dict[bytes, str]:
    """TYPE of each target in one round trip: "none" for a stream the redrive would create."""
    pipe = client.pipeline(transaction=False)
    for t in targets:
        pipe.execute_command("TYPE", t)
    return {t: text(k) or "?" for t, k in zip(targets, await pipe.execute(), strict=True)}


async def redrive(
    actions: Actions,
    dlq: bytes,
    to: bytes | None,
    group: bytes | None,
    start: str,
    end: str,
    count: int,
    dry_run: bool,
) -> ActionResult:
    client = actions.client
    need = (
        f"+xadd on the target and +xdel on {label(dlq)!r} (and +xrange +type +watch +multi +exec, "
        "which it also runs)"
    )
    try:
        chosen, missing, homeless = await select(client, dlq, group, start, end, count, to)
    except Exception as exc:
        return fail(exc, "redrive", dlq, need=need)
    targets: dict[bytes, int] = {}
    for _, t in chosen:
        targets[t] = targets.get(t, 0) + 1
    where = ", ".join(f"{n:,} to {label(t)!r}" for t, n in targets.items())
    details: dict[str, Any] = {
        "dlq": dlq,
        "to": targets,
        "without_data": [e.id for e in missing],
        "no_source": [e.id for e in homeless],
        "dry_run": dry_run,
    }
    skipped = ""
    if missing:
        skipped += f"; {len(missing):,} dead-lettered without data (nothing to restore) stay"
    if homeless:
        skipped += f"; {len(homeless):,} have no dlq-source field: give a target stream"
    if not chosen:
        return ActionResult(
            True,
            f"nothing to redrive from {label(dlq)!r}" + skipped,
            {**details, "moved": [], "nothing": True},
        )
    if dry_run:
        try:
            kinds = await target_types(client, list(targets))
        except Exception as exc:
            return fail(exc, "redrive", dlq, need=need)
        if wrong := {t: k for t, k in kinds.items() if k not in ("stream", "none")}:
            t, kind = next(iter(wrong.items()))
            return ActionResult(
                False,
                f"redrive refused: {label(t)!r} is a {kind}, not a stream: nothing would be moved",
                {**details, "target_type": kind},
            )
        new = [t for t, k in kinds.items() if k == "none"]
        for t in new:  # said before XADD creates it (issue 18)
            skipped += f"; {label(t)!r} does not exist: a new stream will be created"
        return ActionResult(
            True,
            f"would redrive {len(chosen):,} entries from {label(dlq)!r}: {where}" + skipped,
            {**details, "moved": [], "would_move": [e.id for e, _ in chosen], "new_streams": new},
        )
    moved: list[tuple[str, str]] = []
    gone: list[str] = []
    busy: list[str] = []
    details.update(moved=moved, gone=gone, busy=busy)
    for e, target in chosen:
        try:
            status, new_id = await _move_one(client, dlq, e.id, target)
        except TargetNotStream as exc:
            return ActionResult(
                False,
                f"redrive refused: {label(exc.target)!r} is a {exc.kind}, not a "
                f"stream: nothing was moved there ({len(moved):,} moved before that)",
                {**details, "target_type": exc.kind},
            )
        except Exception as exc:
            res = fail(exc, "redrive", dlq, need=need, **details)
            if not is_lost(exc):
                return ActionResult(False, f"{res.message} ({len(moved):,} moved before that)", res.details)
            fate = await _after_drop(client, dlq, e.id)
            if fate == "moved":
                moved.append((e.id, ""))
            said = {
                "moved": "it was moved",
                "not moved": "it was not moved",
                "unknown": "it may have been moved: check the DLQ for it",
            }[fate]
            return ActionResult(
                False,
                f"{res.message} while moving {e.id}: {said}; {len(moved):,} moved in "
                "all: run it again to move the rest (moved entries left the DLQ)",
                {**res.details, "in_flight": (e.id, fate)},
            )
        if status == "moved":
            moved.append((e.id, new_id or ""))
        elif status == "gone":
            gone.append(e.id)
        else:
            busy.append(e.id)
    msg = f"redrove {len(moved):,} entries from {label(dlq)!r}: {where}" + skipped
    if gone:
        msg += f"; {len(gone):,} left the DLQ meanwhile (not moved)"
    if busy:
        msg += f"; {len(busy):,} not moved (the DLQ or the target kept changing: try again)"
    return ActionResult(True, msg, details)


def check_range(start: str, end: str) -> None:
    from .base import ValidationError

    if start not in ("-", "+") and end not in ("-", "+") and id_key(start) > id_key(end):
        raise ValidationError(f"the start ID {start} is after the end ID {end}")
