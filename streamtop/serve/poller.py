"""The exporter's poll loop and the last page it serves.

One Monitor (the dashboard's session: one collector, standalone or cluster, with its backoff and
stale handling) is polled in its own asyncio loop. Each poll's families are built once and kept; a
scrape hands out the last page, so any number of scrapers cost one pipelined round trip per poll.

Pacing (issue 29): `serve` polls at the pace of whoever wants its page, never faster than
`interval` (stretched by the server budget). A scrape that finds the page at least 90 % of the
period old (`demand()`) asks for a poll and waits for it (at most http.SCRAPE_WAIT seconds, then it gets
the page there is); scrapes arriving meanwhile wait for the same poll, so any number of concurrent
scrapers still cost one poll. With one scrape a minute, one poll a minute. What wants polls on the
interval's own clock holds it (`hold()`): `--record` for as long as it runs, and a viewer attached
to the hub (streamtop web/serve publishing each poll's snapshot) for as long as it is attached;
while anything holds, the loop polls every period as before and scrapes only read the page. After a
failure the Monitor's backoff decides when the next poll may run; a scrape meanwhile gets the
down page at once. One poll at start says whether the server answers.

When the server stops answering: the poll fails (STALE), or a poll has been in flight longer than
the hung-server rule (max(2 x interval, 2 s): NOT ANSWERING). Either way a scrape then gets
`streamtop_up 0` and the exporter's own counters, and the stream metrics are ABSENT: Prometheus
marks the series stale instead of graphing the last values as if they were current, and an alert on
`streamtop_up == 0` (or `absent(redis_stream_length)`) says why.

Pending entries without data (`streamtop_stream_group_pending_without_data`, --detail-metrics) cost
nothing in the common case: when nothing was XDEL'd at or after the stream's first entry (7.0+'s
max-deleted-entry-id), the entries without data are exactly the pending ones below the first entry,
and the group's smallest and greatest pending IDs decide most groups without a command. Only a
group with some pending entries below the first entry and some above costs one bounded XPENDING,
all of them in one more round trip (per cluster node). Where XDELs make it uncertain (or on 6.2,
which does not say) the metric is absent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import gzip
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from streamtop.pipeline.connection import ConnectionSpec, execute_raw
from streamtop.pipeline.health import DEFAULT_WINDOW
from streamtop.pipeline.history import History
from streamtop.pipeline.model import GroupInfo, Snapshot, StreamInfo, id_key
from streamtop.pipeline.parse import parse_pending_entries

from ..monitor import Monitor
from ..options import PollOptions, SessionOptions
from .exposition import Family, render
from .metrics import DETAIL, LEAN, PollStats, families

EVERY_STREAM = 1_000_000_000  # serve's discovery: every stream (a cap, when asked, is the export's)
WITHOUT_DATA_CAP = 1000  # pending entries below the first entry counted per group (absent beyond)
WITHOUT_DATA_TIMEOUT = 10.0  # seconds for the count's round trip
EARLY = 0.1  # a scrape polls once the page is (1 - EARLY) x period old: scrapers every period
# arrive a few ms either side of it, and must not get a fresh page only every other time


def without_data_plan(s: StreamInfo, g: GroupInfo) -> tuple[int | None, tuple[Any, ...] | None]:
    """(exact count, None) when the snapshot decides it; (None, XPENDING command) when a bounded
    count below the first entry decides it; (None, None) when it cannot be known exactly."""
    if g.pending == 0:
        return 0, None
    ps = g.pending_summary
    if ps is None or ps.smallest_id is None or ps.greatest_id is None:
        return None, None
    if s.length == 0 or s.first_entry_id is None:
        return g.pending, None  # an empty stream: no pending entry has its data
    first, maxdel = id_key(s.first_entry_id), id_key(s.max_deleted_entry_id)
    smallest, greatest = id_key(ps.smallest_id), id_key(ps.greatest_id)
    if first is None or maxdel is None or smallest is None or greatest is None:
        return None, None  # 6.2 has no max-deleted-entry-id
    if s.info_taken_at is not None or maxdel >= first:
        return None, None  # an XDEL at or after the first entry (or fields older than the poll)
    if smallest >= first:
        return 0, None
    if greatest < first:
        return g.pending, None
    return None, ("XPENDING", s.key, g.name, "-", f"({s.first_entry_id}", WITHOUT_DATA_CAP)


class Page:
    """One poll's exposition, written once; gzipped once, when first asked. The families are not
    kept (at 2,000 streams they held 3.6 MB between polls): `collect()` parses the text."""

    def __init__(self, fams: list[Family]) -> None:
        self.body = render(fams, consume=True)
        self._gzipped: bytes | None = None
        self._lock = threading.Lock()

    def gzipped(self) -> bytes:
        with self._lock:
            if self._gzipped is None:
                self._gzipped = gzip.compress(self.body, compresslevel=6)
            return self._gzipped


def serve_options(
    targets: Sequence[str | bytes], options: PollOptions, interval: float, window: float = DEFAULT_WINDOW
) -> SessionOptions:
    """The exporter's session: read-only, and with no screen every stream is read in full each
    poll, the measured server load stretching the interval past --max-server-load (issue 17).
    Discovery is not capped: every stream is exported unless --max-streams asks (issue 25)."""
    return SessionOptions(
        targets=tuple(targets),
        poll=dataclasses.replace(options, max_streams=EVERY_STREAM),
        read_only=True,
        interval=interval,
        window=window,
        follow_screen=True,
        everything_visible=True,
    )


def serve_monitor(
    spec: ConnectionSpec,
    targets: Sequence[str | bytes],
    options: PollOptions,
    interval: float,
    window: float = DEFAULT_WINDOW,
) -> Monitor:
    """The exporter's session (serve_options, serve_session)."""
    return serve_session(spec, serve_options(targets, options, interval, window))


