"""The lessons view of `streamtop demo`: the tutorial one step at a time, docked at the right of
the dashboard so what it asks you to watch stays on screen. Each lesson: one sentence, the key to
press, what to watch, the Redis command behind it, and two marks: done (✓) once the server shows
that the learner's own action made it happen, seen (~) once the server shows it whoever caused it
(demo.lessons.LessonTracker decides both from server state; this view only reads them).

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
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from streamtop.pipeline import render

from ..demo.lessons import LESSONS, Lesson

REFRESH_SECONDS = 0.5


class LessonsController(Protocol):
    """What the view asks of the demo controller (streamtop.demo.workload.DemoController)."""

    def lessons_done(self) -> frozenset[int]: ...
    def lessons_seen(self) -> frozenset[int]: ...
    def lesson_confirming(self) -> bool: ...
    def lesson_last_id(self) -> str: ...
    def run_lesson_step(self, step: str, value: str | None = None) -> tuple[bool, str]: ...


TICK = "✓"  # done: the learner's own action, as the server shows
SEEN = "~"  # seen: the server showed it, whoever caused it (the workload, mostly)
NOT_YET = "·"


def mark(number: int, done: set[int], seen: set[int]) -> str:
    return TICK if number in done else SEEN if number in seen else NOT_YET


def lesson_text(lesson: Lesson, done: bool, seen: bool = False) -> Text:
    """The body of one lesson (all plain data: Text, never markup)."""
    out = Text()
    out.append(f"Lesson {lesson.number} of {len(LESSONS)}  ", style="dim")
    if done:
        out.append(f"{TICK} done: the server shows your action\n", style="bold green")
    elif seen:
        out.append(f"{SEEN} seen (the workload did it): now you\n", style="yellow")
    else:
        out.append(f"{NOT_YET} not done yet\n", style="yellow")
    out.append(lesson.title + "\n", style="bold")
    out.append(lesson.sentence + "\n")
    for label, value in (("do", lesson.key), ("watch", lesson.watch), ("redis", lesson.command)):
        out.append(f"{label:>5} ", style="bold cyan")
        out.append(value + "\n", style="italic" if label == "redis" else "")
    out.rstrip()
    return out


def lesson_list(current: int, done: set[int], seen: set[int] | None = None) -> Text:
    """All lessons on one line: number and mark, the current one highlighted."""
    seen = seen or set()
    out = Text()
    for lesson in LESSONS:
        n = lesson.number
        style = "reverse" if n == current else ("green" if n in done else "yellow" if n in seen else "")
        out.append(f"{n}{mark(n, done, seen)}", style=style)
        out.append(" ")
    return out


class LessonsPanel(Vertical, can_focus=True):
    """One lesson at a time; left/right (or n/b) change it, r (and m) run its steps, esc closes."""

    DEFAULT_CSS = """
    LessonsPanel { dock: right; width: 58; height: 1fr; border: round $success; padding: 0 1;
                   background: $surface; }
    LessonsPanel.-narrow { width: 44; }
    LessonsPanel:focus-within { border: round $accent; }
    LessonsPanel > VerticalScroll { height: 1fr; scrollbar-size-vertical: 1; }
    LessonsPanel #lesson-body { height: auto; }
    LessonsPanel #lesson-id { display: none; height: 3; }
    LessonsPanel #lesson-output { height: auto; }
    LessonsPanel > #lesson-list { height: auto; color: $text-muted; }
    LessonsPanel > #lesson-hint { color: $text-muted; height: auto; }
    """
    BINDINGS = [
        Binding("right,n", "step(1)", "next lesson"),
        Binding("left,b", "step(-1)", "previous lesson"),
        Binding("r", "run_step", "run the step"),
        Binding("m", "run_m_step", "run the second step", show=False),
        Binding("y", "confirm", "confirm the previewed step", show=False),
        Binding("up", "scroll_lesson(-1)", "scroll the lesson", show=False),
        Binding("down", "scroll_lesson(1)", "scroll the lesson", show=False),
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
        with VerticalScroll(id="lesson-scroll"):
            yield Static("", id="lesson-body")
            yield Input(placeholder="an ID: <ms>-<seq>, then enter", id="lesson-id")
            yield Static("", id="lesson-output")
        yield Static("", id="lesson-list")
        yield Static("←→ lesson  r m run  ↑↓ scroll  esc close", id="lesson-hint")

    def on_mount(self) -> None:
        self.show()
        self.set_interval(REFRESH_SECONDS, self.refresh_ticks)

    def show(self) -> None:
        """Render the current lesson; the manual-ID lesson gets its field, prefilled with the
        last ID (not greater than the last: the server will refuse it, which is the point)."""
        self.output = Text()
        shown = self.query_one("#lesson-output", Static)
        shown.update(self.output)
        self.call_after_refresh(shown.scroll_visible, animate=False)
        field = self.query_one("#lesson-id", Input)
        field.display = self.lesson.step == "manual"
        if field.display:
            self._prefill()
        self.refresh_ticks()
        scroll = self.query_one("#lesson-scroll", VerticalScroll)
        self.call_after_refresh(scroll.scroll_home, animate=False)  # a new lesson from its first line

    def refresh_ticks(self) -> None:
        done = set(self.controller.lessons_done())
        seen = set(self.controller.lessons_seen()) - done
        body = lesson_text(self.lesson, self.number in done, self.number in seen)
        self.query_one("#lesson-body", Static).update(body)
        self.query_one("#lesson-list", Static).update(lesson_list(self.number, done, seen))
        self.border_subtitle = f"{TICK} {len(done)} done · {SEEN} {len(seen)} seen"

    def action_scroll_lesson(self, delta: int) -> None:
        self.query_one("#lesson-scroll", VerticalScroll).scroll_relative(y=delta, animate=False)

    def action_step(self, delta: int) -> None:
        self._cancel()
        self.number = (self.number - 1 + delta) % len(LESSONS) + 1
        self.show()

    def go(self, number: int) -> None:
        self._cancel()
        self.number = max(1, min(len(LESSONS), number))
        self.show()

    def _cancel(self) -> None:
        """A previewed step not confirmed is dropped when the learner moves on."""
        if self.controller.lesson_confirming():
            self._run("cancel", None)

    class Closed(Message):
        """esc in the lessons view: the demo app removes it (DemoApp.on_lessons_panel_closed)."""

    def action_close(self) -> None:
        """esc: out of the ID field back to the lesson; a preview waiting for y is cancelled;
        else the lessons close (F9 reopens them at this lesson)."""
        field = self.query_one("#lesson-id", Input)
        if field.has_focus:
            self.focus()
            return
        if self.controller.lesson_confirming():
            self._run("cancel", None)
            return
        self.post_message(self.Closed())

    def action_confirm(self) -> None:
        if self.controller.lesson_confirming():
            self._run("confirm", None)
        else:
            self._say(False, "nothing to confirm: r (or m) shows a preview first")

    def action_run_step(self) -> None:
        step = self.lesson.step
        if step == "manual":
            field = self.query_one("#lesson-id", Input)
            field.focus()
            self._prefill()  # the last ID as it is now
            self._say(True, "type an ID (it starts at the last one), enter sends it, esc leaves the field")
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
        """Each line of the result escaped as data (server text), the lines kept as lines."""
        style = "green" if ok else "bold red"
        self.output = Text("\n").join(render.text(line, style=style) for line in message.split("\n"))
        shown = self.query_one("#lesson-output", Static)
        shown.update(self.output)
        self.call_after_refresh(shown.scroll_visible, animate=False)
