"""The dashboard's poll state without any UI: connect lazily, poll, remember, recover.

The UI calls `poll()` in a chained loop and renders what it returns. A lost connection never
raises here: the last good snapshot is kept, the moment it went stale is recorded with a one-line
error (no password, see connection.describe_error) and the next attempt is due after a backoff of
1, 2, 4, 8, then 10 seconds. The next successful poll makes the monitor live again by itself.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from .collector import DEFAULT_MAX_STREAMS, Collector
from .connection import ConnectionSpec, describe_error, probe_server
from .history import History
from .model import Focus, ServerInfo, Snapshot
from .session import make_collector

BACKOFF_CAP = 10.0


class State(StrEnum):
    CONNECTING = "connecting"  # never reached the server yet, first attempt not finished
    LIVE = "live"
    PAUSED = "paused"
    STALE = "stale"  # the last poll failed: showing the last good snapshot, waiting to retry
    RECONNECTING = "reconnecting"  # an attempt after a failure is running now


def backoff(failures: int) -> float:
    """Seconds to wait after `failures` consecutive failures: 1, 2, 4, 8, 10, 10, ..."""
    if failures <= 0:
        return 0.0
    return min(BACKOFF_CAP, float(2 ** min(failures - 1, 10)))


class Monitor:
    """One server, polled on demand. Owns the client; `close()` releases it."""

    def __init__(
        self,
        spec: ConnectionSpec,
        targets: Sequence[str | bytes] = (),
        *,
        max_streams: int = DEFAULT_MAX_STREAMS,
        discovery_interval: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.targets = tuple(targets)
        self.max_streams = max_streams
        self.discovery_interval = discovery_interval
        self.clock = clock
        self.client: Any = None
        self.server: ServerInfo | None = None
        self.collector: Any = None  # a Collector, or a ClusterCollector for a cluster
        self.history = History()
        self.focus: Focus | None = None
        self.last: Snapshot | None = None
        self.last_good_at: float | None = None
        self.stale_since: float | None = None
        self.error: str | None = None
        self.failures = 0
        self.retry_at: float | None = None
        self.paused = False
        self.polling = False
        self.generation = 0  # bumped on every (re)connect: whoever holds the client re-fetches it
        self.polls = 0

    # state ----------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        if self.polling and self.failures:
            return State.RECONNECTING
        if self.failures:
            return State.STALE if self.last is not None else State.CONNECTING
        if self.paused:
            return State.PAUSED
        return State.LIVE if self.last is not None else State.CONNECTING

    @property
    def connected(self) -> bool:
        return self.collector is not None

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

    def set_focus(self, focus: Focus | None) -> None:
        """What the screen shows in detail; rides along in the next poll's round trip."""
        self.focus = focus
        if self.collector is not None:
            self.collector.focus = focus

    # polling --------------------------------------------------------------------------------

    async def _connect(self) -> None:
        client = self.spec.make_client(raw=True)
        try:
            server = await probe_server(client)
        except BaseException:
            await _close(client)
            raise
        self.client, self.server = client, server
        try:
            self.collector = make_collector(self.spec, client, server, self.targets,
                                            max_streams=self.max_streams,
                                            discovery_interval=self.discovery_interval)
        except BaseException:
            await _close(client)
            raise
        self.collector.focus = self.focus
        self.generation += 1

    async def poll(self) -> Snapshot | None:
        """One poll. Returns the new snapshot, or the last good one (None if never connected)
        when the server cannot be reached; never raises for connection trouble."""
        self.polling = True
        try:
            if self.collector is None:
                await self._connect()
            assert self.collector is not None
            self.collector.focus = self.focus
            snap = await self.collector.poll()
        except Exception as exc:  # any failure of the round trip: keep the screen, retry later
            await self._failed(exc)
            return self.last
        finally:
            self.polling = False
        self.history.update(snap)
        self.last = snap
        self.last_good_at = self.clock()
        self.stale_since = self.error = self.retry_at = None
        self.failures = 0
        self.polls += 1
        return snap

    async def _failed(self, exc: BaseException) -> None:
        now = self.clock()
        self.error = describe_error(exc, self.spec)
        if self.stale_since is None:
            self.stale_since = now
        self.failures += 1
        self.retry_at = now + backoff(self.failures)
        await self.reset_connection()

    async def reset_connection(self) -> None:
        """Drop the client: the next poll connects afresh (the server may have restarted)."""
        client, self.client = self.client, None
        collector, self.collector = self.collector, None
        closer = getattr(collector, "close", None) or getattr(collector, "aclose", None)
        if closer is not None and collector is not None and not isinstance(collector, Collector):
            await _close_with(closer)
        if client is not None:
            await _close(client)

    def request_discovery(self) -> None:
        if self.collector is not None:
            self.collector.request_discovery()

    async def close(self) -> None:
        await self.reset_connection()


async def _close_with(closer: Callable[[], Any]) -> None:
    try:
        result = closer()
        if hasattr(result, "__await__"):
            await result
    except Exception:  # the connections may already be gone
        pass


async def _close(client: Any) -> None:
    with contextlib.suppress(Exception):  # closing a broken connection may fail too
        await client.aclose()
