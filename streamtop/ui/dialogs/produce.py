"""Test events: one at a key press (no form), or a burst of N with a progress bar that escape
stops after the chunk in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar

from ... import numbers as num
from ..context import ActionContext
from .base import ActionDialog
from .confirm import ConfirmDialog
from .shared import host_actions, name_of, run_action


def ask_once(app: App[Any], context: ActionContext, then: Callable[[], None]) -> None:
    """Test events go to the demo's stream without a word; to any other stream (a production one,
    perhaps) only after a yes, asked once per stream for the life of the app."""
    key = context.stream_key()
    agreed: set[bytes] = app.__dict__.setdefault("_test_events_agreed", set())
    if context.test_stream or key in agreed:
        then()
        return

    def answered(yes: bool | None) -> None:
        if yes:
            agreed.add(key)
            then()
        else:
            app.notify("test events: cancelled, nothing added", markup=False)

    body = Text.assemble(
        "Add test sensor events {sensor_id, temp, humidity} to ",
        name_of(key),
        "? It is not the demo's stream: its consumers will read them.",
        style="bold",
    )
    app.push_screen(
        ConfirmDialog(Text.assemble("Test events into ", name_of(key), "?"), body, "Add"), answered
    )


def produce_one(app: App[Any], context: ActionContext) -> None:
    """The registry's opener for `e`: no form, one XADD (asked once per stream that is not the demo's)."""
    actions, key = host_actions(app), context.stream_key()
    if actions is not None:
        ask_once(app, context, lambda: run_action(app, lambda: actions.produce_one(key)))


class BurstDialog(ActionDialog):
    TITLE = "Produce a burst of test events"
    VERB = "Start"

    @classmethod
    def open(cls, app: App[Any], context: ActionContext) -> None:
        def push() -> None:
            app.push_screen(cls(context))

        ask_once(app, context, push)

    def __init__(self, context: ActionContext) -> None:
        super().__init__(context)
        self.cancel_event = asyncio.Event()

    def fields(self) -> ComposeResult:
        yield Label(f"How many events (1 to {num.BURST_COUNT.hi:,.0f})", classes="hint")
        yield Input("1000", id="count")
        yield Label("MAXLEN (empty: no limit)", classes="hint")
        yield Input("", placeholder="no limit", id="maxlen")
        yield Checkbox("approximate MAXLEN (~)", id="approx")
        yield ProgressBar(total=1, show_eta=False, id="progress")

    def on_mount(self) -> None:
        self.query_one("#progress").display = False
        self.query_one("#count", Input).focus()

    def submit(self) -> None:
        n = num.BURST_COUNT.parse(self.value("count"))
        text = self.value("maxlen")  # parsed as typed: numbers.py decides which spaces are fine
        maxlen = num.BURST_MAXLEN.parse(text) if text.strip() else None
        approx = self.query_one("#approx", Checkbox).value
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=n, progress=0)
        bar.display = True
        for w in self.query(Input):
            w.disabled = True
        self.query_one("#cancel", Button).label = "Stop (esc)"
        self.info(f"adding {n:,} events…")

        def progress(done: int, total: int) -> None:
            bar.update(progress=done)

        key = self.key
        self.launch(
            lambda: self.actions.produce_burst(
                key, n, maxlen, approx, progress=progress, cancel=self.cancel_event
            ),
            keep_open_on_error=False,
        )

    def action_cancel(self) -> None:
        if self.busy:  # stop after the chunk in flight; the worker reports what was added
            self.cancel_event.set()
            self.info("stopping after the chunk in flight…")
        else:
            self.dismiss()
