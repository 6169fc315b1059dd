"""Claim: every stuck entry (XAUTOCLAIM, its cursor carried to the end, with a progress bar and a
cap), what one consumer holds ("From consumer"), or the marked entries (XCLAIM), into a chosen
consumer. A name that is not a consumer of the group is claimed into only after a second enter
(XCLAIM creates the consumer). The dialog and its result say what happens next (streamtop.rerun):
a claimed entry runs again only if the target consumer re-reads its own pending entries, and the
holders line says which of them are busy, waiting or gone (streamtop.pipeline.liveness)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, ProgressBar, Static

from streamtop.pipeline.liveness import State, group_liveness
from streamtop.pipeline.render import text

from ... import numbers as num
from ... import rerun
from ...actions import ActionResult, ValidationError
from ...actions.claim import ClaimResult
from ..context import ActionContext
from .base import ActionDialog
from .names import Names, names_hint
from .shared import name_of

DEFAULT_CAP = "10000"


class ClaimDialog(ActionDialog):
    TITLE = "Claim stuck entries"
    VERB = "Claim"
    USES_MARKS = True

    def __init__(self, context: ActionContext) -> None:
        super().__init__(context)
        self.names = Names(context.consumers)
        self.armed_new: str | None = None  # a new consumer name the person was warned about
        self.cancel_event = asyncio.Event()

    def holders(self) -> Text:
        """Who holds how many: what "From consumer" can name."""
        gi = self.context.group_info
        held = [(c.name, c.pending) for c in gi.consumer_list if c.pending] if gi is not None else []
        if not held or gi is None:
            return Text("From consumer (empty: every stuck entry)")
        states = group_liveness(gi, time.time() * 1000)
        marks = {State.BUSY: "busy", State.WAITING: "waiting", State.GONE: "gone", State.UNKNOWN: "?"}

        def holder(c: bytes, n: int) -> Text:
            state = marks.get(states[c].state)
            return Text.assemble(name_of(c, 30), f" ({n:,}{', ' + state if state else ''})")

        parts = Text(", ").join(holder(c, n) for c, n in held[:10])
        return Text.assemble("From consumer (empty: every stuck entry); holding: ", parts)

    def fields(self) -> ComposeResult:
        ctx = self.context
        consumers = self.names.labels
        if ctx.selected_pending:
            yield Static(f"XCLAIM the {len(ctx.selected_pending)} selected entries", classes="hint")
        yield Label("Min idle time (seconds; or 500ms, 2m, 1h)", classes="hint")
        yield Input(f"{ctx.stuck_ms / 1000:g}", id="idle")
        if not ctx.selected_pending:
            yield Label(self.holders(), classes="hint")
            yield Input(
                "",
                placeholder="every stuck entry",
                id="source",
                suggester=SuggestFromList(consumers, case_sensitive=True),
            )
        yield Label(
            names_hint(
                "Into consumer: ", ctx.consumers, Text("the group has no consumers: type a new name", "bold")
            ),
            classes="hint",
        )
        yield Input(
            consumers[0] if consumers else "",
            placeholder="consumer name",
            id="consumer",
            suggester=SuggestFromList(consumers, case_sensitive=True),
        )
        yield Static(
            Text.assemble(
                ("After the claim: ", "bold"),
                rerun.RERUN,
                ". ",
                "; ".join(f"{lib}: {when}" for lib, when in rerun.LIBRARIES),
                ". ",
                rerun.REDRIVE[0].upper() + rerun.REDRIVE[1:],
                ".",
            ),
            classes="hint",
            id="rerun",
        )
        if not ctx.selected_pending:
            yield Label("Cap: claim at most", classes="hint")
            yield Input(DEFAULT_CAP, id="cap")
            yield ProgressBar(total=1, show_eta=False, id="progress")

    def on_mount(self) -> None:
        self.query_one("#idle", Input).focus()
        for bar in self.query("#progress"):
            bar.display = False

    @on(Input.Changed, "#consumer")
    def _consumer_changed(self, event: Input.Changed) -> None:
        self.armed_new = None
        if event.value and not self.names.known(event.value):
            self.info(
                Text.assemble(
                    text(repr(event.value)),
                    " is not a consumer of this group: claiming creates it",
                    style="yellow",
                )
            )
        else:
            self.info("")

    def launch(self, work: Callable[[], Awaitable[ActionResult]], *, keep_open_on_error: bool = True) -> None:
        """As ActionDialog.launch, with what happens next added to a claim's result."""

        async def noted() -> ActionResult:
            res = await work()
            if not res.ok or not isinstance(res, ClaimResult) or not res.claimed:
                return res
            return replace(res, message=res.message + rerun.note(res.claimed))

        super().launch(noted, keep_open_on_error=keep_open_on_error)

    def submit(self) -> None:
        ctx = self.context
        key, group = self.key, self.group
        idle = num.CLAIM_MIN_IDLE.parse(self.value("idle"))
        name = self.value("consumer")
        if not name:
            raise ValidationError(
                "consumer is empty: pick one of the group's consumers"
                if ctx.consumers
                else "the group has no consumers: type a name for a new consumer"
            )
        consumer = self.names.resolve(name)
        new = not self.names.known(name)
        if new and self.armed_new != name:
            self.armed_new = name
            self.info(
                Text.assemble(
                    text(repr(name)),
                    " is not a consumer of this group: press enter again to create it and claim",
                    style="yellow",
                )
            )
            return
        if ctx.selected_pending:
            ids = ctx.selected_pending
            self.launch(lambda: self.actions.claim_ids(key, group, consumer, idle, ids, must_exist=not new))
            return
        cap = num.CLAIM_COUNT.parse(self.value("cap"))
        typed = self.value("source")
        source = self.names.resolve(typed) if typed else None
        if source is not None and not self.names.known(typed):
            raise ValidationError(f"{typed!r} is not a consumer of this group")
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=cap, progress=0)
        bar.display = True

        def progress(done: int, total: int) -> None:
            bar.update(progress=done)

        if source is not None:
            self.launch(
                lambda: self.actions.claim_from(
                    key,
                    group,
                    source,
                    consumer,
                    idle,
                    cap,
                    must_exist=not new,
                    progress=progress,
                    cancel=self.cancel_event,
                )
            )
        else:
            self.launch(
                lambda: self.actions.claim_auto(
                    key,
                    group,
                    consumer,
                    idle,
                    cap,
                    must_exist=not new,
                    progress=progress,
                    cancel=self.cancel_event,
                )
            )

    def action_cancel(self) -> None:
        if self.busy:  # stop after the page in flight; the worker reports what was claimed
            self.cancel_event.set()
            self.info("stopping after the page in flight…")
        else:
            self.dismiss()
