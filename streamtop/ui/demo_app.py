"""The dashboard as `streamtop demo` runs it: the demo keys at app level, and the first view on
group1 of app:event with its pending entries, the group the guide line talks about.

A subclass rather than edits to app.py, so the demo's additions stay in one place.
"""

from __future__ import annotations

from ..demo.workload import GROUP, STREAM
from ..model import Snapshot
from .app import StreamtopApp
from .demo_panel import demo_bindings, forward_demo_key
from .lessons import LessonsPanel


class DemoApp(StreamtopApp):
    """Opens on group1 once the first snapshot that has it arrives (once: afterwards the user's
    selection is left alone). Textual merges these BINDINGS with StreamtopApp's."""

    BINDINGS = demo_bindings()

    demo_opened = False
    start_lesson: int | None = None  # `streamtop demo --lesson N`

    def on_mount(self) -> None:  # Textual calls the base class's on_mount as well
        if self.start_lesson:
            self.call_after_refresh(self.open_lessons, self.start_lesson)

    def action_demo(self, action: str) -> None:
        forward_demo_key(self, action)

    # the lessons view -----------------------------------------------------------------------
    def lessons_panel(self) -> LessonsPanel | None:
        found = self.screen.query(LessonsPanel)
        return found.first() if found else None

    def open_lessons(self, number: int | None = None) -> None:
        panel = self.lessons_panel()
        if panel is None:
            if self.demo is None:  # a DemoApp without its workload (a test's): no lessons
                return
            panel = LessonsPanel(self.demo, number or 1)
            body = self.screen.query("#body")  # beside the panels, under the header
            (body.first() if body else self.screen).mount(panel)
        elif number is not None:
            panel.go(number)
        panel.focus()

    def close_lessons(self) -> None:
        panel = self.lessons_panel()
        if panel is not None:
            panel.remove()
            self.main.back()

    def on_lessons_panel_closed(self, _message: LessonsPanel.Closed) -> None:
        self.close_lessons()

    def toggle_lessons(self) -> None:
        if self.lessons_panel() is None:
            self.open_lessons()
        else:
            self.close_lessons()

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        super().apply_snapshot(snapshot)
        if self.demo_opened or not self._live_widgets():
            return
        stream = snapshot.stream(STREAM.encode())
        if stream is not None and stream.group(GROUP.encode()) is not None:
            self.demo_opened = True
            self.select(STREAM.encode(), GROUP.encode())
            self.main.show_tab("pending-tab")
