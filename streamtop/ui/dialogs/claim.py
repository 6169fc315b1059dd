"""Claim: XAUTOCLAIM entries idle for at least a min idle time into a chosen consumer, or XCLAIM
the marked ones. A name that is not a consumer of the group is claimed into only after a second
enter (XCLAIM creates the consumer)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from ... import numbers as num
from ...actions import ValidationError
from ...render import text
from ..context import ActionContext
from .base import ActionDialog
from .names import Names, names_hint


class ClaimDialog(ActionDialog):
    TITLE = "Claim stuck entries"
    VERB = "Claim"

    def __init__(self, context: ActionContext) -> None:
        super().__init__(context)
        self.names = Names(context.consumers)
        self.armed_new: str | None = None  # a new consumer name the person was warned about

    def fields(self) -> ComposeResult:
        ctx = self.context
        consumers = self.names.labels
        if ctx.selected_pending:
            yield Static(f"XCLAIM the {len(ctx.selected_pending)} selected entries", classes="hint")
        yield Label("Min idle time (seconds; or 500ms, 2m, 1h)", classes="hint")
        yield Input(f"{ctx.stuck_ms / 1000:g}", id="idle")
        yield Label(names_hint("Into consumer: ", ctx.consumers,
                               Text("the group has no consumers: type a new name", "bold")),
                    classes="hint")
        yield Input(consumers[0] if consumers else "", placeholder="consumer name", id="consumer",
                    suggester=SuggestFromList(consumers, case_sensitive=True))
        if not ctx.selected_pending:
            yield Label("Cap: claim at most", classes="hint")
            yield Input("100", id="cap")

    def on_mount(self) -> None:
        self.query_one("#idle", Input).focus()

    @on(Input.Changed, "#consumer")
    def _consumer_changed(self, event: Input.Changed) -> None:
        self.armed_new = None
        if event.value and not self.names.known(event.value):
            self.info(Text.assemble(text(repr(event.value)), " is not a consumer of this group: "
                                    "claiming creates it", style="yellow"))
        else:
            self.info("")

    def submit(self) -> None:
        ctx = self.context
        key, group = self.key, self.group
        idle = num.CLAIM_MIN_IDLE.parse(self.value("idle"))
        name = self.value("consumer")
        if not name:
            raise ValidationError("consumer is empty: pick one of the group's consumers"
                                  if ctx.consumers else
                                  "the group has no consumers: type a name for a new consumer")
        consumer = self.names.resolve(name)
        new = not self.names.known(name)
        if new and self.armed_new != name:
            self.armed_new = name
            self.info(Text.assemble(text(repr(name)), " is not a consumer of this group: press enter "
                                    "again to create it and claim", style="yellow"))
            return
        if ctx.selected_pending:
            ids = ctx.selected_pending
            self.launch(lambda: self.actions.claim_ids(key, group, consumer, idle, ids,
                                                       must_exist=not new))
        else:
            cap = num.CLAIM_COUNT.parse(self.value("cap"))
            self.launch(lambda: self.actions.claim_auto(key, group, consumer, idle, cap,
                                                        must_exist=not new))
