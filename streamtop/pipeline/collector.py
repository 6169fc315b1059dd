"""Turn the server's stream state into one immutable Snapshot per poll.

Steady state costs ONE pipelined round trip for every stream on screen: the server's TIME, XINFO
STREAM and XINFO GROUPS per stream, and per group already known XINFO CONSUMERS, the XPENDING
summary, the oldest pending entry (XPENDING - + 1) and, where the server cannot say the lag, a
bounded XRANGE count; else `XRANGE key (last-delivered-id + COUNT 1`, the first entry the group has
not been delivered, whose ID gives the group's time lag (the estimate's XRANGE gives it too).
Groups that appear since the last poll cost one more round trip, once. Discovery (SCAN TYPE stream)
runs every few seconds, not every tick. Per-command errors stay in place: a key deleted or retyped
between discovery and poll becomes a StreamInfo with `error`, never a crash.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import pickle
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, ParamSpec, TypeVar

from streamtop.options import POLL_DEFAULTS, PollOptions
from streamtop.pipeline import cadence as cad
from streamtop.pipeline.connection import Arg, AsyncClient, Command, error_text, execute_raw
from streamtop.pipeline.messagepage import MessagePages
from streamtop.pipeline.model import (
    Discovery,
    Entry,
    Focus,
    FocusData,
    GroupInfo,
    LagSource,
    PendingEntry,
    PollCost,
    ServerInfo,
    Snapshot,
    StreamInfo,
    TimeLag,
    TimeLagSource,
    id_key,
    id_ms,
    time_based,
)
from streamtop.pipeline.nodata import Bounds, gone_from_replies, lookup_commands
from streamtop.pipeline.parse import (
    Reply,
    ReplyFields,
    build_group,
    entry_id,
    entry_size,
    parse_consumers,
    parse_entries,
    parse_groups,
    parse_info,
    parse_pending_entries,
    parse_pending_summary,
    parse_stream_sized,
    text,
    to_int,
)
from streamtop.pipeline.source import WaitHook, Wants

GLOB_CHARS = frozenset(b"*?[")
SCAN_COUNT = 1000
SCAN_CALLS_PER_POLL = 8  # a rescan goes on over several polls beyond this many SCAN calls
# the dashboard's first scan (issue 29): this many SCAN calls per poll, the keys found so far shown
# at once (100,000 streams: rows after one poll, not after the whole scan and one huge read)
FIRST_SCAN_CALLS = 32  # at most (an apply takes a part's new rows); fewer when they take FIRST_SCAN_SECONDS
FIRST_SCAN_SECONDS = 0.05  # a part's SCAN calls go on while they have taken less than this
FIRST_PART_CALLS = 2  # its first part smaller: the first rows sooner
CHEAP_ESTIMATE = 100  # a lag estimate below this is counted again every poll
# streams read per round trip (issue 29): each part's replies are parsed and dropped before the
# next is sent, so a poll that reads 100,000 summaries (the first) holds 2,000 streams' replies at
# once, not 100,000 (~2.6 kB each: the peak stayed in the process as RSS)
READ_CHUNK = 2000
# ... and at most this many read in full: a full read's replies are several times a summary's
# (XINFO CONSUMERS, XPENDING per group), and `serve` reads every stream in full each poll: at
# 2,000 streams in one part their replies stood together as ~17 MB, kept as RSS (docs/serve-lean.md)
FULL_READ_CHUNK = 250
NEW_GROUPS_CHUNK = 500  # groups that appeared since the last poll, read per round trip
YIELD_EVERY = 200  # streams parsed between two yields to the event loop (the UI stays responsive)
# XINFO STREAM returns the first and last entries in full: one 10 MB entry made every poll pull
# 10-20 MB. A stream whose first or last entry is larger than BIG_ENTRY bytes is read with XLEN,
# XREVRANGE + (last-id COUNT 1 (only entries added since) and, when the first entry is small,
# XRANGE - + COUNT 1; its full XINFO STREAM is read again every HEAVY_REFRESH seconds, or at
# once when its length goes down (a trim or delete may have moved the first entry).
BIG_ENTRY = 64 * 1024
HEAVY_REFRESH = 60.0
TRIMMED_COUNT_CAP = 1000  # pending entries below the first entry counted per poll (">=" beyond)


def to_bytes(arg: str | bytes) -> bytes:
    """A command-line argument as the bytes the user typed (keys may be any binary string)."""
    return arg if isinstance(arg, bytes) else os.fsencode(arg)


def is_pattern(arg: bytes) -> bool:
    return any(ch in GLOB_CHARS for ch in arg)


class GcPause:
    """The cyclic garbage collector off while polls build their snapshots, for a bounded time.

    A poll builds thousands of small objects (the replies, as hiredis reads them, and the
    snapshot; none of them form cycles): with the collector on it would run some 75 passes per
    poll at 1,000 streams, a sixth of the poll's client time. Reference counting still frees memory
    as usual. The pause is counted, not a flag: a cluster's nodes poll concurrently, and the first
    to finish must not turn the collector back on under the others; the last one does.

    It spans the wait for the replies (hiredis builds them as they arrive), so it is bounded: after
    `max_seconds` of continuous pause the collector runs again even if a poll is still in flight.
    A poll that long is waiting for a server that does not answer, not building; and a cluster
    node that hangs, retried with its own backoff, must not keep the collector off for minutes.
    5 s, not less: a cluster's first read of 30,000 streams builds for 2-3 s of one core, its
    nodes' polls one after another (issue 28: at 2 s the GC ran ~100 passes, 0.3 s, in its end)."""

    def __init__(self, max_seconds: float = 5.0) -> None:
        self.max_seconds = max_seconds
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False
        self._expiry: asyncio.TimerHandle | None = None

    @property
    def active(self) -> int:
        """How many polls are inside the pause now."""
        return self._depth

    def __enter__(self) -> GcPause:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
                self._expire_later()
            self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                if self._expiry is not None:
                    self._expiry.cancel()
                    self._expiry = None
                if self._was_enabled:
                    gc.enable()

    def _expire_later(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # used outside an event loop: nothing can wait long in between
            return
        self._expiry = loop.call_later(self.max_seconds, self._expire)

    def _expire(self) -> None:
        """Too long: the collector runs again until the current pause ends (the last exit then
        leaves it as it was before the pause)."""
        with self._lock:
            self._expiry = None
            if self._depth and self._was_enabled:
                gc.enable()


GC_PAUSE = GcPause()  # one per process: every Collector (every cluster node's) shares it


@dataclass(slots=True)
class _Scan:
    """Where a rescan is: which pattern, its SCAN cursor, what it found so far."""

    found: dict[bytes, None]
    pattern: int = 0
    cursor: Arg = 0
    capped: bool = False


_P = ParamSpec("_P")
_T = TypeVar("_T")

# The round trip a Collector sends (a cluster node's adds ASKING before the keys of a slot it imports)
Execute = Callable[[AsyncClient, Sequence[Command], float | None], Awaitable[list[Reply]]]

Mode = Literal["full", "summary", "carry"]  # how a poll reads a stream (streamtop.pipeline.cadence)
FULL: Mode = "full"
SUMMARY: Mode = "summary"
CARRY: Mode = "carry"


class _Batch:
    """Commands queued for one round trip (the pipeline interface the queueing code uses). Who
    queues takes `span(start)` of it: the slice of the replies that answers what it queued."""

    __slots__ = ("commands",)

    def __init__(self) -> None:
        self.commands: list[tuple[Arg, ...]] = []

    def execute_command(self, *args: Arg) -> None:
        self.commands.append(args)

    @property
    def size(self) -> int:
        return len(self.commands)

    def span(self, start: int) -> slice:
        """The replies to the commands queued since `start` (a `size` taken before)."""
        return slice(start, len(self.commands))


@dataclass(slots=True)
class _Heavy:
    """A stream whose XINFO STREAM carries a large first or last entry: what its last full
    XINFO STREAM said, and what the cheap commands have seen since."""

    info: StreamInfo  # the last full XINFO STREAM (no groups)
    at: float  # time.monotonic() of it
    wall: float  # time.time() of it, shown as the age of the stream-level fields
    first_big: bool
    last_big: bool
    last_id: str | None
    length: int

    def due(self, now: float) -> bool:
        return now - self.at >= HEAVY_REFRESH


@dataclass(frozen=True, slots=True)
class _GroupPlan:
    """What the pipeline asked for one group, so its replies can be read back in order."""

    name: bytes
    estimate_from: str | None  # last-delivered-id used for the XRANGE estimate, if one was sent
    reused: tuple[int, bool] | None = None  # a recent large estimate kept instead (count, capped)
    skipped: int = 0  # large entries left out of the XRANGE and counted without reading them
    next_from: str | None = None  # last-delivered-id of `XRANGE key (id + COUNT 1`, if one was sent
    # a large first/last entry after last-delivered-id, known without reading it: the first
    # undelivered entry when it comes first (`first`), or when the XRANGE before it is empty
    next_big: str | None = None
    next_big_first: bool = False


@dataclass(slots=True)
class _ServerAsk:
    """The server-wide part of a poll's round trip: INFO commandstats before and after the rest
    (what the poll cost the server, streamtop.pipeline.cadence) and TIME (the clock that stamps the IDs),
    each at the place in the replies where it was queued."""

    opening: int | None = None  # INFO commandstats, then INFO cpu
    clock: int | None = None
    closing: int | None = None  # INFO cpu, then INFO commandstats

    @classmethod
    def open(cls, batch: _Batch, bracket: bool, clock: bool) -> _ServerAsk:
        ask = cls()
        if bracket:
            ask.opening = batch.size
            batch.execute_command("INFO", "commandstats")
            batch.execute_command("INFO", "cpu")
        if clock:
            ask.clock = batch.size
            batch.execute_command("TIME")
        return ask

    def close(self, batch: _Batch) -> None:
        if self.opening is not None:
            self.closing = batch.size
            batch.execute_command("INFO", "cpu")
            batch.execute_command("INFO", "commandstats")

    @staticmethod
    def reply(replies: list[Reply], at: int | None) -> Reply:
        return replies[at] if at is not None else None

    def head(self, replies: list[Reply]) -> tuple[Reply, Reply]:
        """INFO commandstats and INFO cpu before the rest, from the first round trip's replies
        (a poll in several round trips, issue 29); None when not asked."""
        o = self.opening
        return (None, None) if o is None else (replies[o], replies[o + 1])

    def tail(self, replies: list[Reply]) -> tuple[Reply, Reply]:
        """INFO commandstats and INFO cpu after the rest, from the last round trip's replies."""
        c = self.closing
        return (None, None) if c is None else (replies[c + 1], replies[c])


@dataclass(slots=True)
class _StreamAsk:
    """What one stream asked of the round trip: XINFO STREAM (or, for a heavy stream, the commands
    that stand in for it), XINFO GROUPS, and per known group its commands. `span` is its slice of
    the replies; the offsets inside are relative to it, so it reads exactly its own answers."""

    key: bytes
    mode: Mode  # FULL or SUMMARY
    heavy: _Heavy | None  # read without XINFO STREAM this poll (see BIG_ENTRY)
    n_stream: int  # replies to XINFO STREAM or its stand-ins; XINFO GROUPS's comes next
    groups: dict[bytes, tuple[_GroupPlan, slice]]  # known group -> its plan and replies
    span: slice


@dataclass(slots=True)
class _Reads:
    """What a poll's round trips brought back: each stream read, parsed (in the order asked), the
    groups that appeared (index in `parts`, XINFO GROUPS's dict), the focus's replies."""

    parts: list[_Partial] = field(default_factory=list)
    new_groups: list[tuple[int, ReplyFields]] = field(default_factory=list)
    focus_replies: list[Reply] | None = None
    trips: int = 0
    round_trip_us: float = 0.0
    sent: Counter[str] = field(default_factory=Counter)


class _Partial:
    """A stream as parsed from its own replies, before the groups that appeared are read."""

    __slots__ = ("built", "group_dicts", "stream")

    def __init__(
        self,
        stream: StreamInfo,
        group_dicts: list[ReplyFields] | None = None,
        built: dict[bytes, GroupInfo] | None = None,
    ) -> None:
        self.stream = stream
        self.group_dicts = group_dicts if group_dicts is not None else []
        self.built = built if built is not None else {}

    def finish(self) -> StreamInfo:
        if not self.built:
            return self.stream
        groups = tuple(self.built[d["name"]] for d in self.group_dicts if d["name"] in self.built)
        return replace(self.stream, groups=groups) if groups else self.stream


class Collector:
    """Polls a server through a raw asyncio client (see ConnectionSpec.make_client(raw=True))."""

    def __init__(
        self,
        client: AsyncClient,
        server: ServerInfo,
        targets: Sequence[str | bytes] = (),
        options: PollOptions = POLL_DEFAULTS,
    ) -> None:
        self.client = client  # needs no socket timeout: options.timeout bounds the round trip
        self.server = server
        raw = [to_bytes(t) for t in targets] or [b"*"]
        self.patterns = tuple(t for t in raw if is_pattern(t))
        self.explicit = tuple(dict.fromkeys(t for t in raw if not is_pattern(t)))
        self.options = options
        self._estimated_at: dict[tuple[bytes, bytes], float] = {}
        self.focus: Focus | None = None
        self.discovery = Discovery(max_streams=options.max_streams)
        self._discovery_due = True
        self._scan: _Scan | None = None  # a rescan in progress, spread over polls
        self._last: dict[bytes, StreamInfo] = {}  # previous poll, for the groups we know
        self._heavy: dict[bytes, _Heavy] = {}  # streams with a large first/last entry (BIG_ENTRY)
        self.total_round_trips = 0
        # a cluster's share of --max-streams: which of the keys found this node polls (None: all)
        self.key_filter: Callable[[tuple[bytes, ...]], tuple[bytes, ...]] | None = None
        # the round trip; a cluster node's wraps it to send ASKING before the keys of a slot the
        # node is importing (streamtop.pipeline.cluster), which it would otherwise answer with MOVED
        self.execute: Execute = execute_raw
        self.server_time_ms = 0  # the server's clock at the last poll (TIME in the same round trip)
        self.ask_time = True  # False once TIME was refused (an ACL without it): the local clock
        self.read_time_lag = True  # False: no COUNT 1 XRANGE nor TIME (bench/time_lag.py weighs them)
        # issue 17: with follow_screen, only `visible` (and the focus) is read in full each poll, the
        # rest as summaries within the budget (streamtop.pipeline.cadence); without it every poll is full
        self.follow_screen = False
        # a cluster node's address, set on the summaries it reads as they are built (one object a
        # stream, not a second one made to carry it: streamtop.pipeline.cluster)
        self.node: str | None = None
        self.progressive_scan = True  # the first scan a part a poll (issue 29; not a cluster's node)
        self.chunked = True  # READ_CHUNK streams a round trip (issue 29; not a cluster's node)
        self.visible: frozenset[bytes] = frozenset()
        self.everything_visible = False  # serve: every key in full, the budget stretching the interval
        self.on_wait: Callable[[bool], None] | None = None  # told when a round trip starts and ends
        self.interval = 1.0  # seconds between polls (the dashboard's), for the cadence
        self.costs = cad.Costs()
        self.meter = cad.LoadMeter()
        self.cpu_share = cad.CpuShare()  # commandstats usec that were CPU (a busy host inflates them)
        self.pages = MessagePages()  # the focus stream's Messages page, read whole once (issue 29)
        self.cadence = cad.Cadence(1.0, options.summary_period, 1.0)
        self.measure_load = True  # False once INFO was refused: the round trip's time stands in
        self._read_at: dict[bytes, float] = {}  # monotonic time each key was last read
        self._planned_at: float | None = None  # monotonic time of the last poll's plan
        self._shown: dict[bytes, StreamInfo] = {}  # what the last poll showed, errors included
        # the last poll's keys and streams when it followed the screen: only the plan's read next
        self._keys: tuple[bytes, ...] | None = None
        self._streams: tuple[StreamInfo, ...] = ()
        self._index: dict[bytes, int] = {}  # each of those keys' place
        # what the raw replies of each summary were, as a 16-byte digest (issue 29: the replies
        # themselves were ~2.6 kB a stream, 260 MB at 100,000 streams)
        self._summaries: dict[bytes, bytes] = {}
        self._stats_closed: dict[str, tuple[int, int]] | None = None  # commandstats after last poll
        self._polled_at = 0.0  # epoch seconds of the last poll (the age of an estimate it counted)

    # discovery -----------------------------------------------------------------------------

    def request_discovery(self) -> None:
        """Rescan on the next poll (a key vanished, or the user asked)."""
        self._discovery_due = True

    def want(self, wants: Wants, on_wait: WaitHook | None = None) -> None:
        """What the next poll must read (streamtop.pipeline.source.PollSource)."""
        self.focus = wants.focus
        self.follow_screen = wants.follow_screen
        self.visible = wants.visible
        self.everything_visible = wants.everything_visible
        self.interval = wants.interval
        self.on_wait = on_wait

    async def aclose(self) -> None:
        """Nothing to close: a Collector borrows its client."""
        return None

    def node_client(self, node: str | None) -> AsyncClient | None:
        """The client that polls `node` (a StreamInfo's node: None on a standalone server)."""
        return self.client if node is None else None

    def _discovery_needed(self, now: float) -> bool:
        if not self.patterns:  # explicit keys only: nothing to scan, but the set may change
            return self._discovery_due or not self.discovery.taken_at
        return self._discovery_due or now - self.discovery.taken_at >= self.options.discovery_interval

    async def _trip(self, call: Callable[_P, Awaitable[_T]], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """One round trip; `on_wait` hears when it starts and ends (the monitor counts only that
        time as the server's, issue 29: parsing a big reply is the client's time)."""
        hook = self.on_wait
        if hook is not None:
            hook(True)
        try:
            return await call(*args, **kwargs)
        finally:
            if hook is not None:
                hook(False)

    async def discover(self, budget: int | None = None, seconds: float | None = None) -> int:
        """SCAN ... TYPE stream for each pattern, capped at options.max_streams. Returns round trips.

        With a `budget`, at most that many SCAN calls are made now and the scan goes on at the
        next call, so a keyspace of millions of keys costs every poll a few round trips instead
        of stalling one poll for seconds; the keys found are used once the scan is complete (the
        previous set until then). Without one (the first discovery) it runs to the end. With
        `seconds` too, the calls stop once they have taken that long (at least one is made)."""
        if self._scan is None:
            self._scan = _Scan(found=dict.fromkeys(self.explicit))
        scan = self._scan
        trips = 0
        started = time.perf_counter()
        while scan.pattern < len(self.patterns) and not scan.capped:
            spent = seconds is not None and trips and time.perf_counter() - started >= seconds
            if budget is not None and (trips >= budget or spent):
                self.total_round_trips += trips
                if not self.discovery.taken_at and self.follow_screen:  # the first scan: what it found
                    self.discovery = self._discovered(scan.found, scan.capped, 0.0, complete=False)
                return trips
            cursor, keys = await self._trip(
                self.client.execute_command,
                "SCAN",
                scan.cursor,
                "MATCH",
                self.patterns[scan.pattern],
                "COUNT",
                SCAN_COUNT,
                "TYPE",
                "stream",
            )
            trips += 1
            scan.found.update(dict.fromkeys(keys))
            scan.cursor = cursor
            if len(scan.found) > self.options.max_streams:
                scan.capped = True
            elif int(cursor) == 0:
                scan.pattern, scan.cursor = scan.pattern + 1, 0
        self._scan = None
        self.discovery = self._discovered(scan.found, scan.capped, time.time())
        self._discovery_due = False
        self.total_round_trips += trips
        return trips

    def _discovered(
        self, found: dict[bytes, None], capped: bool, taken_at: float, complete: bool = True
    ) -> Discovery:
        max_streams = self.options.max_streams
        return Discovery(
            patterns=tuple(p.decode("utf-8", "backslashreplace") for p in self.patterns),
            keys=tuple(sorted(found)[:max_streams]),
            capped=capped or len(found) > max_streams,  # explicit keys count too
            max_streams=max_streams,
            taken_at=taken_at,
            complete=complete,
        )

    # the poll -------------------------------------------------------------------------------

    def _needs_estimate(self, group: GroupInfo | ReplyFields) -> bool:
        if not self.server.has_lag:
            return True
        if isinstance(group, GroupInfo):
            return group.lag.source is not LagSource.EXACT
        return group.get("lag") is None

    def _recent_estimate(self, key: bytes, g: GroupInfo) -> tuple[int, bool] | None:
        """A large estimate younger than estimate_interval, to keep instead of counting again.
        Counting costs up to estimate_cap entries per group: cheap when a group is nearly caught
        up (done every poll), not when it is far behind (done every estimate_interval)."""
        lag = g.lag
        if (
            not self.options.estimate_interval
            or lag.estimate is None
            or lag.estimate < CHEAP_ESTIMATE
            or lag.source is LagSource.EXACT
        ):
            return None
        counted = self._estimated_at.get((key, g.name))
        if counted is None or time.monotonic() - counted >= self.options.estimate_interval:
            return None
        return lag.estimate, lag.capped

    def _queue_group(
        self, pipe: _Batch, key: bytes, name: bytes, ldid: str | None, estimate: bool
    ) -> _GroupPlan:
        pipe.execute_command("XINFO", "CONSUMERS", key, name)
        pipe.execute_command("XPENDING", key, name)
        pipe.execute_command("XPENDING", key, name, "-", "+", 1)
        if ldid is None:
            return _GroupPlan(name, None)
        start, end, skipped, big, big_first = f"({ldid}", "+", 0, None, False
        heavy = self._heavy.get(key)
        if heavy is not None:  # count the large first/last entries without reading them
            after = id_key(ldid) or (0, 0)
            first, last = heavy.info.first_entry_id, heavy.last_id
            if heavy.first_big and first and (id_key(first) or (0, 0)) > after:
                start, skipped, big, big_first = f"({first}", 1, first, True
            if heavy.last_big and last and (id_key(last) or (0, 0)) > after and last != first:
                end, skipped = f"({last}", skipped + 1
                big = big or last
        if estimate:
            pipe.execute_command("XRANGE", key, start, end, "COUNT", self.options.estimate_cap)
            return _GroupPlan(name, ldid, skipped=skipped, next_big=big, next_big_first=big_first)
        if big_first:  # the first undelivered entry is the large first entry: nothing to read
            return _GroupPlan(name, None, next_big=big, next_big_first=True)
        if not self.read_time_lag:
            return _GroupPlan(name, None)
        pipe.execute_command("XRANGE", key, start, end, "COUNT", 1)
        return _GroupPlan(name, None, next_from=ldid, next_big=big)

    def _plan(self, keys: tuple[bytes, ...], focus: Focus | None) -> cad.PollPlan:
        """Which keys this poll reads in full and which as summaries (streamtop.pipeline.cadence)."""
        visible = set(keys) if self.everything_visible else set(self.visible)
        if focus is not None:
            visible.add(focus.key)
        shown = [k for k in keys if k in visible]
        budget = self.options.max_server_load / 100
        self.cadence = cad.cadence(
            budget, self.costs, len(shown), len(keys) - len(shown), self.interval, self.options.summary_period
        )
        if len(self._read_at) > len(keys):
            for gone in self._read_at.keys() - set(keys):
                del self._read_at[gone]
        now = time.monotonic()
        spacing = now - self._planned_at if self._planned_at is not None else None
        self._planned_at = now
        return cad.plan_poll(
            keys, visible, self._read_at, self.cadence, spacing, now=now, bound=cad.MAX_SUMMARY_PERIOD
        )

    def _measure(
        self,
        opening: Reply,
        closing: Reply,
        plan: cad.PollPlan,
        round_trip_us: float,
        mono: float,
        sent: Mapping[str, int],
        scans: int,
        cpu: tuple[Reply, Reply] = (None, None),
    ) -> None:
        """What this poll cost the server: INFO commandstats of its own commands, bracketing them
        in the same round trip (another client's commands of the same names in between count too:
        an overestimate, never an under-), times the share of command time that was CPU (INFO
        cpu in the same bracket: cadence.CpuShare); without INFO (an ACL), the round trip's time."""
        before, after = _commandstats(opening), _commandstats(closing)
        cpu0, cpu1 = _cpu_us(cpu[0]), _cpu_us(cpu[1])
        reads = len(plan.details) + len(plan.summaries)
        if before is None or after is None:
            if self.measure_load and (isinstance(opening, Exception) or isinstance(closing, Exception)):
                self.measure_load = False  # refused: not asked again
            self.costs = cad.scaled_costs(self.costs, round_trip_us, reads, len(plan.details))
            self.meter.add(mono, round_trip_us)
            return
        every = cad.usec_deltas(before, after)
        self.cpu_share.add(
            cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None,
            every.get(cad.ALL_COMMANDS, (0, 0))[1],
        )
        factor = self.cpu_share.factor
        deltas = cad.scaled_deltas(cad.own_share(every, sent), factor)
        self.costs = cad.measured_costs(self.costs, deltas, reads, len(plan.details))
        used = float(sum(u for _, u in deltas.values()))
        if self._stats_closed is not None and scans:  # this poll's discovery, before its bracket
            between = cad.usec_deltas(self._stats_closed, before)
            used += factor * cad.own_share(between, {"scan": scans}).get("scan", (0, 0))[1]
        self._stats_closed = after
        self.meter.add(mono, used)

    def _cost(self, plan: cad.PollPlan, carried: int, keys: tuple[bytes, ...], mono: float) -> PollCost:
        offscreen = set(keys).difference(plan.details)
        read_at = self._read_at  # in C: 30,000 keys a poll (issue 28)
        oldest = min(map(read_at.__getitem__, offscreen.intersection(read_at)), default=None)
        c = self.cadence
        return PollCost(
            detailed=len(plan.details),
            summarized=len(plan.summaries),
            carried=carried,
            summary_age=max(0.0, mono - oldest) if oldest is not None else None,
            oldest_read=oldest,
            load=self.meter.load(mono),
            round_trip_load=not self.measure_load,
            budget=self.options.max_server_load / 100,
            visible_period=c.visible_period,
            summary_period=c.summary_period,
            stretched=c.stretched,
            met=c.met,
            predicted_load=c.load,
        )

    async def poll(self) -> Snapshot:
        """One snapshot. Connection errors propagate (the caller marks the screen stale). The
        cyclic GC waits meanwhile (see GcPause)."""
        with GC_PAUSE:
            return await self._poll()

    async def parts(self, size: int) -> AsyncIterator[Snapshot]:
        """The keyspace a part at a time, for one-shot readers (`status`, issue 29): scanned to
        its end, then `size` keys at a time in key order, each part a Snapshot of its keys alone
        (read in full, its own TIME; the groups in a second round trip, as a first poll's). Nothing
        of a part is kept once the next one is read: a reader that drops each part holds one
        part, not the keyspace. An empty keyspace is one empty part (the server's clock, its
        name)."""
        if self._discovery_needed(time.time()):
            await self.discover()
        keys = self.discovery.keys
        if self.key_filter is not None:
            keys = self.key_filter(keys)
        for start in range(0, max(1, len(keys)), size):
            with GC_PAUSE:
                part = await self._poll(keys[start : start + size])
            self._read_at.clear()  # only a dashboard's cadence reads these two
            self._estimated_at.clear()
            yield part

    async def _poll(self, part: tuple[bytes, ...] | None = None) -> Snapshot:
        """Plan (which keys in full, which as summaries, which carried), queue and parse in round
        trips of READ_CHUNK streams (each stream and the server-wide part record their slice of a
        trip's replies); groups that appeared since the last poll cost one more round trip. A
        carried stream costs nothing: with the last poll's keys only the plan's are looked at.
        `part`: these keys only, no discovery (`parts`)."""
        started = time.perf_counter()
        now = time.time()
        discovery_trips = 0 if part is not None else await self._discover_due(now)
        keys = self.discovery.keys if part is None else part
        if self.key_filter is not None and part is None:
            keys = self.key_filter(keys)
        focus = self.focus
        # the passes over every key (100,000 during the first scan, whose keys change each part)
        # each let the event loop run after them: together they were 0.5 s in one piece
        reading = self._plan(keys, focus) if self.follow_screen else None
        await asyncio.sleep(0)
        carry = reading is not None and self._keys is not None and keys == self._keys
        todo = self._to_read(keys, reading, carry)
        reads = await self._read_streams(todo, reading, focus, now, discovery_trips)
        trips = reads.trips + await self._read_new_groups(reads.parts, reads.new_groups)
        await asyncio.sleep(0)
        streams = self._streams_of(keys, todo, reads.parts, carry)
        focus_data = None
        if focus is not None and reads.focus_replies is not None:
            focus_data, more_trips = await self._read_focus(focus, reads.focus_replies, streams)
            trips += more_trips
        await asyncio.sleep(0)
        self._remember(keys, streams, todo, carry, reading is not None, now)
        self.total_round_trips += trips
        await asyncio.sleep(0)
        cost = (
            self._cost(reading, len(keys) - len(todo), keys, time.monotonic())
            if reading is not None
            else None
        )
        return Snapshot(
            taken_at=time.time(),
            server_time_ms=self.server_time_ms if self.ask_time and self.read_time_lag else None,
            duration_ms=(time.perf_counter() - started) * 1000,
            round_trips=trips,
            discovery_round_trips=discovery_trips,
            server=self.server,
            streams=streams,
            discovery=self.discovery,
            focus=focus_data,
            cost=cost,
        )

    async def _discover_due(self, now: float) -> int:
        """A rescan when one is due or going on (spread over polls); round trips."""
        if self._scan is None and not self._discovery_needed(now):
            return 0
        if self.discovery.taken_at:
            return await self.discover(SCAN_CALLS_PER_POLL)
        # the first: to its end at once, but on the dashboard a part a poll, the keys so far shown
        if not (self.follow_screen and self.progressive_scan):
            return await self.discover(None)
        if self._scan is None:
            return await self.discover(FIRST_PART_CALLS)
        # as many calls as answer within FIRST_SCAN_SECONDS: fewer, larger parts (each part costs
        # passes over every key found so far: at 100,000 streams, 16 calls a part made 7 of them)
        return await self.discover(FIRST_SCAN_CALLS, FIRST_SCAN_SECONDS)

    # plan and queue --------------------------------------------------------------------------

    def _to_read(
        self, keys: tuple[bytes, ...], reading: cad.PollPlan | None, carry: bool
    ) -> list[tuple[int, bytes, Mode]]:
        """The keys this poll reads, each with its place in `keys` and FULL or SUMMARY; every other
        is CARRIED (shown as last read: the very object shown before). With the last poll's keys
        (`carry`) only the plan's keys are looked at (100,000 streams, a few thousand read)."""
        if reading is None:
            return [(i, k, FULL) for i, k in enumerate(keys)]
        full, summary = set(reading.details), set(reading.summaries)
        if carry:
            index = self._index
            places = sorted({index[k] for k in full.union(summary) if k in index})
            return [(i, keys[i], FULL if keys[i] in full else SUMMARY) for i in places]
        shown = self._shown
        # a key never shown is read as a summary (the plan reads it; this is only a safety net)
        return [
            (i, k, FULL if k in full else SUMMARY)
            for i, k in enumerate(keys)
            if k in full or k in summary or k not in shown
        ]

    async def _read_streams(
        self,
        todo: list[tuple[int, bytes, Mode]],
        reading: cad.PollPlan | None,
        focus: Focus | None,
        now: float,
        discovery_trips: int,
    ) -> _Reads:
        """The streams to read, READ_CHUNK a round trip, each part's replies parsed and dropped
        before the next is sent. The server-wide part brackets them all: INFO commandstats and
        TIME in the first trip, the closing INFO (and the focus's page) in the last."""
        reads = _Reads()
        mono = time.monotonic()
        chunks = _parts(todo) if self.chunked else [todo]
        server, opening, closing = _ServerAsk(), (None, None), (None, None)
        for n, chunk in enumerate(chunks):
            batch = _Batch()
            if n == 0:
                bracket = reading is not None and self.measure_load
                server = _ServerAsk.open(batch, bracket, self.ask_time and self.read_time_lag)
            asks = [self._queue_stream(batch, key, mode, mono) for _, key, mode in chunk]
            last = n == len(chunks) - 1
            focus_span = self._queue_focus(batch, focus) if last and focus is not None else None
            if last:
                server.close(batch)
            replies = await self._send(batch, reads)
            if n == 0:
                self._read_server(server, replies)
                opening = server.head(replies)
            if last:
                closing = server.tail(replies)
                reads.focus_replies = replies[focus_span] if focus_span is not None else None
            await self._parse_streams(asks, replies, reads, mono, now)
        if reading is not None:
            sent, cpu = dict(reads.sent), (opening[1], closing[1])
            us, mono_now = reads.round_trip_us, time.monotonic()
            self._measure(opening[0], closing[0], reading, us, mono_now, sent, discovery_trips, cpu)
        return reads

    async def _send(self, batch: _Batch, reads: _Reads) -> list[Reply]:
        """One round trip, counted in `reads`."""
        sent_at = time.perf_counter()
        replies: list[Reply] = await self._trip(
            self.execute, self.client, batch.commands, self.options.timeout
        )
        reads.round_trip_us += (time.perf_counter() - sent_at) * 1e6
        reads.trips += 1
        reads.sent.update(_sent(batch.commands))
        _raise_connection_error(replies)
        return replies

    def _queue_stream(self, batch: _Batch, key: bytes, mode: Mode, mono: float) -> _StreamAsk:
        self._read_at[key] = mono
        start = batch.size
        heavy = self._heavy.get(key)
        if heavy is not None and not heavy.due(mono):
            _queue_light(batch, key, heavy)
        else:
            heavy = None
            batch.execute_command("XINFO", "STREAM", key)
        n_stream = batch.size - start
        batch.execute_command("XINFO", "GROUPS", key)
        groups = self._queue_known_groups(batch, key, start) if mode == FULL else {}
        return _StreamAsk(key, mode, heavy, n_stream, groups, batch.span(start))

    def _queue_known_groups(
        self, batch: _Batch, key: bytes, start: int
    ) -> dict[bytes, tuple[_GroupPlan, slice]]:
        """The groups the last poll saw, each with its slice of the stream's replies (relative to
        `start`, where the stream's commands begin)."""
        known = self._last.get(key)
        out: dict[bytes, tuple[_GroupPlan, slice]] = {}
        for g in known.groups if known else ():
            at = batch.size
            needs = self._needs_estimate(g)
            reuse = self._recent_estimate(key, g) if needs else None
            plan = self._queue_group(batch, key, g.name, g.last_delivered_id, needs and reuse is None)
            if reuse is not None:
                plan = replace(plan, reused=reuse)
            out[plan.name] = (plan, slice(at - start, batch.size - start))
        return out

    def _queue_focus(self, batch: _Batch, focus: Focus) -> slice:
        start = batch.size
        for args in focus_commands(focus, messages=False):  # the hub reads the same pages
            batch.execute_command(*args)
        for command in self.pages.commands(focus):  # none while the Messages tab is not shown
            batch.execute_command(*command)
        return batch.span(start)

    # parse ------------------------------------------------------------------------------------

    def _read_server(self, server: _ServerAsk, replies: list[Reply]) -> None:
        clock = server.reply(replies, server.clock)
        self.server_time_ms = _server_ms(clock)
        if isinstance(clock, Exception):
            self.ask_time = False  # refused: not asked again (an ACL LOG entry per poll otherwise)

    async def _parse_streams(
        self, asks: list[_StreamAsk], replies: list[Reply], reads: _Reads, mono: float, now: float
    ) -> None:
        """Every stream of a round trip from its own replies, added to `reads` (and the groups
        that appeared since the last poll, read in one more round trip)."""
        for ask in asks:
            i = len(reads.parts)
            if i and not i % YIELD_EVERY:
                await asyncio.sleep(0)
            part, new = self._parse_stream(ask, replies[ask.span], mono, now)
            for j in range(ask.span.start, ask.span.stop):  # its raw replies go now, not at the
                replies[j] = None  # poll's end (at 2,000 streams they all stood beside the parsed)
            if new:
                reads.new_groups.extend((i, d) for d in new)
            reads.parts.append(part)

    def _parse_stream(
        self, ask: _StreamAsk, own: list[Reply], mono: float, now: float
    ) -> tuple[_Partial, list[ReplyFields]]:
        """One stream from its own replies `own`; and its groups the plan did not cover."""
        key, heavy = ask.key, ask.heavy
        stream_replies, groups_reply = own[: ask.n_stream], own[ask.n_stream]
        stream_reply = next((r for r in stream_replies if isinstance(r, Exception)), stream_replies[0])
        if isinstance(stream_reply, Exception):
            if self.patterns and key not in self.explicit:
                self.request_discovery()
            return _Partial(StreamInfo(key=key, error=error_text(stream_reply))), []
        if ask.mode == SUMMARY and heavy is None:
            same = self._same_summary(key, stream_reply, groups_reply)
            if same is not None:
                return _Partial(same), []
        else:
            self._summaries.pop(key, None)
        if heavy is None:
            stream, first_size, last_size = parse_stream_sized(key, stream_reply)
            self._note_sizes(stream, first_size, last_size, mono, now)
        else:
            stream = self._light_stream(key, heavy, stream_replies)
        if isinstance(groups_reply, Exception):
            return _Partial(replace(stream, error=error_text(groups_reply))), []
        group_dicts = parse_groups(groups_reply)
        if heavy is not None:
            stream = replace(stream, entries_added=_entries_added(group_dicts))
        if ask.mode == SUMMARY:
            return _Partial(self._summary_stream(stream, group_dicts)), []
        return self._full_stream(stream, group_dicts, ask, own)

    def _same_summary(self, key: bytes, stream_reply: Reply, groups_reply: Reply) -> StreamInfo | None:
        """A summary whose replies are what they were: the object shown before, so that no layer
        above parses, counts or draws it again (an idle stream costs a compare)."""
        before, shown = self._summaries.get(key), self._shown.get(key)
        digest = _digest(stream_reply, groups_reply)
        if shown is not None and shown.summary_only and before == digest:
            return shown
        self._summaries[key] = digest
        return None

    def _summary_stream(self, stream: StreamInfo, group_dicts: list[ReplyFields]) -> StreamInfo:
        """The groups as XINFO GROUPS has them; the rest unknown."""
        prev = self._last.get(stream.key)
        groups = tuple(_summary_group(d, stream, prev, self._polled_at) for d in group_dicts)
        return _as_summary(stream, groups, self.node)

    def _full_stream(
        self, stream: StreamInfo, group_dicts: list[ReplyFields], ask: _StreamAsk, own: list[Reply]
    ) -> tuple[_Partial, list[ReplyFields]]:
        """Each group the plan covered from its replies; the others (new, or whose estimate the
        previous view cannot give) are left for the extra round trip."""
        built: dict[bytes, GroupInfo] = {}
        new: list[ReplyFields] = []
        for d in group_dicts:
            got = ask.groups.get(d["name"])
            if got is None:
                new.append(d)
                continue
            plan, span = got
            group_replies = own[span]
            if self._estimate_stale(d, plan, group_replies):
                new.append(d)
                continue
            built[d["name"]] = self._build_group(stream, d, group_replies, plan)
        return _Partial(stream, group_dicts, built), new

    async def _read_new_groups(
        self, partial: list[_Partial], new_groups: list[tuple[int, ReplyFields]]
    ) -> int:
        """Groups that appeared: one more round trip for all of them together (NEW_GROUPS_CHUNK a
        round trip when chunked: every group is new at the first poll). Round trips."""
        if not new_groups:
            return 0
        size = NEW_GROUPS_CHUNK if self.chunked else len(new_groups)
        for lo in range(0, len(new_groups), size):
            batch = _Batch()
            asked: list[tuple[_Partial, ReplyFields, _GroupPlan, slice]] = []
            for idx, d in new_groups[lo : lo + size]:
                part = partial[idx]
                start = batch.size
                ldid = text(d.get("last-delivered-id"))
                plan = self._queue_group(batch, part.stream.key, d["name"], ldid, self._needs_estimate(d))
                asked.append((part, d, plan, batch.span(start)))
            extra = await self._trip(self.execute, self.client, batch.commands, self.options.timeout)
            _raise_connection_error(extra)
            for part, d, plan, span in asked:
                part.built[d["name"]] = self._build_group(part.stream, d, extra[span], plan)
            del batch, asked, extra
        return -(-len(new_groups) // size)

    async def _read_focus(
        self, focus: Focus, own: list[Reply], streams: tuple[StreamInfo, ...]
    ) -> tuple[FocusData, int]:
        """The focused stream's page from its own replies; with a group, the entries whose data is
        gone marked (one more round trip only when some may be). Round trips."""
        lead = 1 if focus.group is not None else 0
        stream_now = next((s for s in streams if s.key == focus.key), None)
        data = _focus_data(focus, own[:lead], self.pages.result(focus, own[lead:], stream_now))
        if data.focus.group is None:
            return data, 0
        return await self._mark_without_data(data, streams)

    def _streams_of(
        self, keys: tuple[bytes, ...], todo: list[tuple[int, bytes, Mode]], parts: list[_Partial], carry: bool
    ) -> tuple[StreamInfo, ...]:
        """Every key's stream in order: those read from their parts, the others as shown before."""
        if carry:  # the last poll's streams in place, the ones read replaced
            out = list(self._streams)
            for (i, _, _), part in zip(todo, parts, strict=True):
                out[i] = part.finish()
            return tuple(out)
        read = {i: part for (i, _, _), part in zip(todo, parts, strict=True)}
        shown = self._shown
        return tuple(read[i].finish() if i in read else shown[k] for i, k in enumerate(keys))

    def _remember(
        self,
        keys: tuple[bytes, ...],
        streams: tuple[StreamInfo, ...],
        todo: list[tuple[int, bytes, Mode]],
        carry: bool,
        following: bool,
        now: float,
    ) -> None:
        """What the next poll plans from: the groups known, what was shown, the heavy streams
        (with the same keys, only the streams read change)."""
        self._polled_at = now
        self._streams = streams
        if carry:
            for i, _, _ in todo:
                s = streams[i]
                self._shown[s.key] = s
                if s.error is None:
                    self._last[s.key] = s
                else:
                    self._last.pop(s.key, None)
            return
        self._last = {s.key: s for s in streams if s.error is None}
        self._shown = {s.key: s for s in streams} if following else {}
        self._keys = keys if following else None
        self._index = {k: i for i, k in enumerate(keys)} if following else {}
        if len(self._summaries) > len(self._shown):
            self._summaries = {k: v for k, v in self._summaries.items() if k in self._shown}
        for gone in set(self._heavy) - self._last.keys():
            del self._heavy[gone]

    async def _mark_without_data(
        self, data: FocusData, streams: tuple[StreamInfo, ...]
    ) -> tuple[FocusData, int]:
        async def run(commands: Sequence[Command]) -> list[Reply]:
            replies: list[Reply] = await self._trip(self.execute, self.client, commands, self.options.timeout)
            _raise_connection_error(replies)
            return replies

        return await mark_without_data(data, streams, run)

    def _note_sizes(
        self, stream: StreamInfo, first_size: int, last_size: int, mono: float, wall: float
    ) -> None:
        """After a full XINFO STREAM: read the stream cheaply from now on if it carried a large
        entry, as usual if not."""
        if first_size > BIG_ENTRY or last_size > BIG_ENTRY:
            self._heavy[stream.key] = _Heavy(
                info=stream,
                at=mono,
                wall=wall,
                first_big=first_size > BIG_ENTRY,
                last_big=last_size > BIG_ENTRY,
                last_id=stream.last_entry_id,
                length=stream.length,
            )
        else:
            self._heavy.pop(stream.key, None)

    def _light_stream(self, key: bytes, heavy: _Heavy, replies: list[Reply]) -> StreamInfo:
        """A heavy stream from XLEN, the newest entry after the last one seen and (when the first
        entry is small) the first entry. Fields only XINFO STREAM has (entries-added is derived
        from the groups instead, max-deleted and recorded-first IDs) are as of `info_taken_at`."""
        length = to_int(replies[0]) or 0
        if length == 0:  # emptied: nothing large any more
            del self._heavy[key]
            return replace(heavy.info, length=0, first_entry_id=None, last_entry_id=None)
        newer = replies[1] if isinstance(replies[1], list) else []
        if newer:
            heavy.last_id = entry_id(newer[0]) or heavy.last_id
            heavy.last_big = entry_size(newer[0]) > BIG_ENTRY
        first_id = heavy.info.first_entry_id
        if not heavy.first_big and isinstance(replies[2], list) and replies[2]:
            first_id = entry_id(replies[2][0]) or first_id
            heavy.first_big = entry_size(replies[2][0]) > BIG_ENTRY
        if length < heavy.length:  # trimmed or deleted: read it in full at the next poll
            heavy.at = float("-inf")
        heavy.length = length
        generated = heavy.info.last_generated_id
        if (id_key(heavy.last_id) or (0, 0)) > (id_key(generated) or (0, 0)):
            generated = heavy.last_id
        if not heavy.first_big and not heavy.last_big:
            del self._heavy[key]  # the large entries are gone from both ends
        return replace(
            heavy.info,
            length=length,
            first_entry_id=first_id,
            last_entry_id=heavy.last_id,
            last_generated_id=generated,
            info_taken_at=heavy.wall,
        )

    def _estimate_stale(self, d: ReplyFields, plan: _GroupPlan, group_replies: list[Reply]) -> bool:
        """The steady-state pipeline is queued from the previous poll's view of a group. Redo the
        group in the extra round trip when that view cannot give an estimate now: the lag turned
        NULL (no XRANGE was sent), or last-delivered-id moved back (SETID) before the XRANGE start,
        or it moved past everything a capped XRANGE returned."""
        if not self._needs_estimate(d):
            return False
        if plan.reused is not None:
            return False
        if plan.estimate_from is None:
            return True
        current = id_key(text(d.get("last-delivered-id")))
        start = id_key(plan.estimate_from)
        if current is None or start is None or current < start:
            return True
        reply = group_replies[3]
        if current > start and isinstance(reply, list) and len(reply) >= self.options.estimate_cap:
            return not any((k := id_key(entry_id(e))) is not None and k > current for e in reply)
        return False

    def _build_group(
        self, stream: StreamInfo, d: ReplyFields, group_replies: list[Reply], plan: _GroupPlan
    ) -> GroupInfo:
        key = stream.key
        consumers_r, summary_r, oldest_r = group_replies[:3]
        errors = [r for r in (consumers_r, summary_r, oldest_r) if isinstance(r, Exception)]
        estimate = capped = None
        if plan.estimate_from is not None and isinstance(group_replies[3], list):
            # Count only entries after the group's current last-delivered-id: the XRANGE started
            # from the previous poll's, and the consumers may have read since.
            reply = group_replies[3]
            current = id_key(text(d.get("last-delivered-id")))
            if current is None or current == id_key(plan.estimate_from):
                count = len(reply)
            else:
                count = sum(1 for e in reply if (k := id_key(entry_id(e))) is not None and k > current)
            estimate, capped = count + plan.skipped, len(reply) >= self.options.estimate_cap
            if estimate >= CHEAP_ESTIMATE:
                self._estimated_at[(key, d["name"])] = time.monotonic()
        elif plan.reused is not None:
            estimate, capped = plan.reused
        group = build_group(
            d,
            consumers=() if isinstance(consumers_r, Exception) else parse_consumers(consumers_r),
            summary=None
            if isinstance(summary_r, Exception)
            else parse_pending_summary(summary_r, None if isinstance(oldest_r, Exception) else oldest_r),
            estimate=estimate,
            capped=bool(capped),
            error=error_text(errors[0]) if errors else None,
            stream=stream,
        )
        now_ms = self.server_time_ms
        ps = group.pending_summary
        oldest_ms = id_ms(ps.smallest_id) if ps else None
        return replace(
            group,
            time_lag=time_lag(stream, group, plan, group_replies, now_ms, self.options.estimate_cap),
            oldest_pending_age_ms=max(0, now_ms - oldest_ms)
            if time_based(oldest_ms, now_ms) and oldest_ms is not None
            else None,
        )


def _digest(*replies: Reply) -> bytes:
    """Equal for equal replies (nested lists of bytes and ints), in C: pickle, then BLAKE2b."""
    return hashlib.blake2b(pickle.dumps(replies, protocol=5), digest_size=16).digest()


def _as_summary(stream: StreamInfo, groups: tuple[GroupInfo, ...], node: str | None) -> StreamInfo:
    """`replace(stream, summary_only=True, groups=groups, node=node)`, written out: a summary is
    made for every stream off screen (issue 28: 30,000 of them in a cluster's first read), and
    `dataclasses.replace` costs several times a constructor call. A test holds it to `replace`
    with every field set."""
    return StreamInfo(
        key=stream.key,
        length=stream.length,
        first_entry_id=stream.first_entry_id,
        last_entry_id=stream.last_entry_id,
        last_generated_id=stream.last_generated_id,
        entries_added=stream.entries_added,
        max_deleted_entry_id=stream.max_deleted_entry_id,
        recorded_first_entry_id=stream.recorded_first_entry_id,
        radix_tree_keys=stream.radix_tree_keys,
        radix_tree_nodes=stream.radix_tree_nodes,
        groups=groups,
        error=stream.error,
        node=node,
        stale=stream.stale,
        info_taken_at=stream.info_taken_at,
        summary_only=True,
    )


def _summary_group(d: ReplyFields, stream: StreamInfo, prev: StreamInfo | None, prev_at: float) -> GroupInfo:
    """A group as XINFO GROUPS has it. A NULL lag keeps the last estimate (marked with the time it
    was counted) while neither the group's last-delivered-id nor the stream's last-generated-id
    moved, so nothing it counts can have changed; otherwise it is unknown. Why: a summary counts
    nothing, and an unknown sorts first, so sorting by lag moved such rows up and down every 5 s."""
    group = build_group(d, stream=stream)
    if (
        group.lag.source is LagSource.EXACT
        or prev is None
        or prev.last_generated_id != stream.last_generated_id
    ):
        return group
    old = prev.group(group.name)
    if old is None or old.lag.estimate is None or old.last_delivered_id != group.last_delivered_id:
        return group
    return replace(group, lag=replace(old.lag, as_of=old.lag.as_of if old.lag.as_of is not None else prev_at))


def _server_ms(reply: Reply) -> int:
    """TIME as epoch ms; the local clock when it failed (an ACL without TIME, say)."""
    if isinstance(reply, list | tuple) and len(reply) == 2:
        secs, micros = to_int(reply[0]), to_int(reply[1])
        if secs is not None and micros is not None:
            return secs * 1000 + micros // 1000
    return int(time.time() * 1000)


def time_lag(
    stream: StreamInfo,
    group: GroupInfo,
    plan: _GroupPlan,
    replies: list[Reply],
    now_ms: int,
    estimate_cap: int,
) -> TimeLag:
    """The age of the first entry after the group's last-delivered-id, from the XRANGE that
    started at the previous poll's last-delivered-id (the estimate's, or the COUNT 1 one).

    Caught up (lag 0, or last-delivered-id at the last entry) is 0. When the consumers read
    past what the XRANGE returned, the first undelivered entry came after last-delivered-id:
    the lag is at most that ID's age."""
    current = id_key(group.last_delivered_id)
    last = id_key(stream.last_entry_id)
    if (
        group.lag.value == 0
        or stream.length == 0
        or (current is not None and last is not None and current >= last)
    ):
        return TimeLag(TimeLagSource.EXACT, 0)
    start = plan.estimate_from or plan.next_from
    reply = replies[3] if start is not None and len(replies) > 3 else None
    first: str | None = None
    if plan.next_big_first:
        first = plan.next_big
    elif isinstance(reply, list) and current is not None and (id_key(start) or (0, 0)) <= current:
        first = next((i for e in reply if (k := id_key(i := entry_id(e))) is not None and k > current), None)
        wanted = estimate_cap if plan.estimate_from is not None else 1
        if first is None and len(reply) < wanted:  # the range was read to its end
            first = plan.next_big  # the large last entry, or nothing left: caught up
            if first is None and not group.lag.value:  # (a lag > 0 says it raced an XADD)
                return TimeLag(TimeLagSource.EXACT, 0)
    if first is not None:
        ms = id_ms(first)
        if not time_based(ms, now_ms) or ms is None:
            return TimeLag(TimeLagSource.NOT_TIME)
        return TimeLag(TimeLagSource.EXACT, max(0, now_ms - ms))
    ms = id_ms(group.last_delivered_id)
    if current is not None and current > (0, 0) and time_based(ms, now_ms) and ms is not None:
        return TimeLag(TimeLagSource.AT_MOST, max(0, now_ms - ms))
    if stream.first_entry_id is not None and not time_based(id_ms(stream.first_entry_id), now_ms):
        return TimeLag(TimeLagSource.NOT_TIME)
    return TimeLag()


def _queue_light(pipe: _Batch, key: bytes, heavy: _Heavy) -> None:
    """The commands that stand in for XINFO STREAM of a heavy stream (see BIG_ENTRY)."""
    pipe.execute_command("XLEN", key)
    pipe.execute_command("XREVRANGE", key, "+", f"({heavy.last_id}" if heavy.last_id else "-", "COUNT", 1)
    if not heavy.first_big:
        pipe.execute_command("XRANGE", key, "-", "+", "COUNT", 1)


def _entries_added(group_dicts: list[ReplyFields]) -> int | None:
    """entries-added without XINFO STREAM: a group with an exact lag has read `entries-read`
    entries and has `lag` left, so the stream has had entries-read + lag (7.0+)."""
    best = None
    for d in group_dicts:
        read, lag = to_int(d.get("entries-read")), to_int(d.get("lag"))
        if read is not None and lag is not None and (best is None or read + lag > best):
            best = read + lag
    return best


_XINFO = frozenset({"XINFO", b"XINFO", "xinfo", b"xinfo"})


def _sent(commands: Sequence[Command]) -> dict[str, int]:
    """{commandstats name: calls} of a pipeline (`xinfo|stream`, `xpending`, ...)."""
    out: dict[str, int] = {}
    # counted by the first word (and XINFO's second) as queued, named once per kind: a poll of
    # 10,000 streams queues 20,000 commands or more
    kinds = Counter(args[:2] if args[0] in _XINFO else args[:1] for args in commands)
    for (first, *second), calls in kinds.items():
        name = str(first).lower()
        if name == "xinfo" and second:
            sub = second[0].decode() if isinstance(second[0], bytes) else str(second[0])
            name = f"xinfo|{sub.lower()}"
        out[name] = out.get(name, 0) + calls
    return out


def _commandstats(reply: Reply) -> dict[str, tuple[int, int]] | None:
    """INFO commandstats as {command: (calls, usec)} for the commands a poll sends, and every
    command's together under cadence.ALL_COMMANDS; None when the reply is an error (an ACL
    without INFO)."""
    if reply is None or isinstance(reply, Exception):
        return None
    out = {}
    all_calls = all_usec = 0
    for name, value in parse_info(reply).items():
        command = name.removeprefix("cmdstat_")
        fields = dict(p.partition("=")[::2] for p in value.split(","))
        calls, usec = to_int(fields.get("calls")), to_int(fields.get("usec"))
        if calls is None or usec is None:
            continue
        all_calls, all_usec = all_calls + calls, all_usec + usec
        if command in cad.OWN_COMMANDS or command == "scan":
            out[command] = (calls, usec)
    out[cad.ALL_COMMANDS] = (all_calls, all_usec)
    return out


def _cpu_us(reply: Reply) -> float | None:
    """INFO cpu: the main thread's user + sys CPU in microseconds (the whole process's before
    the main thread's were reported); None when missing or refused."""
    if reply is None or isinstance(reply, Exception):
        return None
    info = parse_info(reply)
    for user, sys_ in (
        ("used_cpu_user_main_thread", "used_cpu_sys_main_thread"),
        ("used_cpu_user", "used_cpu_sys"),
    ):
        try:
            return (float(info[user]) + float(info[sys_])) * 1e6
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _parts(todo: list[tuple[int, bytes, Mode]]) -> list[list[tuple[int, bytes, Mode]]]:
    """The streams to read in round trips of at most READ_CHUNK, FULL_READ_CHUNK of them in full
    (at least one part, empty when there is nothing to read: the server-wide part goes alone)."""
    parts: list[list[tuple[int, bytes, Mode]]] = [[]]
    full = 0
    for item in todo:
        heavy = item[2] == FULL
        if len(parts[-1]) >= READ_CHUNK or (heavy and full >= FULL_READ_CHUNK):
            parts.append([])
            full = 0
        parts[-1].append(item)
        full += heavy
    return parts


def _raise_connection_error(replies: list[Reply]) -> None:
    """Per-command server errors stay in place; a lost connection fails the whole poll."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    for r in replies:
        if isinstance(r, RedisConnectionError | RedisTimeoutError | OSError):
            raise r


def _focus_data(
    focus: Focus, replies: list[Reply], page: tuple[tuple[Entry, ...], BaseException | None]
) -> FocusData:
    """The pending page from its reply, and the Messages page (streamtop.pipeline.messagepage)."""
    messages, page_error = page
    error = next((error_text(r) for r in replies if isinstance(r, Exception)), None)
    if error is None and page_error is not None:
        error = error_text(page_error)
    pending: tuple[PendingEntry, ...] = ()
    if focus.group is not None and replies and not isinstance(replies[0], Exception):
        pending = parse_pending_entries(replies[0])
    return FocusData(focus=focus, pending=pending, messages=messages, error=error)


def focus_commands(focus: Focus, *, messages: bool = True) -> list[Command]:
    """The focus pages' commands: the group's pending page, the stream's messages page (the
    dashboard's collector reads that one through MessagePages: `messages=False`)."""
    commands: list[Command] = []
    if focus.group is not None:
        args: tuple[Arg, ...] = (
            "XPENDING",
            focus.key,
            focus.group,
            focus.pending_start,
            "+",
            focus.pending_count,
        )
        commands.append((*args, focus.consumer) if focus.consumer is not None else args)
    if messages and focus.messages_count > 0:  # 0: the Messages tab is not shown (issue 29)
        commands.append(("XREVRANGE", focus.key, focus.messages_end, "-", "COUNT", focus.messages_count))
    return commands


def focus_data(
    focus: Focus,
    replies: list[Reply],
    pages: MessagePages | None = None,
    stream: StreamInfo | None = None,
) -> FocusData:
    """The focus pages from the replies to `focus_commands(focus)` (the messages page as XREVRANGE
    gave it); with `pages`, to `focus_commands(focus, messages=False) + pages.commands(focus)` (the
    hub's read: the page read whole once, then appended, values cut; `stream`: this poll's)."""
    lead = 1 if focus.group is not None else 0
    if pages is not None:
        return _focus_data(focus, replies[:lead], pages.result(focus, replies[lead:], stream))
    page: tuple[tuple[Entry, ...], BaseException | None] = ((), None)
    if focus.messages_count > 0 and len(replies) > lead:
        reply = replies[lead]
        if isinstance(reply, BaseException):
            page = ((), reply)
        else:
            page = (tuple(Entry(i, tuple(f)) for i, f in parse_entries(reply)), None)
    return _focus_data(focus, replies[:lead], page)


async def mark_without_data(
    data: FocusData,
    streams: tuple[StreamInfo, ...],
    run: Callable[[Sequence[Command]], Awaitable[list[Reply]]],
) -> tuple[FocusData, int]:
    """Mark the page's pending entries whose data is gone, and count the group's pending
    entries below the first entry. Costs nothing while the group's oldest pending entry is
    still in the stream and nothing was XDEL'd; else one more round trip (`run`) with an XRANGE
    per ID that may have been XDEL'd and one bounded XPENDING. 6.2 does not say what was XDEL'd:
    there only the trimmed ones are marked (streamtop.pipeline.nodata)."""
    focus = data.focus
    stream = next((s for s in streams if s.key == focus.key and s.error is None), None)
    group = stream.group(focus.group) if stream is not None and focus.group is not None else None
    if stream is None or group is None:
        return data, 0
    first = stream.first_entry_id if stream.length else None
    bounds = Bounds(first, stream.max_deleted_entry_id or "0-0")
    gone = {p.id for p in data.pending if bounds.below_first(p.id)}
    lookup = [p.id for p in data.pending if bounds.needs_lookup(p.id)]
    oldest = group.pending_summary.smallest_id if group.pending_summary else None
    count_below = first is not None and oldest is not None and bounds.below_first(oldest)
    commands = lookup_commands(focus.key, lookup)
    if count_below:
        commands.append(("XPENDING", focus.key, group.name, "-", f"({first}", TRIMMED_COUNT_CAP))
    trimmed: int | None = group.pending if first is None else 0
    capped = False
    if commands:
        replies = await run(commands)
        gone |= gone_from_replies(lookup, replies[: len(lookup)])
        if count_below:
            rows = replies[-1]
            trimmed = None if isinstance(rows, Exception) else len(parse_pending_entries(rows))
            capped = trimmed is not None and trimmed >= TRIMMED_COUNT_CAP
    return replace(
        data, without_data=frozenset(gone), trimmed_pending=trimmed, trimmed_pending_capped=capped
    ), 1 if commands else 0
