"""The form every action dialog is: a title, fields that scroll, buttons that stay in view; it
checks what was typed with the actions layer's own rules, runs the action in a worker and posts
the result to the host (`ActionFinished`).

Keyboard: tab moves, enter submits, escape cancels (and stops a running burst).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ... import numbers as num
from ...actions import ActionResult, Actions, ValidationError
from ..context import ActionContext
from .confirm import ConfirmDialog
from .shared import CSS_FILE, ActionFinished, host_actions, name_of, plain, short


class ActionDialog(ModalScreen[None]):
    """A form: `fields()` yields the inputs, `submit()` checks and runs. Subclasses set TITLE.

    The title and the buttons stay in view; the fields and messages between them scroll when the
    dialog is taller than the screen."""

    CSS_PATH = CSS_FILE
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    TITLE = "action"
    VERB = "Run"
    USES_MARKS = False  # an action on the marked entries: they are unmarked once it succeeded

    def __init__(self, context: ActionContext) -> None:
        super().__init__()
        self.context = context
        self.busy = False

    @classmethod
    def open(cls, app: App[Any], context: ActionContext) -> None:
        """The registry's opener for a dialog that is one form."""
        app.push_screen(cls(context))

    # ---- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.heading(), id="title")
            with VerticalScroll(id="form"):
                yield from self.fields()
                yield Static("", id="error")
                yield Static("", id="info")
            with Horizontal(id="buttons"):
                yield Button(self.VERB, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def heading(self) -> Text:
        where = Text.assemble(f"{self.TITLE}: ", name_of(self.context.key))
        if self.context.group:
            where.append_text(Text.assemble(" / group ", name_of(self.context.group)))
        return where

    def fields(self) -> ComposeResult:
        yield from ()

    # ---- helpers ----------------------------------------------------------------------------

    @property
    def key(self) -> bytes:
        """The selected stream (the registry opens a dialog that needs one only with one)."""
        return self.context.stream_key()

    @property
    def group(self) -> bytes:
        return self.context.group_name()

    @property
    def actions(self) -> Actions:
        actions = host_actions(self.app)
        if actions is None:  # the registry opens no dialog before the first connection
            raise RuntimeError("a dialog was opened without an actions client")
        return actions

    def value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def error(self, message: str) -> None:
        """Messages carry typed input and server names: shown escaped, never as markup."""
        self.query_one("#error", Static).update(short(message))

    def info(self, content: str | Text, *, reveal: bool = False) -> None:
        """Show a line (or a preview) under the fields; `reveal` scrolls it into view."""
        info = self.query_one("#info", Static)
        info.update(plain(content))
        if reveal:
            self.call_after_refresh(info.scroll_visible)

    def launch(self, work: Callable[[], Awaitable[ActionResult]], *, keep_open_on_error: bool = True) -> None:
        """Run the action in a worker; success closes the dialog, a failure stays visible in it."""
        self.busy = True
        self.query_one("#ok", Button).disabled = True

        async def job() -> None:
            try:
                result = await work()
            except ValidationError as exc:  # the actions layer re-checks: same message, here
                self.error(str(exc))
                return
            finally:
                self.busy = False
                if self.is_attached:
                    self.query_one("#ok", Button).disabled = False
            self.finish(result, keep_open_on_error)

        self.run_worker(job(), exclusive=True, group="action")

    def finish(self, result: ActionResult, keep_open_on_error: bool = True) -> None:
        used = self.context.selected_pending if self.USES_MARKS and result.ok else ()
        self.app.post_message(ActionFinished(result, used))
        if result.ok or not keep_open_on_error:
            self.dismiss()
        else:
            self.error(result.message)

    def confirm(self, title: str | Text, body: str | Text, verb: str, then: Callable[[], None]) -> None:
        if not self.is_current:  # closed while a check before the question ran: nothing to ask
            return

        def answered(yes: bool | None) -> None:
            if yes:
                then()
            else:
                self.info(Text("cancelled: nothing was changed", "dim"))

        self.app.push_screen(ConfirmDialog(title, body, verb), answered)

    # ---- events -----------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if self.busy:  # closing now would cancel a command in flight without reporting it
            self.info(Text("still running: wait for the result", "yellow"))
            return
        self.dismiss()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._try_submit()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self._try_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    def _try_submit(self) -> None:
        if self.busy:
            return
        self.error("")
        try:
            self.submit()
        except (ValidationError, num.NumberError) as exc:  # nothing was sent
            self.error(str(exc))

    def submit(self) -> None:
        raise NotImplementedError
