"""A verdict per consumer group over a sliding window of polls, without thresholds.

Why: eight numbers per group do not say which group is in trouble, and a fixed `--max-lag` is
wrong for every stream but one. Like Burrow (LinkedIn's Kafka lag checker) the verdict comes from
how the group moved over the window, not from limits; unlike Kafka, a stream ID carries the time
its entry was added, so the server also says how old the oldest undelivered entry is (time lag).

The rules, first match wins (the window is the last `window` seconds of polls, plus the poll just
before it, so a full history covers the whole window):

- stopped: entries wait (lag > 0, or pending entries held longer than the window) and no
  consumer was seen during the window (or the group has none);
- stalled: consumers are seen, but the group's position (last-delivered-id) did not move during
  the whole window while lag > 0 in every poll (on 7.2+: also when no consumer has read anything
  for the window, from `inactive`, without waiting for the window to fill);
- stuck: the pending entries list holds an entry that was not acknowledged for the window: held
  without redelivery for longer than the window, or the same entry at the head of the PEL in every
  poll of a full window (a retry loop). Whether or not reads go on and entries are added: a failure
  does not hide in a lull (issue 25: c1 held 2 entries while c2 polled a quiet stream, and the
  group was called idle);
- idle: nothing added in the window and nothing to read;
- ok: lag reached 0 in the window;
- falling_behind: the group reads, but its lag (entries, else time lag) grew in nearly every
  interval (80 %) of a full window;
- ok: otherwise, while the group reads (lag shrinking: with an ETA; steady: with the rates);
- unknown: what one poll, or a window not yet full, cannot decide (a position that has not moved
  yet for the whole window, a lag that only grew so far, a lag nobody can count).

Off screen (issue 17) a group is read as a summary (XINFO STREAM + XINFO GROUPS: consumers count,
pending count, lag, entries-read, last-delivered-id), with no consumers' idle times and no head of
the PEL. Its samples feed the window all the same, and the rules judge what they can from them:
stopped when it has no consumers, idle, ok, falling behind. What needs the consumers or the PEL
(stopped or stalled with consumers, stuck) is unknown with `off_screen` set: NOT_MOVING when the
position has not moved for a whole window with entries to read at every poll (stopped or stalled:
which one, when in view), NOT_JUDGED otherwise. Never ok.

A restart of the server or a group reset (SETID back, recreated at `$`) sends counters back; the
window then starts again from the poll after it. Pure functions over GroupSample timelines: the
clock is the polls' own `taken_at`, so tests give any timeline they like.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar, cast

from streamtop.pipeline.model import (
    EARLIEST_TIME_ID_MS,
    GroupInfo,
    Lag,
    LagSource,
    StreamInfo,
    TimeLagSource,
    id_key,
    label,
)
from streamtop.pipeline.units import count, duration_ms, rate

DEFAULT_WINDOW = 60.0
NEARLY_EVERY = 0.8  # share of a window's intervals in which the lag grew: falling behind


class Verdict(StrEnum):
    OK = "ok"
    FALLING_BEHIND = "falling_behind"
    STALLED = "stalled"
    STOPPED = "stopped"
    STUCK = "stuck"  # one name for one meaning (issue 25: it was "failing", and missed lulls)
    IDLE = "idle"
    UNKNOWN = "unknown"

    @property
    def healthy(self) -> bool:
        """What `status --health` lets pass (exit 0)."""
        return self in (Verdict.OK, Verdict.IDLE)


# worst first: the one a stream shows for its groups
SEVERITY = (
    Verdict.STOPPED,
    Verdict.STALLED,
    Verdict.STUCK,
    Verdict.FALLING_BEHIND,
    Verdict.UNKNOWN,
    Verdict.OK,
    Verdict.IDLE,
)


class OffScreen(StrEnum):
    """Why an off-screen group's verdict is unknown (its summary lacks the consumers and the PEL)."""

    NOT_MOVING = "not moving"  # entries to read at every poll of a full window, position unchanged
    NOT_JUDGED = "not judged"  # pending entries, or a window not full yet: needs the full read


