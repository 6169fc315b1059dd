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
    deletes.

    Answered once: two keys in one tick (enter then escape on a busy dashboard) both reach the
    dialog, and a second dismiss would pop the screen under it (the action dialog, or the last
    screen: ScreenStackError) and run the answer twice."""

    CSS_PATH = CSS_FILE
    BINDINGS = [
        Binding("escape,n", "answer(False)", "Cancel"),
        Binding("y", "answer(True)", "Yes"),
        # enter answers for the focused button at once, in key order: through the button's Pressed
        # message it would come after a key typed just behind it (enter then y: not a yes)
        Binding("enter", "press_focused", "Answer", show=False, priority=True),
    ]

    def __init__(self, title: str | Text, body: str | Text, verb: str) -> None:
        """`title` and `body` are shown as given: a str is plain text, not markup."""
        super().__init__()
        self.title_text, self.body, self.verb = title, body, verb
        self.answered = False

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

    def action_press_focused(self) -> None:
        """Yes only when the Yes button has the focus (before the focus lands: Cancel's)."""
        focused = self.focused
        self.answer(isinstance(focused, Button) and focused.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.answer(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.answer(event.button.id == "yes")

    def answer(self, yes: bool) -> None:
        """The first answer wins; later keys or clicks meant for this dialog are dropped, also
        once it is no longer the top screen."""
        if self.answered or not self.is_current:
            return
        self.answered = True
        self.dismiss(yes)
