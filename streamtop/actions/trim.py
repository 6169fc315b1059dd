"""The trim preview: how many entries a trim removes and what that costs each consumer group.

Entries removed while still pending stay in the PEL without data; entries removed before a group
read them (after its last-delivered-id) are lost to that group. Both are counted per group so the
dialog can say so before the person confirms. Pending entries whose data an earlier trim or XDEL
already took are counted apart (`without_data`): this trim costs them nothing (streamtop.pipeline.nodata).

Streams have no positional index, so finding the trim boundary means reading IDs: the preview reads
the cheaper side in pages and stops at SCAN_CAP entries, beyond which counts are unknown (None).
"""

from __future__ import annotations

from dataclasses import dataclass

from streamtop.pipeline.connection import AsyncClient
from streamtop.pipeline.model import label
from streamtop.pipeline.nodata import Bounds, bounds_from_info, without_data
from streamtop.pipeline.parse import Reply, ReplyFields, pairs, parse_entries, text, to_int

from .base import (
    DETAIL,
    MAX_MAXLEN,
    ActionResult,
    ValidationError,
    check_id,
    check_name,
    check_strategy,
    fail,
    id_key,
    is_lost,
    lost_words,
    needs,
    next_id,
    one_line,
    parse_int,
    pending_rows,
    prev_id,
)
from .context import Context

PAGE = 5000
SCAN_CAP = 200_000


@dataclass(frozen=True)
class GroupImpact:
    """Of the entries a trim removes: how many this group still has pending, and has not read.
    None = unknown (the trim boundary was too far to find); `*_capped` = a lower bound."""

    name: bytes
    pending: int | None  # pending entries in the removed range that still have their data
    unread: int | None
    pending_capped: bool = False
    unread_capped: bool = False
    without_data: int | None = 0  # pending entries up to the boundary whose data is gone already

    @property
    def harmful(self) -> bool:
        return bool(self.pending) or bool(self.unread) or self.pending is None or self.unread is None


# a checked trim threshold (_trim_args): MAXLEN's an int, MINID's a stream ID
Threshold = int | str


@dataclass(frozen=True)
class TrimPreview:
    key: bytes
    strategy: str
    threshold: Threshold
    approx: bool
    length: int
    removes_min: int | None  # exact trim: min == max
    removes_max: int | None
    last_removed_id: str | None = None
    groups: tuple[GroupImpact, ...] = ()
    nothing: bool = False

    @property
    def exact(self) -> int | None:
        return self.removes_max if not self.approx else None

    def removes_text(self) -> str:
        if self.removes_max is None:
            return "an unknown number of entries (too many to count)"
        if self.approx:
            return (
                f"between {self.removes_min:,} and {self.removes_max:,} entries (~ removes whole nodes only)"
            )
        return f"{self.removes_max:,} of {self.length:,} entries"

    def warnings(self) -> list[str]:
        """One line per group that loses something (shown in red)."""
        up_to = "up to " if self.approx else ""
        out = []
        for g in self.groups:
            if not g.harmful:
                continue
            parts = []
            if g.pending is None or g.pending:
                parts.append(
                    f"{up_to}{_n(g.pending, g.pending_capped)} still pending (their data goes, "
                    "the IDs stay in the PEL)"
                )
            if g.unread is None or g.unread:
                parts.append(f"{up_to}{_n(g.unread, g.unread_capped)} not yet read: lost to this group")
            out.append(f"group '{label(g.name)}': " + "; ".join(parts))
        return out

    def notes(self) -> list[str]:
        """Pending entries whose data an earlier trim or XDEL took: this trim changes nothing for
        them (they stay in the PEL either way), so they are said apart, not counted as harm."""
        return [
            f"group '{label(g.name)}': {_n(g.without_data, g.pending_capped)} pending entries "
            "already have no data (an earlier trim or XDEL): ack them with A"
            for g in self.groups
            if g.without_data
        ]


def _n(value: int | None, capped: bool) -> str:
    if value is None:
        return "?"
    return f">={value:,}" if capped else f"{value:,}"


async def _scan(
    client: AsyncClient,
    key: bytes,
    start: str,
    end: str,
    cap: int,
    reverse: bool = False,
    stop_at: int | None = None,
) -> tuple[int, str | None, bool]:
    """Count entries in [start, end] (IDs inclusive), in pages. Returns (count, last ID seen, capped).
    `stop_at`: stop once this many were counted (last ID is then the stop_at-th)."""
    count, last, limit = 0, None, min(cap, stop_at) if stop_at else cap
    lo, hi = start, end
    while count < limit:
        n = min(PAGE, limit - count)
        args = ("XREVRANGE", key, hi, lo) if reverse else ("XRANGE", key, lo, hi)
        rows = parse_entries(await client.execute_command(*args, "COUNT", n))
        if not rows:
            return count, last, False
        count += len(rows)
        last = rows[-1][0]
        if len(rows) < n:
            return count, last, False
        if reverse:
            p = prev_id(last)
            if p is None:
                return count, last, False
            hi = p
        else:
            lo = next_id(last)
    done = stop_at is not None and count >= stop_at
    return count, last, not done


