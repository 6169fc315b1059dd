"""The replay's session: a cursor over a recording that hands out snapshots and the History as the
live dashboard had them, in place of a Monitor (the UI only renders snapshots).

Stepping forward one poll feeds the History that poll, as live; any other move (back, a jump, a
typed time) rebuilds it from the polls of the health window before the cursor: the verdicts are
as they were, the sparklines start with the window's points and fill up again as the cursor steps
on (a jump draws within 200 ms). A file still being written grows under the cursor: `refresh()`.
"""

from __future__ import annotations

from datetime import datetime

from streamtop.pipeline.health import DEFAULT_WINDOW
from streamtop.pipeline.history import History
from streamtop.pipeline.model import Snapshot

from .reader import Event, Recording

SPEEDS = (1.0, 10.0, 60.0)


def clock(t: float, with_date: bool = False) -> str:
    """A moment as a person reads it (local time)."""
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def _span_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ReplaySession:
    """A cursor on a Recording: `snapshot` and `history` are what the screen shows."""

    def __init__(self, recording: Recording, window: float = DEFAULT_WINDOW) -> None:
        self.rec = recording
        self.window = window
        self.history = History(window)
        self.index: int | None = None
        self.snapshot: Snapshot | None = None
        self.speed = SPEEDS[0]
        self.playing = False
        self._events: list[Event] | None = None

    # moving --------------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Pick up the polls written since (the file is still being recorded)."""
        grew = self.rec.refresh()
        if grew:
            self._events = None
        return grew

    def seek(self, index: int) -> Snapshot | None:
        """Put the cursor on poll `index` (clamped to the file)."""
        if not len(self.rec):
            return None
        index = max(0, min(index, len(self.rec) - 1))
        if index == self.index and self.snapshot is not None:
            return self.snapshot
        if self.index is not None and index == self.index + 1:
            snap = self.rec.snapshot(index)
            self.history.update(snap)
        else:
            fresh = History(self.window)
            self.history.__dict__.update(fresh.__dict__)  # the screen holds this object: reset it
            snap, _ = self.rec.history_until(index, self.window, 0, into=self.history)
        self.index, self.snapshot = index, snap
        return snap

    def step(self, polls: int) -> Snapshot | None:
        if self.index is None:
            return self.seek(len(self.rec) - 1)
        if polls > 0 and self.index + polls >= len(self.rec):
            self.refresh()
        return self.seek(self.index + polls)

    def goto(self, t: float) -> Snapshot | None:
        """The last poll at or before `t` (the first poll when `t` is before it)."""
        index = self.rec.index_at(t)
        return self.seek(0 if index is None else index)

    def jump(self, seconds: float) -> Snapshot | None:
        if self.index is None:
            return self.step(0)
        target = self.rec.times[self.index] + seconds
        if seconds > 0:
            self.refresh()
            index = self.rec.index_at(target)
            # a forward jump moves at least one poll (polls further apart than the jump)
            return self.seek(max(index if index is not None else 0, self.index + 1))
        index = self.rec.index_at(target)
        return self.seek(min(index if index is not None else 0, self.index - 1))

    def events(self) -> list[Event]:
        if self._events is None:
            self._events = self.rec.events()
        return self._events

    def event(self, direction: int) -> tuple[list[Event], Snapshot | None] | None:
        """Jump to the poll of the next (1) or previous (-1) event: a verdict change, an outage, an
        action, a group or consumer appearing or leaving. Every event of that poll is returned
        with its snapshot; None when there is none that way."""
        if self.index is None:
            return None
        if direction > 0:
            self.refresh()

        def poll_of(e: Event) -> int:
            at = self.rec.index_at(e.t)
            return 0 if at is None else at

        for e in self.events() if direction > 0 else reversed(self.events()):
            at = poll_of(e)
            if (direction > 0 and at > self.index) or (direction < 0 and at < self.index):
                return [x for x in self.events() if poll_of(x) == at], self.seek(at)
        return None

    def advance(self, seconds: float) -> Snapshot | None:
        """Play: every poll up to `seconds` of recorded time later, each fed to the History in
        turn (as live); the last one is returned (None: nothing new yet)."""
        if self.index is None:
            return self.step(0)
        target = self.rec.times[self.index] + seconds
        if self.index + 1 >= len(self.rec):
            self.refresh()
        snap = None
        while self.index + 1 < len(self.rec) and self.rec.times[self.index + 1] <= target:
            snap = self.seek(self.index + 1)
        return snap

    # what the header says ------------------------------------------------------------------

    @property
    def moment(self) -> float | None:
        return None if self.index is None else self.rec.times[self.index]

    def cursor_text(self) -> str:
        """'03:12:04, poll 812 of 3600 (02:00:00 to 03:00:00, 1 h), 10x, playing'."""
        span = self.rec.span
        if span is None or self.index is None:
            return "no poll recorded yet"
        first, last = span
        state = f"{self.speed:g}x, " + ("playing" if self.playing else "paused")
        text = (
            f"{clock(self.rec.times[self.index], with_date=True)}, poll {self.index + 1} of {len(self.rec)} "
            f"({clock(first)} to {clock(last)}, {_span_text(last - first)}), {state}"
        )
        outage = self.rec.outage_at(self.rec.times[self.index] + 1e-3)
        if outage is not None:
            text += f"; server {outage[1]} since {clock(outage[0])}"
        return text

    def speed_step(self, step: int) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, i + step))]
