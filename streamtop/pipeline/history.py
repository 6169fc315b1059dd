"""Rates and sparkline series from successive snapshots.

In-rate per stream comes from entries-added deltas (7.0+), or from length deltas on 6.2 (where
trimming makes it a lower bound). Read rate per group comes from entries-read deltas (7.0+; None on
6.2). A counter that goes backwards means the key was deleted and recreated: that tick gives no
rate rather than a negative one.

It also keeps each group's polls of the last health window (GroupSample, in a health.RunningWindow
that keeps the facts the verdict reads up to date) and answers the group's verdict, computed once per
poll when asked.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain, compress
from operator import is_not
from typing import TypeVar

from streamtop.pipeline.health import (
    DEFAULT_WINDOW,
    UNPOLLED,
    GroupSample,
    Health,
    OffScreen,
    RunningWindow,
    Verdict,
    reset_between,
    worst,
)
from streamtop.pipeline.model import Snapshot, StreamInfo
from streamtop.pipeline.slicing import Slicer

K = TypeVar("K")
V = TypeVar("V")

HISTORY_POINTS = 120
STEP = 32  # streams read between two looks at the clock in update_in_steps (streamtop.pipeline.slicing)
# an off-screen group adds a summary sample at most every window/4 (15 s of a 60 s window: enough
# for a full window's verdict): each costs the dashboard ~15 us, and at 10,000 busy streams
# thousands of summaries change every poll
SUMMARY_SAMPLE_SPACING = 1 / 4
MAX_SAMPLES = 4096  # polls kept per group for the health window (1 min at 20 polls/s is 1,200)


NAN = float("nan")


class Series:
    """The last HISTORY_POINTS values (None where unknown), as one array of floats (issue 29: a
    deque of float objects cost ~4 kB per full series, five series per stream; this is 8 bytes a
    point, and only as many points as were added)."""

    __slots__ = ("_data", "_start", "_points")

    def __init__(self, points: int = HISTORY_POINTS) -> None:
        self._data = array("d")
        self._start = 0  # where the oldest point is, once the array is full
        self._points = points  # kept at most (1: the last value alone)

    def add(self, value: float | None) -> None:
        point = NAN if value is None else value
        data = self._data
        if len(data) < self._points:
            data.append(point)
        else:
            data[self._start] = point
            self._start = (self._start + 1) % self._points

    @property
    def points(self) -> list[float | None]:
        """Oldest first, None where unknown."""
        data, start = self._data, self._start
        return [None if v != v else v for v in (data[start:] + data[:start])]

    @property
    def last(self) -> float | None:
        data = self._data
        if not data:
            return None
        v = data[self._start - 1]
        return None if v != v else v

    def values(self) -> list[float]:
        """What a sparkline draws. It has no 'unknown' glyph, and drawing an unknown as 0 would
        show a dip that never happened: an unknown point repeats the last known value, and
        unknowns before the first known value are left out."""
        out: list[float] = []
        for v in self.points:
            if v is not None:
                out.append(v)
            elif out:
                out.append(out[-1])
        return out


def _rate(prev: int | None, cur: int | None, dt: float) -> float | None:
    if prev is None or cur is None or dt <= 0 or cur < prev:
        return None
    return (cur - prev) / dt


class History:
    """Feed it every snapshot; read rates and series by key (and group name). Without
    `sparklines` (streamtop serve: no screen) each rate keeps its last value alone and no lag
    series is kept (at 2,000 streams x 2 groups, 10,000 series of up to HISTORY_POINTS points)."""

    def __init__(self, window: float = DEFAULT_WINDOW, sparklines: bool = True) -> None:
        self._prev: Snapshot | None = None
        self.window = window  # seconds of polls the health verdicts look at
        self.sparklines = sparklines
        self._points = HISTORY_POINTS if sparklines else 1
        self.in_rate: dict[bytes, Series] = {}
        self.read_rate: dict[tuple[bytes, bytes], Series] = {}
        self.lag: dict[tuple[bytes, bytes], Series] = {}
        self.samples: dict[tuple[bytes, bytes], RunningWindow] = {}
        self._health: dict[tuple[bytes, bytes], Health] = {}
        self._streams: dict[bytes, StreamInfo] = {}  # each stream as last read
        self._read_at: dict[bytes, float] = {}  # when (the snapshot's taken_at)
        self._groups_of: dict[bytes, list[tuple[bytes, bytes]]] = {}
        self._stream_health: dict[bytes, Verdict | None] = {}  # worst verdict, until a new sample
        self._verdicts: dict[bytes, tuple[Verdict | OffScreen, ...]] = {}  # each group's, as long
        self._counts: Counter[Verdict | OffScreen] = Counter()  # verdict_counts, kept up to date
        self._counted: dict[bytes, tuple[Verdict | OffScreen, ...]] = {}  # what each stream added
        self._recount: set[bytes] = set()  # streams gone since the last count

    def update(self, snap: Snapshot) -> None:
        """A stream carried unchanged from an earlier poll (the same object, issue 17) costs
        nothing: the streams that are not the very object at their place in the last snapshot are
        found in C, and only those are read (issue 29: 100,000 streams, 1% read per poll); rates
        of a stream read again are over the time since it was last read. A summary (off screen)
        adds a health sample too, marked as one, at most every SUMMARY_SAMPLE_SPACING of the
        window: the rules judge what it can tell and leave the rest unknown, off screen
        (health.OffScreen), never ok."""
        for _ in self.steps(snap):
            pass

    async def update_in_steps(self, snap: Snapshot) -> None:
        """update(), letting the event loop run once a slice of time has passed (the first poll of
        100,000 streams reads them all: seconds in one piece froze the dashboard; a yield every
        2,000 streams was 0.8 s apart on a loaded host)."""
        slicer = Slicer()
        for _ in self.steps(snap):
            await slicer.pause()

    def steps(self, snap: Snapshot) -> Iterator[None]:
        """update() in pieces: yields after every STEP streams (read or passed over)."""
        prev, streams = self._prev, snap.streams
        todo: list[StreamInfo] | None = None
        if prev is not None and len(prev.streams) == len(streams):
            todo = list(compress(streams, map(is_not, streams, prev.streams)))
            known = self._streams
            if not all(s.error is None and s.key in known for s in todo):
                todo = None  # streams came, went or failed: the full pass below
        regrouped = todo is None
        for i, stream in enumerate(streams if todo is None else todo):
            if i % STEP == STEP - 1:
                yield
            if todo is None and (stream.error is not None or self._streams.get(stream.key) is stream):
                continue
            regrouped = self._read(stream, snap) or regrouped
        if regrouped:
            self._forget_gone(streams)
        self._prev = snap

    def _read(self, stream: StreamInfo, snap: Snapshot) -> bool:
        """One stream read by this poll: its rates and samples. True when its groups changed."""
        old = self._streams.get(stream.key)
        dt = snap.taken_at - self._read_at.get(stream.key, snap.taken_at)
        self._streams[stream.key] = stream
        self._read_at[stream.key] = snap.taken_at
        if old is None or old.error is not None:
            rate = None
        elif stream.entries_added is not None and old.entries_added is not None:
            rate = _rate(old.entries_added, stream.entries_added, dt)
        else:  # 6.2: length grows with adds, shrinks with trims
            rate = _rate(old.length, stream.length, dt)
        _series(self.in_rate, stream.key, self._points).add(rate)
        old_groups = {g.name: g for g in old.groups} if old and old.error is None else {}
        names = [(stream.key, g.name) for g in stream.groups]
        sampled = regrouped = False
        for gk, group in zip(names, stream.groups, strict=True):
            if stream.summary_only:  # off screen: no sparkline shows these (issue 29: memory
                # that grew with every stream off screen); back in view, they start again
                if self.read_rate.pop(gk, None) is not None:
                    self.lag.pop(gk, None)
            else:
                og = old_groups.get(group.name)
                read = _rate(og.entries_read, group.entries_read, dt) if og else None
                _series(self.read_rate, gk, self._points).add(read)
                if self.sparklines:
                    _series(self.lag, gk).add(group.lag.best)
            if stream.summary_only:
                kept = self.samples.get(gk)
                if kept and snap.taken_at - kept[-1].t < self.window * SUMMARY_SAMPLE_SPACING:
                    continue  # sampled recently enough (its verdict and the caches stand)
            self._add_sample(gk, GroupSample.of(snap.taken_at, stream, group))
            self._health.pop(gk, None)
            sampled = True
        if self._groups_of.get(stream.key) != names:
            self._groups_of[stream.key] = names
            sampled = regrouped = True
        if sampled:
            self._stream_health.pop(stream.key, None)
            self._verdicts.pop(stream.key, None)
            self._recount_one(stream.key)  # now, in update()'s steps, not in one piece later
        return regrouped

    def _recount_one(self, key: bytes) -> None:
        counts = self._counts
        counts.subtract(self._counted.pop(key, ()))
        stream = self._streams.get(key)
        if stream is not None:
            got = self._counted[key] = self.verdicts_of(stream)
            counts.update(got)

    def _forget_gone(self, streams: tuple[StreamInfo, ...]) -> None:
        """Drop what belongs to streams and groups that are gone, so the history stays bounded."""
        seen_streams = {s.key for s in streams if s.error is None}
        if seen_streams == self._streams.keys() and len(self._groups_of) == len(seen_streams):
            groups = sum(map(len, self._groups_of.values()))
            if groups == len(self.samples):
                return  # nothing went: no pass over every stream's series
        groups_of = self._groups_of
        seen_groups = set(chain.from_iterable(groups_of.get(k, ()) for k in seen_streams))
        self._recount.update(self._counted.keys() - seen_streams)
        _forget(self._streams, seen_streams)
        _forget(self._read_at, seen_streams)
        _forget(self._groups_of, seen_streams)
        _forget(self._stream_health, seen_streams)
        _forget(self._verdicts, seen_streams)
        _forget(self.in_rate, seen_streams)
        _forget(self.read_rate, seen_groups)
        _forget(self.lag, seen_groups)
        _forget(self.samples, seen_groups)
        _forget(self._health, seen_groups)

    def verdict_counts(self) -> Counter[Verdict | OffScreen]:
        """Groups per verdict (or why unknown off screen) over every stream, kept up to date as
        each stream is sampled (the header asks every poll; a pass over 100,000 streams' verdicts
        took 180 ms, the first one 1.3 s)."""
        for key in self._recount:
            self._recount_one(key)
        self._recount.clear()
        return self._counts

    def _add_sample(self, gk: tuple[bytes, bytes], sample: GroupSample) -> None:
        """Keep the window's polls and the one just before them (so a full history spans it)."""
        kept = self.samples.get(gk)
        if kept is None:
            kept = self.samples[gk] = RunningWindow(MAX_SAMPLES)
        elif kept:
            if reset_between(kept[-1], sample):
                kept.clear()  # a restart or a group reset: the window starts again (judged reset-free)
            else:
                share_unchanged(kept[-1], sample)
        kept.append(sample)
        edge = sample.t - self.window
        while len(kept) > 2 and kept[1].t <= edge:
            kept.popleft()

    def health(self, key: bytes, group: bytes) -> Health:
        """The group's verdict over the window (as health.judge), once per poll, from the facts
        its RunningWindow keeps (no pass over the window's polls)."""
        gk = (key, group)
        got = self._health.get(gk)
        if got is None:
            samples = self.samples.get(gk)
            got = self._health[gk] = samples.judge(self.window) if samples else UNPOLLED
        return got

    def stream_health_of(self, stream: StreamInfo) -> Verdict | None:
        """stream_health of a stream as a snapshot has it (the streams table, every row)."""
        if stream.key in self._stream_health:
            return self._stream_health[stream.key]
        return self.stream_health(stream.key, [g.name for g in stream.groups])

    def verdicts_of(self, stream: StreamInfo) -> tuple[Verdict | OffScreen, ...]:
        """Each group's verdict, or why it is unknown off screen, kept as long as stream_health's
        (the header counts them)."""
        got = self._verdicts.get(stream.key)
        if got is None:
            got = self._verdicts[stream.key] = tuple(
                h.off_screen or h.verdict for h in (self.health(stream.key, g.name) for g in stream.groups)
            )
        return got

    def stream_health(self, key: bytes, groups: Iterable[bytes]) -> Verdict | None:
        """The worst verdict of a stream's groups (None without groups): kept until one of them
        gets a new sample (the streams table asks for every row at every poll)."""
        if key in self._stream_health:
            return self._stream_health[key]
        verdict = self._stream_health[key] = worst([self.health(key, g).verdict for g in groups])
        return verdict

    def stream_rate(self, key: bytes) -> float | None:
        s = self.in_rate.get(key)
        return s.last if s else None

    def group_rate(self, key: bytes, group: bytes) -> float | None:
        s = self.read_rate.get((key, group))
        return s.last if s else None


# GroupSample fields whose values are objects of their own (IDs as tuples, large ints, strings):
# a group that did not move between two polls has equal ones
_SHARED = (
    "position",
    "last_id",
    "entries_read",
    "added",
    "lag",
    "oldest_pending_id",
    "oldest_pending_consumer",
)


def share_unchanged(before: GroupSample, sample: GroupSample) -> None:
    """Make `sample` (just made, not yet kept anywhere) refer to `before`'s objects where the values
    are equal: a window of a quiet group then holds one ID tuple per ID, not one per poll (at 2,000
    streams x 2 groups and a poll a second, the window's copies grew the history 1.5 MB a poll)."""
    for name in _SHARED:
        old = getattr(before, name)
        if old is not None and old == getattr(sample, name):
            object.__setattr__(sample, name, old)


def _series(store: dict[K, Series], key: K, points: int = HISTORY_POINTS) -> Series:
    """The key's series, made on first use (setdefault would make a deque every call)."""
    got = store.get(key)
    if got is None:
        got = store[key] = Series(points)
    return got


def _forget(store: dict[K, V], seen: set[K]) -> None:
    """Drop the series of streams and groups that are gone, so the history stays bounded."""
    for gone in set(store) - seen:
        del store[gone]