def worst(verdicts: Sequence[Verdict]) -> Verdict | None:
    return min(verdicts, key=SEVERITY.index, default=None)


@dataclass(frozen=True, slots=True)
class GroupSample:
    """What the verdict needs of one group at one poll."""

    t: float  # epoch seconds of the poll
    position: tuple[int, int] | None  # last-delivered-id
    last_id: tuple[int, int] | None  # the stream's last-generated-id (moves with every XADD)
    entries_read: int | None = None  # 7.0+
    added: int | None = None  # the stream's entries-added (7.0+)
    length: int = 0
    lag: int | None = None  # exact, or an estimate that was not capped
    lag_at_least: int | None = None  # a capped estimate
    behind: bool | None = None  # lag > 0 (from the lag, else from the position and last entry)
    time_lag_ms: int | None = None  # exact time lag only
    pending: int = 0
    oldest_pending_id: str | None = None
    oldest_pending_idle_ms: int | None = None
    oldest_pending_deliveries: int | None = None
    oldest_pending_consumer: bytes | None = None
    consumers: int = 0
    seen_ms: int | None = None  # since any consumer was last seen (smallest idle)
    read_ago_ms: int | None = None  # since any consumer last read something (7.2+ `inactive`)
    summary: bool = False  # off screen: no consumers' times, no PEL head (unknown, not absent)

    @classmethod
    def of(cls, t: float, stream: StreamInfo, group: GroupInfo) -> GroupSample:
        lag: Lag = group.lag
        best = lag.best
        capped = lag.source is LagSource.ESTIMATE and lag.capped
        last_entry = id_key(stream.last_entry_id)
        # a caught-up group's position is the last entry: one tuple for both (issue 29: memory)
        position = (
            last_entry if group.last_delivered_id == stream.last_entry_id else id_key(group.last_delivered_id)
        )
        if best is not None:
            behind: bool | None = best > 0
        elif position is not None and stream.length == 0:
            behind = False
        elif position is not None and last_entry is not None:
            behind = position < last_entry
        else:
            behind = None
        ps = group.pending_summary
        oldest = ps.oldest if ps else None
        summary = stream.summary_only  # no consumers read: their times are unknown, not absent
        has_inactive = not summary and any(c.inactive_ms is not None for c in group.consumer_list)
        tl = group.time_lag
        return cls(
            t=t,
            position=position,
            # usually the last entry's ID: parsed once (every off-screen summary makes samples too)
            last_id=last_entry
            if stream.last_generated_id == stream.last_entry_id
            else id_key(stream.last_generated_id),
            entries_read=group.entries_read,
            added=stream.entries_added,
            length=stream.length,
            lag=None if capped else best,
            lag_at_least=best if capped else None,
            behind=behind,
            time_lag_ms=tl.ms if tl.source is TimeLagSource.EXACT else None,
            pending=group.pending,
            oldest_pending_id=oldest.id if oldest else (ps.smallest_id if ps else None),
            oldest_pending_idle_ms=oldest.idle_ms if oldest else None,
            oldest_pending_deliveries=oldest.deliveries if oldest else None,
            oldest_pending_consumer=oldest.consumer if oldest else None,
            consumers=group.consumers,
            seen_ms=None if summary else group.seen_ms,
            read_ago_ms=group.last_read_ms if has_inactive else None,
            summary=summary,
        )

    def lag_text(self) -> str:
        if self.lag is not None:
            return count(self.lag)
        if self.lag_at_least is not None:
            return f">={count(self.lag_at_least)}"
        return "entries" if self.behind else "?"


@dataclass(frozen=True, slots=True)
class Health:
    """A group's verdict with its one-line reason, and the window's rates (None: unknown)."""

    verdict: Verdict
    reason: str
    read_rate: float | None = None  # entries/s the group read over the window
    add_rate: float | None = None  # entries/s added to the stream over the window
    eta_s: float | None = None  # until lag 0 at these rates, when reads outpace adds
    off_screen: OffScreen | None = None  # unknown for want of what only a full read has


UNPOLLED = Health(Verdict.UNKNOWN, "not polled yet")


