"""Redrive (`R`): move dead-lettered entries back to their source stream (or another), with their
original fields. The first enter is a dry run (how many, to where, and every group of the target
that will read them: issue 25); a second enter on the same inputs asks for a confirmation, then
moves them, one MULTI/EXEC per batch (a progress bar; escape stops between two batches). When a
group other than the one that dead-lettered them reads the target, the dry run refuses and names
it: give a retry stream only that group reads (To), or tick "every group"."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Checkbox, Input, Label

from streamtop.pipeline.model import label

from ... import numbers as num
from ...actions import ValidationError
from ...actions.redrive import RedriveResult
from ..context import ActionContext
from .base import ActionDialog
from .moving import BatchProgress
from .names import Names
from .shared import name_of, short

RedriveArgs = tuple[bytes, bytes | None, bytes | None, int, bool]  # dlq, to, group, count, all groups


class RedriveDialog(ActionDialog):
    TITLE = "Redrive"
    VERB = "Dry run"

    def __init__(self, context: ActionContext) -> None:
        super().__init__(context)
        self.armed: RedriveArgs | None = None
        self.names = Names([])
        self.moves = BatchProgress()

    def heading(self) -> Text:
        return Text.assemble("Redrive dead-lettered entries: ", name_of(self.context.key))

    def default_dlq(self) -> bytes:
        """The selected stream when it is a DLQ (its name ends in :dlq), else its dead-letter stream."""
        key = self.key
        return key if key.endswith(b":dlq") else self.actions.default_dlq(key)

    def fields(self) -> ComposeResult:
        dlq = self.default_dlq()
        group = self.context.group if not self.key.endswith(b":dlq") else None
        self.names = Names([dlq, *([group] if group else [])])
        yield Label("From the dead-letter stream", classes="hint")
        yield Input(label(dlq), id="dlq", select_on_focus=False)  # a keystroke adds, as in D
        yield Label("To (empty: each entry's own source stream, its dlq-source)", classes="hint")
        yield Input("", placeholder="the source stream", id="to")
        yield Label("Only entries dead-lettered from group (empty: all)", classes="hint")
        yield Input(label(group) if group else "", id="group")
        yield Label("At most", classes="hint")
        yield Input("10000", id="count")
        yield Checkbox(
            "every group: also when other groups read the target (each processes them again)",
            id="all_groups",
        )
        yield self.moves.widget()

    def on_mount(self) -> None:
        self.query_one("#dlq", Input).focus()

    def _typed_name(self, widget: str) -> bytes | None:
        typed = self.value(widget)
        return self.names.resolve(typed) if typed.strip() else None

    def inputs(self) -> RedriveArgs:
        dlq = self._typed_name("dlq")
        if dlq is None:
            raise ValidationError("dead-letter stream is empty")
        count = num.MOVE_COUNT.parse(self.value("count"))
        every = self.query_one("#all_groups", Checkbox).value
        return dlq, self._typed_name("to"), self._typed_name("group"), count, every

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _disarm(self) -> None:
        if self.armed is not None:
            self.armed = None
            self.info("")
            self.query_one("#ok", Button).label = "Dry run"

    def submit(self) -> None:
        args = self.inputs()
        dlq, to, group, count, every = args
        if self.armed == args:
            self.confirm(
                "Redrive?",
                Text(
                    "Move them back, with their original fields? They move in batches, each one "
                    "MULTI/EXEC: a dropped connection loses or duplicates nothing; escape stops the "
                    "move between two batches.",
                    "bold",
                ),
                "Redrive",
                lambda: self.launch(
                    lambda: self.actions.redrive(
                        dlq,
                        to,
                        group,
                        count,
                        all_groups=every,
                        progress=self.moves.start(),
                        cancel=self.moves.cancel,
                    )
                ),
            )
            return
        self.busy = True

        async def dry_run() -> None:
            try:
                result = await self.actions.redrive(dlq, to, group, count, dry_run=True, all_groups=every)
            except ValidationError as exc:
                self.error(str(exc))
                return
            finally:
                self.busy = False
            self.show_dry_run(result, args)

        self.run_worker(dry_run(), exclusive=True, group="action")

    def show_dry_run(self, result: RedriveResult, args: RedriveArgs) -> None:
        if not result.ok:
            if result.other_groups:  # the choice: a retry stream, or every group
                msg = result.message.replace("(--to KEY)", "(To)").replace(
                    "(--all-groups)", '(tick "every group")'
                )
                self.error(msg)
                return
            self.error(result.message)
            return
        if result.nothing:
            self.info(short(result.message))
            return
        self.info(
            Text.assemble(
                short(result.message), "\n", ("enter", "bold"), " again to redrive, escape to cancel"
            ),
            reveal=True,
        )
        self.armed = args
        self.query_one("#ok", Button).label = "Redrive"

    def action_cancel(self) -> None:
        if self.busy and self.moves.stop():  # the worker reports what was moved
            self.info("stopping after the batch in flight…")
            return
        super().action_cancel()