async def _count_pending(
    client: AsyncClient, key: bytes, group: bytes, hi: str, bounds: Bounds
) -> tuple[int, int, bool]:
    """(pending up to `hi` with data, pending up to `hi` without data, capped)."""
    seen, gone, lo = 0, 0, "-"
    while seen < SCAN_CAP:
        rows = pending_rows(await client.execute_command("XPENDING", key, group, lo, hi, PAGE, **DETAIL))
        seen += len(rows)
        gone += len(await without_data(client, key, [r.id for r in rows], bounds))
        if len(rows) < PAGE:
            return seen - gone, gone, False
        lo = next_id(rows[-1].id)
    return seen - gone, gone, True


@dataclass(frozen=True, kw_only=True)
class TrimPreviewResult(ActionResult):
    """`preview`: what the trim would remove (None when it could not be read)."""

    preview: TrimPreview | None = None


@dataclass(frozen=True, kw_only=True)
class TrimResult(ActionResult):
    """`removed` entries (the server's count), the length before and after (None: unknown)."""

    removed: int | None = None
    length_before: int | None = None
    length_after: int | None = None


def _trim_args(key: object, strategy: object, threshold: object) -> tuple[bytes, str, Threshold]:
    name = check_name(key, "stream key")
    how = check_strategy(strategy)
    if how == "MAXLEN":
        limit = parse_int(threshold, "MAXLEN", 0)
        if limit > MAX_MAXLEN:
            raise ValidationError(
                f"MAXLEN must be at most {MAX_MAXLEN:,}: the server refuses more "
                "('value is not an integer or out of range')"
            )
        return name, how, limit
    return name, how, check_id(threshold, "MINID")


async def trim_preview(
    ctx: Context, key: bytes | str, strategy: str, threshold: int | str, approx: bool = False
) -> TrimPreviewResult:
    """What a trim would remove, without removing it (`preview`). A read, so it works in
    read-only mode too."""
    key, strategy, threshold = _trim_args(key, strategy, threshold)
    return await preview(ctx, key, strategy, threshold, approx)


async def trim(
    ctx: Context, key: bytes | str, strategy: str, threshold: int | str, approx: bool = False
) -> TrimResult:
    """XTRIM; reports how many entries went and the stream's length after."""
    key, strategy, threshold = _trim_args(key, strategy, threshold)
    if refused := ctx.refusal(TrimResult, "trim"):
        return refused
    seen: int | None = None
    need = needs("+xtrim", (key,), "+xlen")
    try:
        seen = to_int(await ctx.cmd("XLEN", key)) or 0  # the baseline if the reply is lost
        # No MULTI (a user without +multi must get a true report, issue 24): XTRIM's reply is
        # the server's count of what it removed; the lengths around it are read in the same
        # round trip, and the length after is what the stream holds now.
        pipe = ctx.client.pipeline(transaction=False)
        pipe.execute_command("XLEN", key)
        pipe.execute_command("XTRIM", key, strategy, "~" if approx else "=", threshold)
        pipe.execute_command("XLEN", key)
        before, removed, after = await pipe.execute(raise_on_error=False)
    except Exception as exc:
        if is_lost(exc) and seen is not None:
            return await ctx.lost(_trim_lost, exc, key, strategy, threshold, approx, seen)
        return fail(TrimResult, exc, "trim", key, need=need)
    if isinstance(removed, Exception):
        return fail(TrimResult, removed, "trim", key, need=need, removed=0)
    before = seen if isinstance(before, Exception) else to_int(before)
    after = None if isinstance(after, Exception) else to_int(after)
    removed = to_int(removed) or 0
    how = f"{strategy} {'~' if approx else '='} {threshold}"
    left = f"{after} left" if after is not None else "length now unknown (XLEN refused)"
    if not removed:
        msg = f"nothing trimmed from '{label(key)}' ({how}; {left})"
        if approx:
            msg += ": ~ removes whole nodes only"
    else:
        msg = f"trimmed {removed} entries from '{label(key)}' ({how}); {left}"
    return TrimResult(True, msg, removed=removed, length_before=before, length_after=after)


