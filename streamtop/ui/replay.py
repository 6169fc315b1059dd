"""`streamtop replay FILE`: the dashboard on a recording (issue 30).

The same app and screen as live, fed by a ReplaySession (streamtop.record.session) in place of the
Monitor: the UI only renders snapshots. The header shows the cursor (the moment on screen, the
file's span, the speed, playing or paused). Keys of the replay's own (listed on the help line of the
header's tooltip and in docs/record.md): `,` `.` one poll back / on; `<` `>` a minute; `n` / `N` the
next / previous event; `G` go to a typed time; `p` play / pause; `+` / `-` the speed (1x, 10x,
60x); `space` one poll on. Every key that would write to the server is refused: "replay is
read-only". What was never recorded (entry bodies, the pending pages) says so where it would be.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from streamtop.pipeline.model import Focus, Snapshot
from streamtop.pipeline.source import ListSource

from ..monitor import Monitor
from ..options import SessionOptions
from ..record.moments import MomentError, parse_moment
from ..record.session import ReplaySession, clock
from .app import StreamtopApp
from .header import HeaderInfo
from .registry import find

PLAY_TICK = 0.1  # seconds between two steps of play
NOT_RECORDED = "entry bodies are not recorded: a replay shows the streams, groups and consumers"
PENDING_NOT_RECORDED = "the pending entries page is not recorded: the group's summary is above"

REPLAY_KEYS = (
    (",", "replay_step(-1)", "one poll back"),
    (".", "replay_step(1)", "one poll on"),
    ("<", "replay_jump(-60)", "a minute back"),
    (">", "replay_jump(60)", "a minute on"),
    ("n", "replay_event(1)", "the next event"),
    ("N", "replay_event(-1)", "the previous event"),
    ("G", "replay_goto", "go to a time"),
)
_NAMES = {",": "comma", ".": "full_stop", "<": "less_than_sign", ">": "greater_than_sign"}


class GotoScreen(ModalScreen[str | None]):
    """One line: the moment to go to, as `status --at` takes it."""

    DEFAULT_CSS = """
    GotoScreen { align: center middle; }
    GotoScreen > Vertical { width: 70; height: auto; border: round $accent; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("go to (03:12, 03:12:04, 2026-12-07T03:12:04, -5m, +10m, start, end):")
            yield Input(id="goto-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class ReplayApp(StreamtopApp):
    """The dashboard with a ReplaySession for a Monitor: read-only, driven by the cursor keys."""

    BINDINGS = [Binding(_NAMES.get(k, k), action, desc, show=False) for k, action, desc in REPLAY_KEYS]
    POLL_LOOP = False  # the cursor keys and play move the screen

    def __init__(self, session: ReplaySession, *, start: float | None = None, **kwargs: Any) -> None:
        # the cursor moves the screen: the session only holds the url and the read-only guard
        idle = Monitor(None, SessionOptions(read_only=True), source=ListSource(), url=session.rec.url)
        super().__init__(idle, read_only=True, **kwargs)
        self.replay = session
        self.history = session.history  # the screen reads the session's History
        self._start = start
        self._played_at: float | None = None

    def on_mount(self) -> None:
        super().on_mount()
        rec = self.replay.rec
        first = self._start if self._start is not None else (rec.span[1] if rec.span else None)
        if first is not None:
            self._show(self.replay.goto(first))
        self.set_interval(PLAY_TICK, self._play_tick)

    # showing -------------------------------------------------------------------------------

    def _show(self, snap: Snapshot | None) -> None:
        if snap is not None:
            self.apply_snapshot(snap)
        self.render_header()

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        super().apply_snapshot(snapshot)
        self._say_not_recorded()

    def focus_changed(self, focus: Focus | None, poll: bool = True) -> None:
        """Another selection: the panels draw it, then say again what was not recorded."""
        super().focus_changed(focus, poll=False)
        self.call_after_refresh(self._say_not_recorded)

    def _say_not_recorded(self) -> None:
        """What a recording never holds says so (the panels redraw their line on every
        selection: checked again at each play tick, written only when it changed)."""
        with contextlib.suppress(NoMatches, RuntimeError):
            lines = [("#messages-info", NOT_RECORDED)]
            if self.main.selection.group is not None:
                lines.append(("#pending-info", PENDING_NOT_RECORDED))
            for widget_id, text in lines:
                static = self.main.query_one(widget_id, Static)
                if str(static.render()) != text:
                    static.update(text)

    def header_info(self) -> HeaderInfo:
        base = super().header_info()
        return replace(base, state="replay", cursor=self.replay.cursor_text(), read_only=True)

    # keys ----------------------------------------------------------------------------------

    def action_replay_step(self, polls: int) -> None:
        self._stop_playing()
        self._show(self.replay.step(polls))

    def action_replay_jump(self, seconds: float) -> None:
        self._stop_playing()
        self._show(self.replay.jump(seconds))

    def action_replay_event(self, direction: int) -> None:
        found = self.replay.event(direction)
        if found is None:
            self.notify(f"no {'later' if direction > 0 else 'earlier'} event in the recording", timeout=3)
            return
        events, snap = found
        self._stop_playing()
        self._show(snap)
        self.notify("\n".join(f"{clock(e.t)} {e.text}" for e in events[:8]), timeout=8)

    def action_replay_goto(self) -> None:
        def go(text: str | None) -> None:
            if not text:
                return
            span = self.replay.rec.span
            try:
                t = parse_moment(text, *(span if span else (None, None)))
            except MomentError as exc:
                self.notify(str(exc), severity="error", timeout=6)
                return
            self._stop_playing()
            self._show(self.replay.goto(t))

        self.push_screen(GotoScreen(), go)

    def action_pause(self) -> None:
        """`p`: play / pause."""
        self.replay.playing = not self.replay.playing
        self._played_at = time.monotonic() if self.replay.playing else None
        self.render_header()

    def action_poll_now(self) -> None:
        """`space`: one poll on."""
        self.action_replay_step(1)

    def action_slower(self) -> None:
        """`+` (live: a longer interval): play faster."""
        self.replay.speed_step(1)
        self.render_header()

    def action_faster(self) -> None:
        """`-` (live: a shorter interval): play slower."""
        self.replay.speed_step(-1)
        self.render_header()

    def open_action(self, name: str) -> None:
        """Every key that would change the server is refused; the rest open as live."""
        command = find(name)
        if command is not None and command.writes:
            self.notify(
                f"replay is read-only: {command.label.lower()} ({command.keys[0]}) refused",
                severity="warning",
                timeout=4,
            )
            return
        super().open_action(name)

    def _stop_playing(self) -> None:
        self.replay.playing = False
        self._played_at = None

    def _play_tick(self) -> None:
        self._say_not_recorded()
        if not self.replay.playing:
            return
        now = time.monotonic()
        elapsed = now - (self._played_at or now)
        self._played_at = now
        snap = self.replay.advance(elapsed * self.replay.speed)
        if snap is not None:
            self.apply_snapshot(snap)
        self.render_header()
