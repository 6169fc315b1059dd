"""A recording as a PollSource (streamtop.pipeline.source): its polls handed out one a poll, in order.

The session (streamtop.monitor.Monitor) polls it as it would a server: the History is fed each
poll as live, the app draws them in turn. A file still being written grows under it (`refresh`).
`streamtop replay` keeps its own cursor (record.session.ReplaySession: back, jumps, events);
this is the forward-only feed for tests, benches and anything that wants the snapshots as a
session gets them.
"""

from __future__ import annotations

from pathlib import Path

from streamtop.pipeline.model import Snapshot
from streamtop.pipeline.source import WaitHook, Wants

from .reader import Recording


class RecordingSource:
    """The polls of a recording (a path is opened here and closed by `aclose`), from `start`."""

    def __init__(self, recording: Recording | str | Path, start: int = 0) -> None:
        self._owned = not isinstance(recording, Recording)
        self.rec = recording if isinstance(recording, Recording) else Recording(recording)
        self.index = start  # the next poll to hand out

    def want(self, wants: Wants, on_wait: WaitHook | None = None) -> None:
        return None  # every recorded stream is in every poll: nothing to choose

    async def poll(self) -> Snapshot | None:
        if self.index >= len(self.rec):
            self.rec.refresh()
        if self.index >= len(self.rec):
            return None
        snap = self.rec.snapshot(self.index)
        self.index += 1
        return snap

    def request_discovery(self) -> None:
        return None

    async def aclose(self) -> None:
        if self._owned:
            self.rec.close()