def serve_session(spec: ConnectionSpec, options: SessionOptions) -> Monitor:
    """A Monitor on `options` whose history keeps no sparkline: a page has each rate's last value
    and the verdicts their window, and nothing draws a series (docs/serve-lean.md)."""
    monitor = Monitor(spec, options)
    monitor.history = History(options.window, sparklines=False)
    return monitor


def stream_lag(s: StreamInfo) -> tuple[int, int]:
    """How far behind a stream's groups are, for --max-streams' choice: (1, 0) when a group's lag
    is unknown (it may be the largest), else (0, the largest lag, exact or counted)."""
    worst = 0
    for g in s.groups:
        best = g.lag.best
        if best is None:
            return (1, 0)
        worst = max(worst, best)
    return (0, worst)


def keep_largest_lag(snap: Snapshot, cap: int) -> Snapshot:
    """The `cap` streams with the largest lag (unknown first, then by key: the same choice every
    poll for the same data), in their order; discovery says it is capped."""
    if len(snap.streams) <= cap:
        return snap
    ranked = sorted(snap.streams, key=lambda s: (tuple(-x for x in stream_lag(s)), s.key))
    kept = {id(s) for s in ranked[:cap]}
    discovery = dataclasses.replace(snap.discovery, capped=True, max_streams=cap)
    streams = tuple(s for s in snap.streams if id(s) in kept)
    return dataclasses.replace(snap, streams=streams, discovery=discovery)