def _back(x: tuple[int, int] | int | None, y: tuple[int, int] | int | None) -> bool:
    return x is not None and y is not None and y < x  # type: ignore[operator]


def reset_between(a: GroupSample, b: GroupSample) -> bool:
    """Counters went back between two polls: a server restarted from an older save, the group
    was recreated or set back, or the stream was recreated."""
    return (
        _back(a.position, b.position)
        or _back(a.last_id, b.last_id)
        or _back(a.added, b.added)
        or _back(a.entries_read, b.entries_read)
    )


def _monotonic(w: Sequence[GroupSample]) -> bool:
    """No counter went back in `w` (the common case, checked with C-speed sorts)."""
    return (
        _ascending([s.position for s in w])
        and _ascending([s.last_id for s in w])
        and _ascending([s.added for s in w])
        and _ascending([s.entries_read for s in w])
    )


_Counted = TypeVar("_Counted", int, tuple[int, int])


def _ascending(values: list[_Counted | None]) -> bool:
    """The known values (None: not known) never go down."""
    known = [v for v in values if v is not None] if None in values else cast("list[_Counted]", values)
    return known == sorted(known)


def window_of(samples: Sequence[GroupSample], window_s: float, reset_free: bool = False) -> list[GroupSample]:
    """The polls of the last `window_s` seconds, plus the one just before them, since the last
    reset (a restart or group reset starts the window again after it). `reset_free`: the caller
    keeps no poll from before a reset (History drops them as they come), so none is looked for."""
    if not samples:
        return []
    samples = list(samples)  # a deque has no slices
    edge = samples[-1].t - window_s
    first = 0
    if samples[0].t < edge:  # History keeps about one window: usually nothing to cut
        first = max(bisect_right([s.t for s in samples], edge) - 1, 0)
    kept = samples[first:]
    if reset_free or _monotonic(kept):
        return kept
    start = 0
    for i in range(1, len(kept)):
        if reset_between(kept[i - 1], kept[i]):
            start = i
    return kept[start:]


def _moved(a: GroupSample, b: GroupSample) -> bool:
    if a.position is not None and b.position is not None and b.position > a.position:
        return True
    return a.entries_read is not None and b.entries_read is not None and b.entries_read > a.entries_read


def _added(a: GroupSample, b: GroupSample) -> bool | None:
    if a.added is not None and b.added is not None:
        return b.added > a.added
    if a.last_id is not None and b.last_id is not None:
        return b.last_id > a.last_id
    return None


def rates(w: Sequence[GroupSample]) -> tuple[float | None, float | None]:
    """(read, add) entries/s between the first and last poll of the window."""
    if len(w) < 2:
        return None, None
    a, b = w[0], w[-1]
    span = b.t - a.t
    if span <= 0:
        return None, None
    added: float | None
    if a.added is not None and b.added is not None:
        added = b.added - a.added
    elif a.last_id == b.last_id and a.last_id is not None:
        added = 0
    elif b.length > a.length:  # 6.2: length grows with adds (a lower bound when trimmed)
        added = b.length - a.length
    else:
        added = None
    read: float | None
    if a.entries_read is not None and b.entries_read is not None:
        read = b.entries_read - a.entries_read
    elif a.position == b.position and a.position is not None:
        read = 0
    elif added is not None and a.lag is not None and b.lag is not None:
        read = max(0, added - (b.lag - a.lag))  # what was added and is no longer to read
    else:
        read = None
    return (None if read is None else read / span), (None if added is None else added / span)


def _eta(lag: int | None, read: float | None, add: float | None) -> float | None:
    if not lag or read is None or add is None or read <= add:
        return None
    return lag / (read - add)


def eta_text(eta_s: float) -> str:
    return "~" + duration_ms(eta_s * 1000)


def _grew(w: Sequence[GroupSample]) -> tuple[int, int, bool]:
    """(intervals the lag grew in, intervals compared, lag higher at the end than at the start),
    in entries when every poll counted them, else in exact time lag."""
    for attr in ("lag", "time_lag_ms"):
        values = [getattr(s, attr) for s in w]
        if all(v is not None for v in values):
            pairs = list(zip(values, values[1:], strict=False))
            return sum(1 for x, y in pairs if y > x), len(pairs), values[-1] > values[0]
    return 0, 0, False


