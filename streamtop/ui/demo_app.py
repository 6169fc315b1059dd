"""The dashboard as `streamtop demo` runs it: the demo keys at app level, the first view on group1
of app:event with its pending entries (the group the guide line talks about), the lessons (F9)
and the command log (`L`, a tab of the lower band).

A subclass rather than edits to app.py, so the demo's additions stay in one place.
"""

from __future__ import annotations

from textual.widgets import TabPane

from streamtop.pipeline.model import Snapshot

from ..demo.workload import GROUP, STREAM
from .app import StreamtopApp
from .command_log import CommandLogPanel, poll_summary
from .demo_panel import demo_bindings, forward_demo_key
from .lessons import LessonsPanel

LOG_TAB = "log-tab"
LESSONS_NARROW_BELOW = 140  # columns under which the lessons view is narrower (44, not 58)...
LESSONS_HIDE_DETAIL_BELOW = 140  # ... and the Stream panel makes way for it
LESSONS_HIDE_SIDES_BELOW = 120  # ... and the Consumers panel too: Streams, Groups keep their columns


class DemoApp(StreamtopApp):
    """Opens on group1 once the first snapshot that has it arrives (once: afterwards the user's
    selection is left alone). Textual merges these BINDINGS with StreamtopApp's."""

    BINDINGS = demo_bindings()
    CSS = """
    MainScreen.-lessons-mid StreamDetail { display: none; }
    MainScreen.-lessons-narrow StreamDetail, MainScreen.-lessons-narrow ConsumersPanel { display: none; }
    """

    demo_opened = False
    start_lesson: int | None = None  # `streamtop demo --lesson N`
    lesson_number = 1  # where the learner was when the lessons closed: F9 reopens there

    def on_mount(self) -> None:  # Textual calls the base class's on_mount as well
        if self.start_lesson:
            self.call_after_refresh(self.open_lessons, self.start_lesson)
        if self.demo is not None and getattr(self.demo, "command_log", None) is not None:
            self.call_after_refresh(self._add_log_tab)

    def action_demo(self, action: str) -> None:
        forward_demo_key(self, action)

    # the command log ------------------------------------------------------------------------
    def _add_log_tab(self) -> None:
        lower = self.main.lower
        if self.demo is None or not lower.is_attached or lower.query(f"#{LOG_TAB}"):
            return
        lower.add_pane(TabPane("Commands (L)", CommandLogPanel(self.demo, id="command-log"), id=LOG_TAB))

    def show_command_log(self) -> None:
        """`L`: the Commands tab, focused (scroll with the arrows; select text to copy)."""
        if not self.main.lower.query(f"#{LOG_TAB}"):
            return
        self.main.minimize()
        self.main.show_tab(LOG_TAB)
        found = self.main.query(CommandLogPanel)
        if found:
            found.first().focus()

    # the lessons view -----------------------------------------------------------------------
    def lessons_panel(self) -> LessonsPanel | None:
        found = self.screen.query(LessonsPanel)
        return found.first() if found else None

    def open_lessons(self, number: int | None = None) -> None:
        panel = self.lessons_panel()
        if panel is None:
            if self.demo is None:  # a DemoApp without its workload (a test's): no lessons
                return
            panel = LessonsPanel(self.demo, number or self.lesson_number)
            body = self.screen.query("#body")  # beside the panels, under the header
            (body.first() if body else self.screen).mount(panel)
            self._fit_lessons(panel)
        elif number is not None:
            panel.go(number)
        panel.focus()

    def close_lessons(self) -> None:
        panel = self.lessons_panel()
        if panel is not None:
            self.lesson_number = panel.number
            panel.remove()
            self._fit_lessons(None)
            self.main.back()

    def on_lessons_panel_closed(self, _message: LessonsPanel.Closed) -> None:
        self.close_lessons()

    def toggle_lessons(self) -> None:
        if self.lessons_panel() is None:
            self.open_lessons()
        else:
            self.close_lessons()

    def on_resize(self) -> None:
        self._fit_lessons(self.lessons_panel())

    def _fit_lessons(self, panel: LessonsPanel | None) -> None:
        """Beside the lessons, the side panels make way at narrower widths so that Streams,
        Groups and Pending keep readable columns (F9 hides the lessons to see them again)."""
        width = self.size.width
        if panel is not None:
            panel.set_class(width < LESSONS_NARROW_BELOW, "-narrow")
        self.main.set_class(panel is not None and width < LESSONS_HIDE_DETAIL_BELOW, "-lessons-mid")
        self.main.set_class(panel is not None and width < LESSONS_HIDE_SIDES_BELOW, "-lessons-narrow")

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        super().apply_snapshot(snapshot)
        log = getattr(self.demo, "command_log", None)
        if log is not None:
            log.poll(poll_summary(snapshot))
        if self.demo_opened or not self._live_widgets():
            return
        stream = snapshot.stream(STREAM.encode())
        if stream is not None and stream.group(GROUP.encode()) is not None:
            self.demo_opened = True
            self.select(STREAM.encode(), GROUP.encode())
            self.main.show_tab("pending-tab")
