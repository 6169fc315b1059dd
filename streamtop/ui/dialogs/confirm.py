"""Yes or no before something that deletes: sized to its text, its buttons always in view."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from .shared import CSS_FILE, plain


class ConfirmDialog(ModalScreen[bool]):
    """`y` or the button confirms, `n`/escape cancels. Cancel has the focus, so a stray enter never
    deletes."""

    CSS_PATH = CSS_FILE
    BINDINGS = [Binding("escape,n", "answer(False)", "Cancel"), Binding("y", "answer(True)", "Yes")]

    def __init__(self, title: str | Text, body: str | Text, verb: str) -> None:
        """`title` and `body` are shown as given: a str is plain text, not markup."""
        super().__init__()
        self.title_text, self.body, self.verb = title, body, verb

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(plain(self.title_text), id="title")
            with VerticalScroll(id="form"):
                yield Static(plain(self.body), id="body")
            with Horizontal(id="buttons"):
                yield Button(f"{self.verb} (y)", variant="error", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
