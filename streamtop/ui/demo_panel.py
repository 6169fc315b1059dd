"""The demo panel: the workload's workers and their state, a guide line, and the keys that drive
the workload (pause the producer, change the rate, add, stop or crash a consumer).

The keys are F-keys so they never clash with the dashboard's letters; the panel only talks to the
`DemoController` (no Redis call here: the controller's own observer thread does the XPENDING).
`with_demo_keys` gives the host app the same keys wherever the focus is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.notifications import SeverityLevel
from textual.widgets import DataTable, Static

from streamtop.pipeline.render import clean, name_text, text

from ..commandlog import CommandLog
from ..demo.base import WorkerState
from ..demo.pubsub import AwayRun
from ..demo.workload import MAX_RATE, MIN_STEP_RATE

REFRESH_SECONDS = 0.5

# key, action, description: the one list for the bindings, the panel's key line and the help
DEMO_KEYS: tuple[tuple[str, str, str], ...] = (
    ("f2", "toggle_producer", "pause/resume producer"),
    ("f3", "slower", "rate ÷2"),
    ("f4", "faster", "rate ×2"),
    ("f5", "add_consumer", "add consumer"),
    ("f6", "stop_consumer", "stop consumer"),
    ("f7", "crash_consumer", "crash consumer"),
    ("f8", "away", "sub1,audit1,reader1 away"),
    ("f9", "lessons", "lessons"),
    ("L", "command_log", "command log: what streamtop sent"),
)
# the panel's key line: short, so that it fits 80 columns on one line
KEY_WORDS = {
    "toggle_producer": "pause",
    "slower": "rate÷2",
    "faster": "×2",
    "add_consumer": "add",
    "stop_consumer": "stop",
    "crash_consumer": "crash",
    "away": "away",
    "lessons": "lessons",
    "command_log": "log",
}
COMPACT_BELOW = 40  # terminal rows under which the panel is its guide and key lines only
COLUMNS = ("worker", "group", "state", "processed", "failed", "retried", "dead-lettered", "note")
STATE_STYLE = {
    "running": "green",
    "paused": "yellow",
    "stopping": "yellow",
    "stopped": "dim",
    "crashed": "bold red",
    "error": "red",
}


_T = TypeVar("_T")


class Controller(Protocol):
    """What the panel needs from streamtop.demo.workload.DemoController."""

    @property
    def rate(self) -> float: ...
    @property
    def command_log(self) -> CommandLog: ...

    def workers(self) -> list[WorkerState]: ...
    def guide(self) -> str: ...
    def toggle_producer(self) -> bool: ...
    def set_rate(self, rate: float) -> float: ...
    def add_consumer(self) -> str: ...
    def stop_consumer(self, name: str | None = None) -> str: ...
    def crash_consumer(self, name: str | None = None) -> str: ...
    def go_away(self, seconds: float | None = None) -> AwayRun: ...
    # the lessons view's (ui/lessons.py LessonsController)
    def lessons_done(self) -> frozenset[int]: ...
    def lessons_seen(self) -> frozenset[int]: ...
    def lesson_confirming(self) -> bool: ...
    def lesson_last_id(self) -> str: ...
    def run_lesson_step(self, step: str, value: str | None = None) -> tuple[bool, str]: ...


def keys_line() -> str:
    return " ".join(f"{key.upper()} {KEY_WORDS.get(action, desc)}" for key, action, desc in DEMO_KEYS)


class DemoPanel(Vertical):
    """Workers, guide line, keys. With the worker table focused, F6/F7 act on the selected row."""

    DEFAULT_CSS = """
    DemoPanel { height: auto; max-height: 16; border: round $primary 50%; padding: 0 1;
                border-title-color: $text; }
    DemoPanel:focus-within { border: round $accent; }
    DemoPanel > #demo-compare { color: $warning; }
    DemoPanel > #demo-guide { color: $text; text-style: bold; }
    DemoPanel > DataTable { height: auto; max-height: 9; }
    DemoPanel > #demo-keys { color: $text-muted; height: 1; }
    DemoPanel.-compact { border: none; padding: 0; }
    DemoPanel.-compact > DataTable { display: none; }
    DemoPanel.-compact > #demo-guide { height: 1; text-overflow: ellipsis; text-wrap: nowrap; }
    DemoPanel.-compact > #demo-compare { height: 1; text-overflow: ellipsis; text-wrap: nowrap; }
    """
    BINDINGS = [Binding(key, action, desc, show=False) for key, action, desc in DEMO_KEYS]

    def __init__(self, controller: Controller, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.controller = controller
        self.border_title = "demo"

    def compose(self) -> ComposeResult:
        yield Static("", id="demo-guide")
        yield Static("", id="demo-compare")  # pub/sub vs stream, after F8
        table: DataTable[object] = DataTable(id="demo-workers", cursor_type="row", zebra_stripes=False)
        table.add_columns(*COLUMNS)
        yield table
        yield Static(keys_line(), id="demo-keys")

    def on_mount(self) -> None:
        self.refresh_from_controller()
        self.set_interval(REFRESH_SECONDS, self.refresh_from_controller)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Under the dashboard (beside its #body) on a short terminal: the guide and keys only."""
        beside = bool(self.screen.query("#body")) if self.is_attached else False
        self.set_class(beside and self.app.size.height < COMPACT_BELOW, "-compact")

    def refresh_from_controller(self) -> None:
        self._fit()
        self.query_one("#demo-guide", Static).update(text(self.controller.guide()))
        compare = getattr(self.controller, "comparison", lambda: "")()
        self.query_one("#demo-compare", Static).update(text(compare))
        self.query_one("#demo-compare", Static).display = bool(compare)
        table = self.query_one("#demo-workers", DataTable)
        rows = self.controller.workers()
        known = [str(k.value) for k in table.rows]
        names = [w.name for w in rows]
        if known != names[: len(known)] or len(known) > len(names):
            table.clear()  # a worker joined in the middle (F5: after the other consumers): in order
            known = []
        for w in rows:
            cells = self._cells(w)
            if w.name in known:
                for col, value in zip(table.columns, cells, strict=False):
                    table.update_cell(w.name, col, value, update_width=True)
            else:
                table.add_row(*cells, key=w.name)
        self.border_subtitle = f"{self.controller.rate:g} events/s"

    @staticmethod
    def _cells(w: WorkerState) -> tuple[object, ...]:
        """Names and notes are Text: a DataTable parses a str cell as markup."""
        state = Text(w.state, style=STATE_STYLE.get(w.state, ""))
        consumer = w.role == "consumer"
        failed, retried, dead = (
            (str(w.failed), str(getattr(w, "retried", 0)), str(getattr(w, "dead_lettered", 0)))
            if consumer
            else ("", "", "")
        )
        return (
            name_text(w.name, 32),
            name_text(w.group or "-", 32),
            state,
            str(w.processed),
            failed,
            retried,
            dead,
            text(w.detail or ""),
        )

    def selected_consumer(self) -> str | None:
        """The consumer under the cursor, when the worker table has the focus."""
        table = self.query_one("#demo-workers", DataTable)
        if not table.has_focus or not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            return None
        for w in self.controller.workers():
            if w.name == key and w.role == "consumer":
                return w.name
        return None

    def say(self, message: str, severity: SeverityLevel = "information") -> None:
        """Worker names and errors are data: plain text, also when hosted by another app."""
        self.notify(clean(message), severity=severity, markup=False)

    def _do(self, fn: Callable[..., _T], *args: object) -> _T | None:
        try:
            result = fn(*args)
        except ValueError as exc:
            self.say(str(exc), severity="warning")
            return None
        self.refresh_from_controller()
        return result

    def action_toggle_producer(self) -> None:
        running = self._do(self.controller.toggle_producer)
        if running is not None:
            self.say("producer resumed" if running else "producer paused")

    def _set_rate(self, rate: float) -> None:
        if rate < MIN_STEP_RATE:
            self.say(
                f"the rate is at its lowest step ({self.controller.rate:g}/s); F2 pauses", severity="warning"
            )
            return
        if rate > MAX_RATE:
            self.say(f"the rate is limited to {MAX_RATE:,.0f} events/s", severity="warning")
            return
        value = self._do(self.controller.set_rate, rate)
        if value is not None:
            self.say(f"rate: {value:g} events/s")

    def action_slower(self) -> None:
        self._set_rate(self.controller.rate / 2)

    def action_faster(self) -> None:
        self._set_rate(self.controller.rate * 2)

    def action_add_consumer(self) -> None:
        name = self._do(self.controller.add_consumer)
        if name:
            self.say(f"{name} joined group1")
            table = self.query_one("#demo-workers", DataTable)
            if name in [str(k.value) for k in table.rows]:  # its row in view, not below the fold
                table.move_cursor(row=table.get_row_index(name))

    def action_stop_consumer(self) -> None:
        name = self._do(self.controller.stop_consumer, self.selected_consumer())
        if name:
            self.say(f"{name} stops after acking its batch")

    def action_crash_consumer(self) -> None:
        name = self._do(self.controller.crash_consumer, self.selected_consumer())
        if name:
            self.say(f"{name} crashed: its pending entries stay until claimed", severity="warning")

    def action_away(self) -> None:
        run = self._do(self.controller.go_away)
        if run is not None:
            self.say(f"sub1, audit1 and reader1 away for {run.seconds:g} s: the producer goes on")

    def action_command_log(self) -> None:
        show = getattr(self.app, "show_command_log", None)  # the demo app's (ui/demo_app.py)
        if show is not None:
            show()

    def action_lessons(self) -> None:
        toggle = getattr(self.app, "toggle_lessons", None)  # the demo app's (ui/demo_app.py)
        if toggle is not None:
            toggle()


def demo_bindings() -> list[BindingType]:
    """The demo keys as App bindings: `demo('<action>')`, forwarded by `forward_demo_key`."""
    return [Binding(key, f"demo('{action}')", desc, show=False) for key, action, desc in DEMO_KEYS]


def forward_demo_key(app: App[Any], action: str) -> None:
    """Run a demo key's action on the mounted DemoPanel (an App's `action_demo`)."""
    panels = app.query(DemoPanel)
    if panels:
        getattr(panels.first(), f"action_{action}")()


AppT = TypeVar("AppT", bound=App[Any])


def with_demo_keys(app_class: type[AppT]) -> type[AppT]:
    """A subclass of the host App whose bindings forward the demo keys to the mounted DemoPanel,
    so they work wherever the focus is (a mixin's BINDINGS would be ignored by Textual, which
    merges BINDINGS only from DOMNode classes). The demo's own app (ui/demo_app.py) declares the
    same statically; this is for other hosts (tests)."""
    made = type(
        f"Demo{app_class.__name__}",
        (app_class,),
        {"BINDINGS": demo_bindings(), "action_demo": forward_demo_key, "__module__": app_class.__module__},
    )
    return cast("type[AppT]", made)