def _libc_trim() -> Callable[[], object] | None:
    """glibc's malloc_trim(0), or None where there is none (musl, macOS)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


TRIM = _libc_trim()


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Exporter:
    """Polls through a Monitor; every scrape gets `page()`, the last poll's page. `cap`
    (--max-streams): export only that many streams, the largest lag first, and say on stderr how
    many were left out whenever that number changes."""

    def __init__(
        self,
        monitor: Monitor,
        db: int,
        cap: int | None = None,
        log: Callable[[str], None] = _stderr,
        tiers: frozenset[str] = LEAN,
    ) -> None:
        self.monitor = monitor
        self.db = db
        self.cap = cap
        self.log = log
        self.tiers = tiers  # metrics.TIER: the families a page carries
        self.trim = TRIM  # called after each poll (None: not on this libc)
        # pacing (see the module's doc): the loop `run` runs in, whether a demand is waiting, the
        # scrapes waiting for the next poll's end, how many hold the interval's clock, and the
        # monotonic time from which a demand makes a poll
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._wanted = False
        self._waiters: list[concurrent.futures.Future[None]] = []
        self._holds = 0
        self._next_at = 0.0
        self._lock = threading.Lock()
        self.left_out = 0  # streams the last poll found but the cap kept off the page
        self.polls = 0
        self.failures = 0
        self.last_success: float | None = None
        self.attempts = 0  # polls tried (tests wait on it)
        self.after_poll: list[Callable[[], None]] = []  # told after each poll (the hub publishes)
        self._page = self._down = Page(self._families(None, PollStats(up=False)))

    # scrapes -------------------------------------------------------------------------------

    def page(self) -> Page:
        """What a scrape gets: the last poll's page; while a poll hangs past the answer timeout,
        the down page (the HTTP threads call this: it reads two references, no lock needed)."""
        if self.monitor.not_answering_for() is not None:
            return self._down
        return self._page

    # pacing --------------------------------------------------------------------------------

    def demand(self) -> concurrent.futures.Future[None] | None:
        """Someone wants the page now (any thread: the HTTP server's, the hub's). None: the page
        is fresh enough, or no poll may run yet (the backoff after a failure), or no loop polls
        (tests that poll by hand): take `page()` now. Else a future set when the poll that
        answers it ends (one poll for every demand that arrives before it ends)."""
        loop = self._loop
        if loop is None:
            return None
        with self._lock:
            if time.monotonic() < self._next_at:
                return None
            waiter: concurrent.futures.Future[None] = concurrent.futures.Future()
            self._waiters.append(waiter)
        try:
            loop.call_soon_threadsafe(self._want)
        except RuntimeError:  # the loop closed meanwhile (shutting down): the page there is
            return None
        return waiter

    def hold(self) -> Callable[[], None]:
        """Poll on the interval's own clock until the returned function is called (any thread;
        calling it twice releases once): --record for the whole run, a viewer while attached."""
        released = threading.Event()
        with self._lock:
            self._holds += 1
        self._poke()

        def release() -> None:
            if not released.is_set():
                released.set()
                with self._lock:
                    self._holds -= 1

        return release

    @property
    def held(self) -> bool:
        return self._holds > 0

    def stale(self) -> bool:
        """A demand now would make a poll (the page is old enough and no backoff runs)."""
        return self._loop is not None and time.monotonic() >= self._next_at

    def _want(self) -> None:
        self._wanted = True
        if self._wake is not None:
            self._wake.set()

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    def _answered(self, next_at: float) -> None:
        """The poll ended: every demand so far is answered; the next one polls from `next_at`."""
        with self._lock:
            waiters, self._waiters = self._waiters, []
            self._next_at = next_at
            self._wanted = False
        for w in waiters:
            if not w.done():
                w.set_result(None)

    # polling -------------------------------------------------------------------------------

    async def poll_once(self) -> Snapshot | None:
        """One poll, and the families every scrape gets until the next one."""
        try:
            return await self._poll_once()
        finally:
            for hook in self.after_poll:
                hook()

    async def _poll_once(self) -> Snapshot | None:
        monitor = self.monitor
        snap = await monitor.poll()
        self.attempts += 1
        up = snap is not None and monitor.failures == 0
        if not up or snap is None:
            self.failures += 1
            self._page = self._down = Page(self._families(None, self._stats(False)))
            return snap
        snap = self._capped(snap)
        counts, trips = await self._without_data(snap) if DETAIL in self.tiers else ({}, 0)
        self.polls += 1
        self.last_success = snap.taken_at
        stats = self._stats(True, snap, counts, snap.round_trips + trips)
        self._page = Page(self._families(snap, stats))
        self._down = Page(self._families(None, self._stats(False)))
        if self.trim is not None:  # the poll's replies and lines are gone: give the free pages
            self.trim()  # back to the system (glibc keeps them otherwise; docs/serve-lean.md)
        return snap

    def _families(self, snap: Snapshot | None, stats: PollStats) -> list[Family]:
        return families(snap, self.monitor.history, self.db, stats, self.tiers)

    def _capped(self, snap: Snapshot) -> Snapshot:
        if self.cap is None:
            return snap
        found = len(snap.streams)
        out = keep_largest_lag(snap, self.cap)
        left_out = found - len(out.streams)
        if left_out != self.left_out:
            self.log(
                f"streamtop serve: --max-streams {self.cap}: exporting {len(out.streams)} of {found} "
                f"streams, {left_out} left out (the largest lag kept)"
                if left_out
                else f"streamtop serve: --max-streams {self.cap}: exporting all {found} streams"
            )
        self.left_out = left_out
        return out

    def _stats(
        self,
        up: bool,
        snap: Snapshot | None = None,
        counts: dict[tuple[bytes, bytes], int] | None = None,
        trips: int | None = None,
    ) -> PollStats:
        return PollStats(
            up=up,
            polls=self.polls,
            failures=self.failures,
            duration_s=snap.duration_ms / 1000 if snap else None,
            round_trips=trips,
            last_success=self.last_success,
            without_data=counts or {},
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Poll once, then whenever a demand finds the page old enough, or every period while
        something holds the clock (after a failure, when the Monitor's backoff says), until
        `stop`."""
        self._loop = asyncio.get_running_loop()
        self._wake = wake = asyncio.Event()
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    await self.poll_once()
                finally:
                    retry = self.monitor.retry_in()
                    period = self.monitor.poll_delay()  # stretched over --max-server-load
                    clock_at = started + (retry if retry is not None else period)  # while held
                    demand_at = started + (retry if retry is not None else (1 - EARLY) * period)
                    self._answered(demand_at)
                while not stop.is_set():
                    now = time.monotonic()
                    if (self._wanted and now >= demand_at) or (self.held and now >= clock_at):
                        break
                    wake.clear()
                    if self._wanted and now < demand_at:  # asked before it may poll: answered
                        self._answered(demand_at)  # with the page there is
                    due = [t for t, on in ((clock_at, self.held), (demand_at, self._wanted)) if on]
                    timeout = max(0.0, min(due) - now) if due else None
                    waking = asyncio.ensure_future(wake.wait())
                    try:
                        await asyncio.wait(
                            {waking, stopping}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                        )
                    finally:
                        waking.cancel()
        finally:
            stopping.cancel()
            self._loop = self._wake = None
            self._answered(0.0)

    async def _without_data(self, snap: Snapshot) -> tuple[dict[tuple[bytes, bytes], int], int]:
        """Exact counts of pending entries without data, and the round trips they cost."""
        counts: dict[tuple[bytes, bytes], int] = {}
        asks: dict[str | None, list[tuple[tuple[bytes, bytes], tuple[Any, ...]]]] = {}
        for s in snap.streams:
            if s.error is not None or s.stale:
                continue
            for g in s.groups:
                exact, command = without_data_plan(s, g)
                if exact is not None:
                    counts[(s.key, g.name)] = exact
                elif command is not None:
                    asks.setdefault(s.node, []).append(((s.key, g.name), command))
        if not asks:
            return counts, 0
        results = await asyncio.gather(
            *(self._ask(node, items) for node, items in asks.items()), return_exceptions=True
        )
        for got in results:
            if isinstance(got, dict):
                counts.update(got)
        return counts, len(asks)

    async def _ask(
        self, node: str | None, items: list[tuple[tuple[bytes, bytes], tuple[Any, ...]]]
    ) -> dict[tuple[bytes, bytes], int]:
        client = self.monitor.node_client(node)
        if client is None:
            return {}
        replies = await execute_raw(client, [c for _, c in items], WITHOUT_DATA_TIMEOUT)
        out = {}
        for (gk, _), reply in zip(items, replies, strict=True):
            if isinstance(reply, list) and (n := len(parse_pending_entries(reply))) < WITHOUT_DATA_CAP:
                out[gk] = n
        return out