def _rates_text(read: float | None, add: float | None) -> str:
    return f"reads {rate(read)}, adds {rate(add)}"


@dataclass(frozen=True, slots=True)
class WindowFacts:
    """What the rules read of a window of polls: its two ends and what held across it. Computed
    from the polls (`facts_of`) or kept up to date poll by poll (`RunningWindow`): one verdict
    function for both, so status and the dashboard judge alike."""

    first: GroupSample
    cur: GroupSample
    n: int  # polls in the window
    moved: bool  # the position (or entries-read) advanced between some two polls
    added_any: bool  # entries were added between some two polls
    all_behind: bool  # lag > 0 at every poll
    same_head: bool  # every poll had the current poll's oldest pending entry at the PEL's head
    zero_at: GroupSample | None  # the last poll with nothing to read
    grew: tuple[int, int, bool]  # see _grew


def facts_of(w: Sequence[GroupSample]) -> WindowFacts:
    """The facts of a window (non-empty, oldest first), from its polls."""
    cur = w[-1]
    pairs = list(zip(w, w[1:], strict=False))
    return WindowFacts(
        first=w[0],
        cur=cur,
        n=len(w),
        moved=any(_moved(a, b) for a, b in pairs),
        added_any=any(_added(a, b) for a, b in pairs),
        all_behind=all(s.behind for s in w),
        same_head=all(s.oldest_pending_id == cur.oldest_pending_id for s in w),
        zero_at=next((s for s in reversed(w) if s.behind is False), None),
        grew=_grew(w),
    )


def judge(
    samples: Sequence[GroupSample], window_s: float = DEFAULT_WINDOW, reset_free: bool = False
) -> Health:
    """The verdict for one group from its polls (oldest first); see the module's rules."""
    w = window_of(samples, window_s, reset_free)
    return verdict(facts_of(w), window_s) if w else UNPOLLED


def verdict(f: WindowFacts, window_s: float = DEFAULT_WINDOW) -> Health:
    """The module's rules over the facts of one window, in their order: a group off screen is not
    judged; then stopped, stalled and stuck (something holds it), quiet (nothing to read), and
    last what its lag did across the window."""
    unjudged = off_screen(f.cur, f.first, f.n, f.moved, f.all_behind, window_s)
    if unjudged is not None:
        return unjudged
    w = _Judging(f, window_s)
    return w.stopped() or w.stalled() or w.stuck() or w.quiet() or w.by_lag()  # a Health is true


