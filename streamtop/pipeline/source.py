"""Where a session's snapshots come from: the `PollSource` protocol (docs/internals-session.md).

A session (streamtop.monitor.Monitor) polls one source and keeps what a dashboard needs around it
(the History, live / stale / not answering, the backoff). The sources:

- a server's collector, standalone (`collector.Collector`) or cluster (`cluster.ClusterCollector`),
  made by `session.make_collector` when the session connects;
- `ListSource`: snapshots made elsewhere, handed out one a poll (tests, screenshots, benches);
- a recording's polls (`streamtop.record.source.RecordingSource`);
- (later) a remote hub's snapshots, for `streamtop --attach URL`.

Plain data and a protocol: this module imports nothing of streamtop but the model, so any layer
(and a source living outside the poll pipeline) may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from streamtop.pipeline.model import Focus, Snapshot

WaitHook = Callable[[bool], None]  # told True when a round trip to the server starts, False at its end


@dataclass(frozen=True, slots=True)
class Wants:
    """What the next poll must read, as the screen (or the exporter) says: handed to the source
    before every poll, in one value."""

    focus: Focus | None = None  # the stream (and group) shown in detail: its pages ride along
    visible: frozenset[bytes] = frozenset()  # the rows on screen: read in full each poll
    follow_screen: bool = False  # only what is on screen in full, the rest as summaries (issue 17)
    everything_visible: bool = False  # no screen (serve): every stream in full, within the budget
    interval: float = 1.0  # seconds between polls, for the cadence
    answer_timeout: float = 2.0  # seconds a round trip may go unanswered (a cluster node's deadline)
    one_shot: bool = False  # `status`: no next poll, so a cluster waits a hung node out


class PollSource(Protocol):
    """What a session polls. `poll()` returns the next snapshot, or None when there is nothing
    new since the last one (a list handed out, a hub without a newer one): the session keeps
    what it has. A source may raise connection trouble (OSError, a RedisError): the session
    keeps the screen and retries with backoff."""

    def want(self, wants: Wants, on_wait: WaitHook | None = None) -> None:
        """What the next poll must read; `on_wait` hears each round trip start and end (a source
        that cannot tell ignores it, and the whole poll counts as waiting)."""
        ...

    async def poll(self) -> Snapshot | None: ...

    def request_discovery(self) -> None:
        """Look for new streams at the next poll (the user asked, or a key vanished)."""
        ...

    async def aclose(self) -> None:
        """Release what the source opened (a source borrowing a client leaves it open)."""
        ...


class ListSource:
    """Snapshots made elsewhere, one a poll, in order; after the last, nothing new. `push` adds
    one at the end (a test feeding the dashboard as it goes). Any `Sequence` of snapshots will do."""

    def __init__(self, snapshots: Sequence[Snapshot] = ()) -> None:
        self.snapshots: Sequence[Snapshot] = snapshots
        self._pushed: list[Snapshot] = []
        self.index = 0  # the next one to hand out
        self.wants = Wants()
        self.discoveries = 0  # request_discovery() calls (nothing to discover in a list)

    def __len__(self) -> int:
        return len(self.snapshots) + len(self._pushed)

    def push(self, snapshot: Snapshot) -> None:
        self._pushed.append(snapshot)

    def want(self, wants: Wants, on_wait: WaitHook | None = None) -> None:
        self.wants = wants

    async def poll(self) -> Snapshot | None:
        if self.index >= len(self):
            return None
        i, self.index = self.index, self.index + 1
        n = len(self.snapshots)
        return self.snapshots[i] if i < n else self._pushed[i - n]

    def request_discovery(self) -> None:
        self.discoveries += 1

    async def aclose(self) -> None:
        return None
