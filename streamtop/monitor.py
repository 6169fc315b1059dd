"""The dashboard's poll state without any UI: connect lazily, poll, remember, recover.

The UI calls `poll()` in a chained loop and renders what it returns. A lost connection never
raises here: the last good snapshot is kept, the moment it went stale is recorded with a one-line
error (no password, see connection.describe_error) and the next attempt is due after a backoff of
1, 2, 4, 8, then 10 seconds. The next successful poll makes the monitor live again by itself.
Only connection trouble (RedisError, OSError, ClusterError) is retried: a ConfigError (e.g. --cluster
against a standalone server) and a genuine bug propagate to the caller.

A server that accepts the connection but never answers (SIGSTOP, a full event loop, a black hole)
raises nothing for up to the poll's 30 s timeout: so the state is derived from "a poll has been in
flight since T" too. Once it has gone unanswered for `answer_timeout` seconds (the UI sets
max(2 x interval, 2 s)) the state is NOT_ANSWERING until the poll ends, whatever the last one did.
The time the client itself spent on the CPU meanwhile (parsing a large reply, drawing) is not
counted: a reply that arrived while the client was busy is not a server that does not answer.

The monitor is the dashboard's session: it owns the poll client, the client the actions write
through (separate, so a failed poll never closes it under an action in flight; see `action_client`),
the `Actions` on that client (kept current when a reconnect replaces the client) and the `History`.
The UI is handed a Monitor and builds none of these.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import redis

from streamtop.pipeline.cluster import ClusterError
from streamtop.pipeline.collector import GC_PAUSE
from streamtop.pipeline.connection import (
    REDIS_ERRORS,
    AsyncClient,
    ConfigError,
    ConnectionSpec,
    describe_error,
    probe_server,
    retry_delay,
)
from streamtop.pipeline.history import History
from streamtop.pipeline.model import (
    ConsumerInfo,
    Focus,
    GroupInfo,
    PendingEntry,
    ServerInfo,
    Snapshot,
    StreamInfo,
)
from streamtop.pipeline.source import PollSource, Wants

from .actions import Actions
from .commandlog import CommandLog, attach
from .options import SESSION_DEFAULTS, SessionOptions
from .session import check_mode, close_collector, make_action_client, make_collector

# What a poll may fail with when the server or the network is the problem: retried with backoff.
CONNECTION_TROUBLE: tuple[type[Exception], ...] = (*REDIS_ERRORS, OSError, ClusterError)
DISCOVERY_PACE = 0.02  # seconds between the polls of the dashboard's first scan (issue 29; the
# loop runs in time slices meanwhile, so its parts follow each other with a pause for the screen)
MIN_ANSWER_TIMEOUT = 2.0  # seconds: a poll unanswered this long (or 2 x interval) is "not answering"


def answer_timeout(interval: float) -> float:
    """How long a poll may go unanswered before the server counts as not answering."""
    return max(2.0 * interval, MIN_ANSWER_TIMEOUT)


class State(StrEnum):
    CONNECTING = "connecting"  # never reached the server yet, first attempt not finished
    LIVE = "live"
    PAUSED = "paused"
    STALE = "stale"  # the last poll failed: showing the last good snapshot, waiting to retry
    RECONNECTING = "reconnecting"  # an attempt after a failure is running now
    NOT_ANSWERING = "not answering"  # a poll (or reconnect) in flight for over answer_timeout


class ErrorKind(StrEnum):
    TRANSIENT = "transient"  # waiting may fix it (server down, restarting): open and retry
    FATAL = "fatal"  # waiting will not fix it (auth, TLS, unknown host, --cluster mismatch)


@dataclass(frozen=True)
class ContactError:
    kind: ErrorKind
    message: str  # one line, password-free (connection.describe_error)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it (redis-py wraps ssl and socket errors in its own)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def error_kind(exc: BaseException, spec: ConnectionSpec) -> ErrorKind:
    """Classify by exception type, never by message wording."""
    chain = list(_chain(exc))
    fatal = (ConfigError, redis.AuthenticationError, redis.ResponseError, ssl.SSLError, socket.gaierror)
    if any(isinstance(e, fatal) for e in chain):
        return ErrorKind.FATAL
    if spec.tls and any(isinstance(e, redis.TimeoutError | TimeoutError) for e in chain):
        return ErrorKind.FATAL  # a plain server waits forever for the end of a TLS ClientHello
    if any(isinstance(e, CONNECTION_TROUBLE) for e in chain):
        return ErrorKind.TRANSIENT
    return ErrorKind.FATAL


async def first_contact(spec: ConnectionSpec) -> ContactError | None:
    """One probe before the dashboard opens: None when the server answered in the expected mode,
    else what went wrong and whether waiting could fix it."""
    client = spec.make_client(raw=True)
    try:
        server = await probe_server(client)
        check_mode(spec, server)
    except Exception as exc:
        return ContactError(
            error_kind(exc, spec), describe_error(exc, spec) if not isinstance(exc, ConfigError) else str(exc)
        )
    finally:
        await _close(client)
    return None


class PollRecorder(Protocol):
    """What the session tells a recording (streamtop.record.Recorder): every poll's end, and the
    Actions to hand out (wrapped, so that each write is logged)."""

    def after_poll(self, monitor: Monitor, started: float) -> None: ...

    def wrap(self, actions: Actions) -> Actions: ...


class Monitor:
    """One server, polled on demand. Owns the poll client, the actions client and the `Actions`
    on it, and the History; `close()` releases both clients.

    Made once: `options` (SessionOptions) say how it polls and guards; `command_log` records
    every action's commands (streamtop.record.attach adds a recorder of every poll). `source`:
    poll that PollSource instead of connecting to `spec` (a list of snapshots, a recording, a
    remote hub): there are no actions then, and `url` is what the header shows."""

    def __init__(
        self,
        spec: ConnectionSpec | None,
        options: SessionOptions = SESSION_DEFAULTS,
        *,
        source: PollSource | None = None,
        url: str = "",
        command_log: CommandLog | None = None,
        clock: Callable[[], float] = time.time,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        if spec is None and source is None:
            raise ValueError("a session polls a server (spec) or a source")
        self.spec = spec
        self.options = options
        self._given = source  # polled as it is, never connected nor dropped
        self._url = url
        self._read_only = options.read_only
        self._interval = options.interval
        self._actions: Actions | None = None
        self.clock = clock
        self.client: AsyncClient | None = None  # the poll client (raw replies)
        self.server: ServerInfo | None = None
        self.collector: PollSource | None = None
        self._node_client: Callable[[str | None], AsyncClient | None] | None = None
        self.history = History(options.window)
        self.focus: Focus | None = None
        self.last: Snapshot | None = None
        self.last_good_at: float | None = None
        self.stale_since: float | None = None
        self.error: str | None = None
        self.failures = 0
        self.retry_at: float | None = None
        self.paused = False
        self.polling = False
        self.poll_started: float | None = None  # when the poll in flight was sent (clock())
        # this process's CPU time then (cpu_clock()): the time the client itself was busy since
        # (parsing 100,000 streams' replies, drawing) is not time the server took to answer
        self.cpu_clock = cpu_clock
        self.poll_cpu_started: float | None = None
        # the round trip in flight (clock(), cpu_clock()), as the collector reports it; a poll
        # whose collector reports none is timed from poll_started
        self.trip: tuple[float, float] | None = None
        self.trips_reported = False
        self.polls = 0
        # The actions' client: kept across failed polls (its pool reconnects by itself, and an
        # action may be running on it); replaced only when a reconnect finds a different server.
        self.action_client: AsyncClient | None = None
        self.action_server: ServerInfo | None = None
        self.action_generation = 0  # bumped when action_client (and so `actions`) is replaced
        self.command_log = command_log  # when given, every action command is recorded
        self.recorder: PollRecorder | None = None  # --record FILE (record.attach): told of every poll's end

    @classmethod
    def on(cls, source: PollSource, options: SessionOptions = SESSION_DEFAULTS, url: str = "") -> Monitor:
        """A session polling `source` (no server, no actions): `Monitor.on(ListSource(snaps))`."""
        return cls(None, options, source=source, url=url)

    # what it is -----------------------------------------------------------------------------

    @property
    def targets(self) -> tuple[str | bytes, ...]:
        return self.options.targets

    @property
    def url(self) -> str:
        """Where the snapshots come from, without a password."""
        return self.spec.display_url() if self.spec is not None else self._url

    @property
    def insecure_tls(self) -> bool:
        return bool(self.spec is not None and self.spec.tls and self.spec.insecure)

    @property
    def interval(self) -> float:
        """Seconds between two polls (the loop's; the collector's cadence is told each poll)."""
        return self._interval

    @property
    def answer_timeout(self) -> float:
        """Seconds a poll may go unanswered before the state is NOT_ANSWERING."""
        fixed = self.options.answer_timeout
        return fixed if fixed is not None else answer_timeout(self._interval)

    def set_interval(self, seconds: float) -> None:
        """The one way the interval changes (`+` / `-`); the answer timeout follows it."""
        self._interval = seconds

    # state ----------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        if self.not_answering_for() is not None:
            return State.NOT_ANSWERING
        if self.polling and self.failures:
            return State.RECONNECTING
        if self.failures:
            return State.STALE if self.last is not None else State.CONNECTING
        if self.paused:
            return State.PAUSED
        return State.LIVE if self.last is not None else State.CONNECTING

    def not_answering_for(self) -> float | None:
        """Seconds the poll in flight has gone unanswered, once that is `answer_timeout` or more."""
        if not self.polling or self.poll_started is None:
            return None
        started, cpu = self.poll_started, self.poll_cpu_started
        if self.trips_reported:  # issue 29: only a round trip waits for the server
            if self.trip is None:
                return None  # between round trips: the client is reading what arrived
            started, cpu = self.trip
        waited = max(0.0, self.clock() - started)
        if cpu is not None:  # a reply read late by a busy client is not the server's time
            waited = max(0.0, waited - max(0.0, self.cpu_clock() - cpu))
        return waited if waited >= self.answer_timeout else None

    def _on_wait(self, waiting: bool) -> None:
        """The collector started (True) or finished (False) a round trip."""
        self.trips_reported = True
        self.trip = (self.clock(), self.cpu_clock()) if waiting else None

    def frozen_for(self) -> float | None:
        """Seconds since the last good poll while the screen cannot be refreshed (not answering,
        stale, reconnecting): the UI ages what it shows by this much (see `aged`)."""
        if self.last is None or self.last_good_at is None:
            return None
        if self.state not in (State.NOT_ANSWERING, State.STALE, State.RECONNECTING):
            return None
        return max(0.0, self.clock() - self.last_good_at)

    def retry_in(self) -> float | None:
        """Seconds until the next attempt is due after a failure (None when healthy)."""
        if self.retry_at is None:
            return None
        return max(0.0, self.retry_at - self.clock())

    def stale_age(self) -> float | None:
        """Seconds since the last good poll, while stale."""
        if self.stale_since is None or self.last_good_at is None:
            return None
        return max(0.0, self.clock() - self.last_good_at)

    # the actions ----------------------------------------------------------------------------

    @property
    def actions(self) -> Actions | None:
        """The actions layer on the actions client, or None before the first connection. A new
        `Actions` comes with a new client (a reconnect found a different server), so callers
        read this each time rather than keeping it."""
        if self.recorder is not None and self._actions is not None:
            return self.recorder.wrap(self._actions)
        return self._actions

    @property
    def read_only(self) -> bool:
        return self._read_only

    def set_read_only(self, value: bool) -> None:
        """The guard of every mutation; the current Actions follow at once."""
        self._read_only = value
        if self._actions is not None:
            self._actions.read_only = value

    def set_focus(self, focus: Focus | None) -> None:
        """What the screen shows in detail; rides along in the next poll's round trip."""
        self.focus = focus
        if self.collector is not None:
            self._hand_over(self.collector)

    def wants(self) -> Wants:
        """What the next poll must read, as the screen says it."""
        o = self.options
        return Wants(
            focus=self.focus,
            visible=self.focus.visible if self.focus is not None else frozenset(),
            follow_screen=o.follow_screen and not o.poll.full_poll,
            everything_visible=o.everything_visible,
            interval=self._interval,
            answer_timeout=self.answer_timeout,
        )

    def _hand_over(self, collector: PollSource) -> None:
        collector.want(self.wants(), self._on_wait)

    def poll_delay(self) -> float:
        """Seconds until the next poll: the interval, or longer when the server budget stretched
        the visible rows' cadence (the header says so)."""
        interval = self._interval
        if self.last is not None and not self.last.discovery.complete:
            return min(interval, DISCOVERY_PACE)  # the first scan goes on: its next part soon
        cost = self.last.cost if self.last is not None else None
        if cost is None or not cost.stretched:
            return interval
        return max(interval, cost.visible_period)

    def node_client(self, node: str | None) -> AsyncClient | None:
        """The raw client that polls `node` (streamtop.session.ServerSource.node_client), for a
        command of the caller's own next to the poll's; None without a server connection."""
        return self._node_client(node) if self._node_client is not None else None

    # polling --------------------------------------------------------------------------------

    async def _connect(self) -> None:
        if self._given is not None:
            self.collector = self._given
            self._hand_over(self._given)
            return
        assert self.spec is not None
        client = self.spec.make_client(raw=True)
        try:
            server = await probe_server(client)
        except BaseException:
            await _close(client)
            raise
        self.client, self.server = client, server
        try:
            collector = make_collector(self.spec, client, server, self.targets, self.options.poll)
        except BaseException:
            await _close(client)
            raise
        self.collector, self._node_client = collector, collector.node_client
        self._hand_over(collector)
        if self.action_client is None or self.action_server != server:
            await self._replace_action_client(server)

    async def _replace_action_client(self, server: ServerInfo) -> None:
        old, self.action_client = self.action_client, None
        self._actions = None
        if old is not None:
            await _close(old)
        assert self.spec is not None
        client = make_action_client(self.spec, server)
        if self.command_log is not None:
            attach(client, self.command_log)
        self.action_client, self.action_server = client, server
        self._actions = Actions(client, server, read_only=self._read_only)
        self.action_generation += 1

    async def poll(self) -> Snapshot | None:
        """One poll. Returns the new snapshot, or the last good one (None if never connected)
        when the server cannot be reached; never raises for connection trouble. A ConfigError
        (drops the connection) and any other exception (a bug: the connection stays) propagate."""
        self.polling = True
        self.poll_started = started = self.clock()
        self.poll_cpu_started = self.cpu_clock()
        self.trip, self.trips_reported = None, False
        try:
            return await self._poll()
        finally:
            if self.recorder is not None:
                self.recorder.after_poll(self, started)

    async def _poll(self) -> Snapshot | None:
        """The cyclic GC waits through the poll and the history's update (what they build forms
        no cycles: collector.GcPause). While the first scan goes on, what they built is frozen
        before the GC runs again: the first pass over a part's new objects (tens of thousands of
        streams) was 0.1-0.7 s of stall at 100,000 streams (issue 29)."""
        with GC_PAUSE:
            got = await self._poll_once()
            if got is not None and not got.discovery.complete:
                gc.freeze()
            return got

    async def _poll_once(self) -> Snapshot | None:
        try:
            if self.collector is None:
                await self._connect()
            assert self.collector is not None
            self._hand_over(self.collector)
            snap = await self.collector.poll()
        except ConfigError:
            await self.reset_connection()
            raise
        except CONNECTION_TROUBLE as exc:  # keep the screen, retry later
            await self._failed(exc)
            return self.last
        finally:
            self.polling = False
            self.poll_started = self.poll_cpu_started = self.trip = None
            self.trips_reported = False
        if snap is None:  # nothing new (a list handed out, a hub without a newer one)
            return self.last
        await self.history.update_in_steps(snap)
        self._took(snap)
        return snap

    def accept(self, snap: Snapshot) -> None:
        """A snapshot made elsewhere (tests, screenshots) taken as this session's last poll: it
        feeds the rates, and the state is live."""
        self.history.update(snap)
        self._took(snap)

    def _took(self, snap: Snapshot) -> None:
        self.last = snap
        self.last_good_at = self.clock()
        self.stale_since = self.error = self.retry_at = None
        self.failures = 0
        self.polls += 1

    async def _failed(self, exc: BaseException) -> None:
        now = self.clock()
        self.error = describe_error(exc, self.spec) if self.spec is not None else str(exc)
        if self.stale_since is None:
            self.stale_since = now
        self.failures += 1
        self.retry_at = now + retry_delay(self.failures)
        await self.reset_connection()

    async def reset_connection(self) -> None:
        """Drop the client: the next poll connects afresh (the server may have restarted)."""
        client, self.client = self.client, None
        collector, self.collector = self.collector, None
        self._node_client = None
        if collector is not None and collector is not self._given:
            with contextlib.suppress(Exception):  # the connections may already be gone
                await close_collector(collector)
        if client is not None:
            await _close(client)

    def request_discovery(self) -> None:
        if self.collector is not None:
            self.collector.request_discovery()

    async def close(self) -> None:
        """Release every client: the poll client, a cluster's node clients, the actions client."""
        await self.reset_connection()
        if self._given is not None:
            await self._given.aclose()
        client, self.action_client = self.action_client, None
        self.action_server = self._actions = None
        if client is not None:
            await _close(client)