class _Judging:
    """One verdict's window: what the rules share, computed once, and each rule as a step (None:
    the rule does not apply)."""

    __slots__ = (
        "f",
        "cur",
        "first",
        "window_ms",
        "win",
        "span",
        "covered",
        "read",
        "add",
        "eta",
        "seen",
        "held_ms",
        "held_long",
    )

    def __init__(self, f: WindowFacts, window_s: float) -> None:
        self.f = f
        cur, first = self.cur, self.first = f.cur, f.first
        self.window_ms = window_s * 1000
        self.win = duration_ms(self.window_ms)
        self.span = cur.t - first.t
        self.covered = f.n > 1 and self.span >= window_s
        self.read, self.add = rates((first, cur))
        self.eta = _eta(cur.lag, self.read, self.add)
        self.seen = cur.seen_ms is not None and cur.seen_ms < self.window_ms
        self.held_ms = cur.oldest_pending_idle_ms
        self.held_long = cur.pending > 0 and self.held_ms is not None and self.held_ms >= self.window_ms

    def health(self, verdict: Verdict, reason: str) -> Health:
        return Health(verdict, reason, self.read, self.add, self.eta)

    def rates_text(self) -> str:
        return _rates_text(self.read, self.add)

    def stopped(self) -> Health | None:
        """Work waits (to read, or held) and no consumer came by within the window."""
        cur = self.cur
        if self.f.moved or self.seen or not (cur.behind or self.held_long):
            return None
        waiting = (
            f"{cur.lag_text()} to read"
            if cur.behind
            else f"{count(cur.pending)} pending held {duration_ms(self.held_ms)}"
        )
        if cur.consumers == 0:
            return self.health(Verdict.STOPPED, f"{waiting} and the group has no consumers")
        return self.health(
            Verdict.STOPPED, f"{waiting}; no consumer seen for {duration_ms(cur.seen_ms)} (window {self.win})"
        )

    def stalled(self) -> Health | None:
        """Consumers come by, but the position stayed put with entries to read all along."""
        cur, f = self.cur, self.f
        read_long_ago = cur.read_ago_ms is not None and cur.read_ago_ms >= self.window_ms
        if f.moved or not self.seen or not f.all_behind or not (self.covered or read_long_ago):
            return None
        since = (
            f"for {duration_ms(self.span * 1000)}"
            if self.covered
            else f"(no read for {duration_ms(cur.read_ago_ms)})"
        )
        return self.health(
            Verdict.STALLED,
            f"consumers seen {duration_ms(cur.seen_ms)} ago, but the "
            f"position has not moved {since} with {cur.lag_text()} to read",
        )

    def stuck(self) -> Health | None:
        """The oldest pending entry is held a whole window, or heads the PEL across it."""
        cur, f = self.cur, self.f
        same_head = self.covered and cur.oldest_pending_id is not None and f.same_head
        if cur.pending <= 0 or not (self.held_long or same_head):
            return None
        read_recently = f.moved or (cur.read_ago_ms is not None and cur.read_ago_ms < self.window_ms)
        who = label(cur.oldest_pending_consumer) if cur.oldest_pending_consumer is not None else "?"
        age = (
            f"held {duration_ms(self.held_ms)}"
            if self.held_long
            else f"at the head of the PEL for {duration_ms(self.span * 1000)}"
        )
        reads = "reads go on but" if read_recently else f"nothing read for {self.win} and"
        return self.health(
            Verdict.STUCK,
            (
                f"{reads} {cur.oldest_pending_id} is not acknowledged: {age} by {who}, "
                f"{cur.oldest_pending_deliveries or '?'} deliveries; pending "
                f"{count(self.first.pending)} -> {count(cur.pending)}"
            ),
        )

    def quiet(self) -> Health | None:
        """Nothing to read: idle when nothing was added either, else caught up."""
        cur = self.cur
        if cur.behind is not False:
            return None
        if self.f.added_any:
            return self.health(Verdict.OK, f"caught up ({self.rates_text()})")
        if self.f.n > 1 or (quiet := _quiet_ms(cur)) is not None and quiet >= self.window_ms:
            return self.health(Verdict.IDLE, f"nothing added for {self.win} and nothing to read")
        return self.health(Verdict.OK, "caught up")

    def by_lag(self) -> Health:
        """Entries to read (or lag unknown): what the lag did across the window says the rest."""
        cur, f, win, span = self.cur, self.f, self.win, self.span
        zero_at = f.zero_at
        if zero_at is not None:
            return self.health(
                Verdict.OK,
                f"lag 0 {duration_ms((cur.t - zero_at.t) * 1000)} ago, "
                f"{cur.lag_text()} now ({self.rates_text()})",
            )
        if cur.behind is None:
            return self.health(Verdict.UNKNOWN, "lag unknown: neither the server nor a count could say")
        if f.n < 2:
            return self.health(
                Verdict.UNKNOWN,
                f"one poll: {cur.lag_text()} to read; a verdict needs a window of polls (status --window)",
            )
        if not f.moved:  # seen (stalled and stopped came first), but not for a whole window yet
            return self.health(
                Verdict.UNKNOWN,
                f"position unchanged for {duration_ms(span * 1000)} with "
                f"{cur.lag_text()} to read; watching for {win}",
            )
        grew, compared, higher = f.grew
        if compared and higher and grew >= NEARLY_EVERY * compared:
            return self.falling_behind(grew, compared)
        if self.eta is not None:
            return self.health(Verdict.OK, f"catching up in {eta_text(self.eta)} ({self.rates_text()})")
        return self.health(Verdict.OK, f"reading, {cur.lag_text()} to read ({self.rates_text()})")

    def falling_behind(self, grew: int, compared: int) -> Health:
        """The lag grew in nearly every interval: falling behind once the window is covered."""
        if not self.covered:
            return self.health(
                Verdict.UNKNOWN,
                f"lag grew in {grew} of {compared} intervals so far "
                f"({duration_ms(self.span * 1000)} of {self.win})",
            )
        read, add = self.read, self.add
        by = f" by {rate(add - read)}" if read is not None and add is not None and add > read else ""
        return self.health(
            Verdict.FALLING_BEHIND,
            f"lag grew in {grew} of {compared} intervals: falling behind{by} ({self.rates_text()})",
        )


