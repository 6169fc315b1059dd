"""The lessons view of `streamtop demo`: the tutorial one step at a time, docked at the right of
the dashboard so what it asks you to watch stays on screen. Each lesson: one sentence, the key to
press, what to watch, the Redis command behind it, and a tick once the server shows it happened
(demo.lessons.LessonTracker decides that from server state; this view only reads its ticks).

Steps the view runs itself (`r`, `m`, or enter in the ID field) go through the demo controller,
the object that drives the workload, in a thread: no Redis call is made here and the screen
never waits on the server. From demo.lessons the view reads only the lessons' text.
"""

from __future__ import annotations

from typing import Any, Protocol

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from .. import render
from ..demo.lessons import LESSONS, Lesson

REFRESH_SECONDS = 0.5


class LessonsController(Protocol):
    """What the view asks of the demo controller (streamtop.demo.workload.DemoController)."""

    def lessons_seen(self) -> frozenset[int]: ...
    def lesson_last_id(self) -> str: ...
    def run_lesson_step(self, step: str, value: str | None = None) -> tuple[bool, str]: ...


TICK = "✓"


def lesson_text(lesson: Lesson, done: bool) -> Text:
    """The body of one lesson (all plain data: Text, never markup)."""
    out = Text()
    out.append(f"Lesson {lesson.number} of {len(LESSONS)}\n", style="dim")
    out.append(lesson.title, style="bold")
    out.append(
        f"  {TICK} seen on the server\n" if done else "  · not seen yet\n",
        style="bold green" if done else "yellow",
    )
    out.append("\n" + lesson.sentence + "\n\n")
    for label, value in (("press", lesson.key), ("watch", lesson.watch), ("redis", lesson.command)):
        out.append(f"{label:>6}  ", style="bold cyan")
        out.append(value + "\n", style="italic" if label == "redis" else "")
    return out


def lesson_list(current: int, ticked: set[int]) -> Text:
    """All lessons on one line: number and tick, the current one highlighted."""
    out = Text("lessons ", style="dim")
    for lesson in LESSONS:
        mark = TICK if lesson.number in ticked else "·"
        style = "reverse" if lesson.number == current else ("green" if lesson.number in ticked else "")
        out.append(f"{lesson.number}{mark}", style=style)
        out.append(" ")
    return out


class LessonsPanel(Vertical, can_focus=True):
    """One lesson at a time; left/right (or n/b) change it, r (and m) run its steps, esc closes."""

    DEFAULT_CSS = """
    LessonsPanel { dock: right; width: 58; height: 1fr; border: round $success; padding: 0 1;
                   background: $surface; }
    LessonsPanel:focus-within { border: round $accent; }
    LessonsPanel > #lesson-body { height: auto; }
    LessonsPanel > #lesson-id { display: none; margin: 1 0 0 0; }
    LessonsPanel > #lesson-output { height: auto; margin: 1 0 0 0; }
    LessonsPanel > #lesson-list { height: auto; margin: 1 0 0 0; color: $text-muted; }
    LessonsPanel > #lesson-hint { color: $text-muted; dock: bottom; }
    """
    BINDINGS = [
        Binding("right,n", "step(1)", "next lesson"),
        Binding("left,b", "step(-1)", "previous lesson"),
        Binding("r", "run_step", "run the step"),
        Binding("m", "run_m_step", "run the second step", show=False),
        Binding("escape", "close", "close lessons"),
    ]

    def __init__(self, controller: LessonsController, number: int = 1, **kwargs: Any) -> None:
        super().__init__(id="lessons", **kwargs)
        self.controller = controller
        self.number = max(1, min(len(LESSONS), number))
        self.border_title = "lessons"
        self.output: Text = Text()

    @property
    def lesson(self) -> Lesson:
        return LESSONS[self.number - 1]

    def compose(self) -> ComposeResult:
        yield Static("", id="lesson-body")
        yield Input(placeholder="an ID: <ms>-<seq>", id="lesson-id")
        yield Static("", id="lesson-output")
        yield Static("", id="lesson-list")
        yield Static("←/→ lesson · r (m) run the step · esc close · F9 hide", id="lesson-hint")

    def on_mount(self) -> None:
        self.show()
        self.set_interval(REFRESH_SECONDS, self.refresh_ticks)

    def show(self) -> None:
        """Render the current lesson; the manual-ID lesson gets its field, prefilled with the
        last ID (not greater than the last: the server will refuse it, which is the point)."""
        self.output = Text()
        self.query_one("#lesson-output", Static).update(self.output)
        field = self.query_one("#lesson-id", Input)
        field.display = self.lesson.step == "manual"
        if field.display:
            self._prefill()
        self.refresh_ticks()

    def refresh_ticks(self) -> None:
        ticked = set(self.controller.lessons_seen())
        self.query_one("#lesson-body", Static).update(lesson_text(self.lesson, self.number in ticked))
        self.query_one("#lesson-list", Static).update(lesson_list(self.number, ticked))
        self.border_subtitle = f"{len(ticked)} of {len(LESSONS)} seen"

    def action_step(self, delta: int) -> None:
        self.number = (self.number - 1 + delta) % len(LESSONS) + 1
        self.show()

    def go(self, number: int) -> None:
        self.number = max(1, min(len(LESSONS), number))
        self.show()

    class Closed(Message):
        """esc in the lessons view: the demo app removes it (DemoApp.on_lessons_panel_closed)."""

    def action_close(self) -> None:
        self.post_message(self.Closed())

    def action_run_step(self) -> None:
        step = self.lesson.step
        if step == "manual":
            self.query_one("#lesson-id", Input).focus()
        elif step is not None:
            self._run(step, None)
        else:
            self._say(False, f"no step to run here: {self.lesson.key}")

    def action_run_m_step(self) -> None:
        if self.lesson.m_step is not None:
            self._run(self.lesson.m_step, None)
        else:
            self._say(False, f"no m step here: {self.lesson.key}")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._run("manual", event.value)

    @work(thread=True, exclusive=True, group="lesson-step")
    def _run(self, step: str, value: str | None) -> None:
        ok, message = self.controller.run_lesson_step(step, value)
        self.app.call_from_thread(self._say, ok, message)

    @work(thread=True, exclusive=True, group="lesson-prefill")
    def _prefill(self) -> None:
        last = self.controller.lesson_last_id()
        self.app.call_from_thread(self._set_field, last)

    def _set_field(self, value: str) -> None:
        field = self.query_one("#lesson-id", Input)
        field.value = value

    def _say(self, ok: bool, message: str) -> None:
        self.output = render.text(message, style="green" if ok else "bold red")  # server text: data
        self.query_one("#lesson-output", Static).update(self.output)