def aged(snapshot: Snapshot, seconds: float) -> Snapshot:
    """The snapshot as it would read `seconds` later if nothing happened: every idle and inactive
    time is that much longer. Shown while the server does not answer, so the ages on screen go on
    from the local clock instead of freezing at the last poll's values."""
    ms = round(seconds * 1000)
    if ms <= 0:
        return snapshot

    def entry(p: PendingEntry) -> PendingEntry:
        return dataclasses.replace(p, idle_ms=p.idle_ms + ms)

    def consumer(c: ConsumerInfo) -> ConsumerInfo:
        inactive = c.inactive_ms
        if inactive is not None and inactive >= 0:  # -1 is "never active": it stays so
            inactive += ms
        return dataclasses.replace(c, idle_ms=c.idle_ms + ms, inactive_ms=inactive)

    def group(g: GroupInfo) -> GroupInfo:
        ps = g.pending_summary
        if ps is not None and ps.oldest is not None:
            ps = dataclasses.replace(ps, oldest=entry(ps.oldest))
        return dataclasses.replace(g, consumer_list=tuple(map(consumer, g.consumer_list)), pending_summary=ps)

    def stream(st: StreamInfo) -> StreamInfo:
        return dataclasses.replace(st, groups=tuple(map(group, st.groups))) if st.groups else st

    focus = snapshot.focus
    if focus is not None and focus.pending:
        focus = dataclasses.replace(focus, pending=tuple(map(entry, focus.pending)))
    return dataclasses.replace(snapshot, streams=tuple(map(stream, snapshot.streams)), focus=focus)


async def _close(client: AsyncClient) -> None:
    with contextlib.suppress(Exception):  # closing a broken connection may fail too
        await client.aclose()