# What a poll adds to a RunningWindow's counts: its own flags and those of the interval from the
# poll before it (which leave when that poll does), as bits of one small int (no object per poll).
_MOVED, _ADDED, _LAG_GREW, _TIME_LAG_GREW = 1, 2, 4, 8


class RunningWindow:
    """A group's polls of the last window, with the facts the verdict reads kept up to date as
    polls come and go: each poll costs O(1) instead of a pass over the window (2,000 groups x a
    60-poll window was 18-45 ms per poll). `facts()` equals `facts_of` over the same polls (a
    property test holds them equal). The caller keeps it reset-free: `clear()` on a reset.

    Issue 29: one per group, off screen too (200,000 at 100,000 streams), so it is compact: slots,
    the samples in a plain list (a deque's first block alone is ~600 bytes, for the one to six
    samples an off-screen group keeps) and each poll's interval flags as bits in a parallel list."""

    __slots__ = (
        "maxlen",
        "_samples",
        "_flags",
        "moved",
        "added",
        "lag_grew",
        "time_lag_grew",
        "behind",
        "lag_unknown",
        "time_lag_unknown",
        "head_run",
        "zero_at",
    )

    def __init__(self, maxlen: int) -> None:
        self.maxlen = maxlen
        self._samples: list[GroupSample] = []
        self._flags: list[int] = []  # per poll: the interval from the poll before it (bits above)
        self.clear()

    def clear(self) -> None:
        self._samples.clear()
        self._flags.clear()
        self.moved = self.added = self.lag_grew = self.time_lag_grew = 0  # over the intervals
        self.behind = self.lag_unknown = self.time_lag_unknown = 0  # over the polls
        self.head_run = 0  # polls at the end with the same oldest pending entry
        self.zero_at: GroupSample | None = None  # the last poll with nothing to read

    def __len__(self) -> int:
        return len(self._samples)

    def __iter__(self) -> Iterator[GroupSample]:
        return iter(self._samples)

    def __getitem__(self, i: int) -> GroupSample:
        return self._samples[i]

    def append(self, s: GroupSample) -> None:
        if len(self._samples) >= self.maxlen:
            self.popleft()
        flags = 0
        if self._samples:
            a = self._samples[-1]
            if _moved(a, s):
                flags |= _MOVED
            if _added(a, s):
                flags |= _ADDED
            if a.lag is not None and s.lag is not None and s.lag > a.lag:
                flags |= _LAG_GREW
            if a.time_lag_ms is not None and s.time_lag_ms is not None and s.time_lag_ms > a.time_lag_ms:
                flags |= _TIME_LAG_GREW
            self._count(flags, 1)
            self.head_run = self.head_run + 1 if a.oldest_pending_id == s.oldest_pending_id else 1
        else:
            self.head_run = 1
        self.behind += bool(s.behind)
        self.lag_unknown += s.lag is None
        self.time_lag_unknown += s.time_lag_ms is None
        if s.behind is False:
            self.zero_at = s
        self._samples.append(s)
        self._flags.append(flags)

    def popleft(self) -> GroupSample:
        s = self._samples.pop(0)
        del self._flags[0]
        self.behind -= bool(s.behind)
        self.lag_unknown -= s.lag is None
        self.time_lag_unknown -= s.time_lag_ms is None
        if self.zero_at is s:  # the last poll with nothing to read left: none is left after it
            self.zero_at = None
        if self._samples:  # the interval from the poll that left to the new first one leaves too
            self._count(self._flags[0], -1)
            self._flags[0] = 0
        return s

    def _count(self, flags: int, sign: int) -> None:
        if flags:
            self.moved += sign * ((flags & _MOVED) > 0)
            self.added += sign * ((flags & _ADDED) > 0)
            self.lag_grew += sign * ((flags & _LAG_GREW) > 0)
            self.time_lag_grew += sign * ((flags & _TIME_LAG_GREW) > 0)

    def facts(self) -> WindowFacts:
        """The facts of all the polls held (non-empty)."""
        samples = self._samples
        n = len(samples)
        first, cur = samples[0], samples[-1]
        grew = (0, 0, False)
        if not self.lag_unknown and cur.lag is not None and first.lag is not None:
            grew = (self.lag_grew, n - 1, cur.lag > first.lag)
        elif not self.time_lag_unknown and cur.time_lag_ms is not None and first.time_lag_ms is not None:
            grew = (self.time_lag_grew, n - 1, cur.time_lag_ms > first.time_lag_ms)
        return WindowFacts(
            first=first,
            cur=cur,
            n=n,
            moved=self.moved > 0,
            added_any=self.added > 0,
            all_behind=self.behind == n,
            same_head=self.head_run >= n,
            zero_at=self.zero_at,
            grew=grew,
        )

    def judge(self, window_s: float) -> Health:
        """As judge() over these polls, kept reset-free; the window is cut as window_of cuts it."""
        samples = self._samples
        if not samples:
            return UNPOLLED
        n, edge = len(samples), samples[-1].t - window_s
        cur = samples[-1]
        cut = n > 1 and samples[0].t < edge and samples[1].t <= edge
        if cur.summary and not cut:
            # off screen: decided from the running counts, without the facts (issue 17)
            unjudged = off_screen(cur, samples[0], n, self.moved > 0, self.behind == n, window_s)
            if unjudged is not None:
                return unjudged
        if cut:
            return judge(list(samples), window_s, reset_free=True)  # older polls to cut: not kept so
        return verdict(self.facts(), window_s)


