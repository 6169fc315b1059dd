"""Dead-letter: move the marked pending entries, or every one delivered more than N times (N is
--poison-deliveries unless changed: what the pending list marks poison), to `<key>:dlq` and ack them
(one MULTI/EXEC per batch of up to 200 entries, with a progress bar; escape stops it between two
batches), after a confirmation that says how many match."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from streamtop.pipeline.model import label

from ... import numbers as num
from ...actions import ValidationError
from ..context import ActionContext
from .base import ActionDialog
from .moving import BatchProgress
from .names import Names
from .shared import name_of


class DeadLetterDialog(ActionDialog):
    TITLE = "Dead-letter"
    VERB = "Move"
    USES_MARKS = True

    def __init__(self, context: ActionContext) -> None:
        super().__init__(context)
        self.names = Names([])  # the default dead-letter key, once the host's actions are known
        self.moves = BatchProgress()

    def fields(self) -> ComposeResult:
        ctx = self.context
        if ctx.selected_pending:
            yield Static(f"move the {len(ctx.selected_pending)} selected entries", classes="hint")
        else:
            yield Label(
                "Move every pending entry delivered more than N times (marked poison); N =", classes="hint"
            )
            yield Input(str(ctx.poison), id="deliveries")
        yield Label("to the dead-letter stream", classes="hint")
        self.names = Names([self.actions.default_dlq(self.key)])
        # select_on_focus off: tabbing here and typing must not replace the whole target
        yield Input(self.names.labels[0], id="dlq", select_on_focus=False)
        yield self.moves.widget()

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def submit(self) -> None:
        ctx = self.context
        key, group = self.key, self.group
        typed = self.value("dlq")
        if not typed.strip():
            raise ValidationError("dead-letter key is empty")
        dlq = self.names.resolve(typed if self.names.known(typed) else typed.strip())
        ids: tuple[str, ...] | None
        if ctx.selected_pending:
            ids, n = ctx.selected_pending, None
            self.ask(f"the {len(ids)} selected entries", key, group, ids, n, dlq)
            return
        more_than = num.POISON_DELIVERIES.parse(self.value("deliveries"))
        n = more_than + 1
        self.busy = True

        async def count() -> None:
            # the real run's own path with the moves left out: the same selection and refusals
            try:
                pre = await self.actions.dead_letter(key, group, None, n, dlq, dry_run=True)
            except ValidationError as exc:
                self.error(str(exc))
                return
            finally:
                self.busy = False
            if not pre.ok:
                self.error(pre.message)
                return
            found = len(pre.would_move)
            if not found:
                self.info(f"nothing to move: no pending entry was delivered more than {more_than} times")
                return
            shown = f"{found:,}" + (" or more" if pre.more else "")
            self.ask(
                f"{shown} pending entries delivered more than {more_than} times", key, group, None, n, dlq
            )

        self.run_worker(count(), exclusive=True, group="action")

    def ask(
        self, what: str, key: bytes, group: bytes, ids: tuple[str, ...] | None, n: int | None, dlq: bytes
    ) -> None:
        body = Text.assemble(
            Text.assemble(
                f"Move {what} of group ",
                name_of(group),
                " to ",
                name_of(dlq),
                " and ack them: they leave the group's pending list.",
                style="bold red",
            ),
            "\nThey move in batches, each one MULTI/EXEC, so a dropped connection loses or duplicates "
            "nothing; escape stops the move between two batches.",
        )
        actions = self.actions

        async def check_target() -> None:
            try:
                kind = await actions.key_type(dlq)
            except Exception as exc:
                self.error(f"cannot read '{label(dlq)}': {exc}")
                return
            if kind not in ("none", "stream"):
                self.error(f"'{label(dlq)}' holds a {kind}, not a stream")
                return
            if kind == "none":
                body.append_text(
                    Text.assemble(
                        "\n",
                        name_of(dlq),
                        " does not exist: a new stream will be created",
                        style="bold yellow",
                    )
                )
            self.confirm(
                "Dead-letter?",
                body,
                "Move",
                lambda: self.launch(
                    lambda: actions.dead_letter(
                        key, group, ids, n, dlq, progress=self.moves.start(), cancel=self.moves.cancel
                    )
                ),
            )

        self.run_worker(check_target(), exclusive=True, group="action")

    def action_cancel(self) -> None:
        if self.busy and self.moves.stop():  # the worker reports what was moved
            self.info("stopping after the batch in flight…")
            return
        super().action_cancel()