async def _trim_lost(
    ctx: Context, exc: BaseException, key: bytes, strategy: str, threshold: Threshold, approx: bool, seen: int
) -> TrimResult:
    """The trim's reply was lost: the length now against the length just before, and whether
    the stream now satisfies the trim (exact MAXLEN: length; MINID: the first ID)."""
    how = f"{strategy} {'~' if approx else '='} {threshold}"
    head = f"{lost_words(exc)} after the trim was sent ({one_line(exc)})"
    got = await ctx.reread(("XLEN", key), ("XRANGE", key, "-", "+", "COUNT", 1))
    if got is None or any(isinstance(g, Exception) for g in got):
        return TrimResult(
            False,
            f"{head}: it may have been applied; check with XLEN {label(key)}",
            error=str(exc),
            lost_reply=True,
            length_before=seen,
            may_have_applied=True,
        )
    now = to_int(got[0]) or 0
    first = parse_entries(got[1])
    if strategy == "MAXLEN":
        holds = now <= int(threshold)
    else:
        holds = not first or id_key(first[0][0]) >= id_key(str(threshold))
    if now < seen:
        ok, msg = True, f"{head}: '{label(key)}' now has {now:,} entries, {seen - now:,} fewer: the trim ran"
    elif holds:
        ok, msg = (
            True,
            f"{head}: '{label(key)}' has {now:,} entries ({seen:,} before) and "
            f"nothing left to trim for {how}",
        )
    else:
        ok, msg = (
            False,
            f"{head}: '{label(key)}' still has {now:,} entries ({seen:,} before): "
            f"not trimmed to {how}; run it again",
        )
    return TrimResult(
        ok,
        msg,
        error=str(exc),
        lost_reply=True,
        length_before=seen,
        length_after=now,
        removed=max(0, seen - now),
    )


async def preview(
    ctx: Context, key: bytes, strategy: str, threshold: Threshold, approx: bool
) -> TrimPreviewResult:
    client = ctx.client
    how = f"{strategy} {'~' if approx else '='} {threshold}"
    try:
        info = pairs(await client.execute_command("XINFO", "STREAM", key))
        length = to_int(info.get("length")) or 0
        first = _first_id(info.get("first-entry"))
        groups = await ctx.groups(key)
        hi, removed = await _boundary(client, key, strategy, threshold, length, first)
        if removed == 0:
            why = (
                f"'{label(key)}' has {length:,} entries, {how} keeps them all"
                if strategy == "MAXLEN"
                else f"no entry of '{label(key)}' is older than {threshold}"
            )
            p = TrimPreview(key, strategy, threshold, approx, length, 0, 0, nothing=True)
            return TrimPreviewResult(True, f"nothing to trim: {why}", preview=p)
        bounds = bounds_from_info(info)
        impacts = [await _impact(client, key, g, hi, removed, first, bounds) for g in groups]
    except Exception as exc:
        return fail(TrimPreviewResult, exc, "trim preview", key)
    p = TrimPreview(
        key,
        strategy,
        threshold,
        approx,
        length,
        0 if approx else removed,
        removed,
        last_removed_id=hi,
        groups=tuple(impacts),
    )
    msg = f"{how} removes {p.removes_text()} from '{label(key)}'"
    if w := p.warnings() + p.notes():
        msg += "; " + "; ".join(w)
    return TrimPreviewResult(True, msg, preview=p)


def _first_id(entry: Reply) -> str | None:
    return text(entry[0]) if isinstance(entry, list | tuple) and entry else None


async def _boundary(
    client: AsyncClient, key: bytes, strategy: str, threshold: Threshold, length: int, first: str | None
) -> tuple[str | None, int | None]:
    """(last removed ID or None if too far to find, how many go or None if too many to count).
    MAXLEN always knows the count; MINID always knows the boundary (the ID just below it)."""
    if length == 0 or first is None:
        return None, 0
    if strategy == "MAXLEN":
        limit = int(threshold)
        removed = max(0, length - limit)
        if removed == 0:
            return None, 0
        if removed <= limit + 1:  # read the cheaper side
            _, last, capped = await _scan(client, key, "-", "+", SCAN_CAP, stop_at=removed)
        else:
            _, last, capped = await _scan(client, key, "-", "+", SCAN_CAP, reverse=True, stop_at=limit + 1)
        return (None if capped else last), removed
    minid = str(threshold)
    if id_key(first) >= id_key(minid):
        return None, 0
    hi = prev_id(minid)
    if hi is None:  # MINID 0-0: nothing is below it (the first ID is never below 0-0)
        return None, 0
    n, _, capped = await _scan(client, key, "-", hi, SCAN_CAP)
    if capped:  # count the kept side instead
        kept, _, capped = await _scan(client, key, minid, "+", SCAN_CAP)
        return hi, None if capped else length - kept
    return hi, n


async def _impact(
    client: AsyncClient,
    key: bytes,
    g: ReplyFields,
    hi: str | None,
    removed: int | None,
    first: str | None,
    bounds: Bounds,
) -> GroupImpact:
    name = g["name"]
    if hi is None:
        return GroupImpact(name, None, None, without_data=None)
    pending, gone, capped_p = await _count_pending(client, key, name, hi, bounds)
    ldid = text(g.get("last-delivered-id")) or "0-0"
    if id_key(ldid) >= id_key(hi):
        unread, capped_u = 0, False
    elif first is not None and id_key(ldid) < id_key(first) and removed is not None:
        unread, capped_u = removed, False
    else:
        unread, _, capped_u = await _scan(client, key, next_id(ldid), hi, SCAN_CAP)
    return GroupImpact(name, pending, unread, capped_p, capped_u, gone)