# Off-screen verdicts are never shown with their reason (the groups panel shows the selected stream,
# read in full) but are counted by the header for thousands of groups: constant, made once.
OFF_SCREEN_NOT_MOVING = Health(
    Verdict.UNKNOWN,
    "off screen: entries to read at every poll of the window and the position unchanged: stopped or "
    "stalled (which one is read when in view)",
    off_screen=OffScreen.NOT_MOVING,
)
OFF_SCREEN_NOT_JUDGED = Health(
    Verdict.UNKNOWN,
    "off screen: entries to read or pending; not judged (a summary has no consumers' activity nor "
    "pending entries list: read when in view)",
    off_screen=OffScreen.NOT_JUDGED,
)


def off_screen(
    cur: GroupSample, first: GroupSample, n: int, moved: bool, all_behind: bool, window_s: float
) -> Health | None:
    """The verdict of an off-screen group (its current poll a summary) when only its consumers'
    times and its PEL could tell stopped, stalled, stuck and ok apart; None when the rules can
    judge it from the summary (no consumers, nothing pending, reading)."""
    if not cur.summary or not (cur.pending > 0 or (cur.behind and not moved and cur.consumers > 0)):
        return None
    if not moved and cur.behind and all_behind and n > 1 and cur.t - first.t >= window_s:
        return OFF_SCREEN_NOT_MOVING
    return OFF_SCREEN_NOT_JUDGED


def _quiet_ms(s: GroupSample) -> int | None:
    """Since the last entry was added, from its ID (one poll has no adds to compare)."""
    if s.last_id is None:
        return None
    ms = s.last_id[0]
    return max(0, round(s.t * 1000) - ms) if ms >= EARLIEST_TIME_ID_MS else None
