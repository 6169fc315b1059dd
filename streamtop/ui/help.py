"""Every key the dashboard answers to, on `?`."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str, str], ...] = (
    ("Navigation", "tab / shift+tab", "next / previous panel"),
    ("Navigation", "up down pgup pgdn", "move in a table (mouse click selects a row)"),
    ("Navigation", "enter", "drill in: stream -> groups -> pending; message -> full entry"),
    ("Navigation", "esc", "back to the streams (clears the filter)"),
    ("Navigation", "1 / 2", "pending entries / messages tab"),
    ("Streams", "/", "filter streams by substring or glob (*, ?, [...])"),
    ("Streams", "s / S", "sort by the next column / reverse (or click a header)"),
    ("Poll", "space", "poll now"),
    ("Poll", "p", "pause / resume"),
    ("Poll", "+ / -", "longer / shorter interval between polls"),
    ("Pending", "x / X", "mark the entry under the cursor / all on the page"),
    ("Pending, messages", "] / [", "next page / back to the first page"),
    ("Actions", "e", "produce one test sensor event"),
    ("Actions", "E", "produce a burst of N events"),
    ("Actions", "a", "ack the marked pending entries"),
    ("Actions", "c", "claim stuck entries (or the marked ones)"),
    ("Actions", "t", "trim the stream (MAXLEN / MINID, with a preview)"),
    ("Actions", "g", "group operations: create, set id, delete consumer, destroy"),
    ("Actions", "D", "move poison entries to a dead-letter stream"),
    ("App", "ctrl+p", "command palette"),
    ("App", "?", "this help"),
    ("App", "q / ctrl+q", "quit"),
)


def help_table(read_only: bool = False, demo: bool = False) -> Table:
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
    table.add_column("where", style="dim")
    table.add_column("key", style="bold cyan")
    table.add_column("what it does")
    for where, key, what in KEYS:
        if read_only and where == "Actions":
            what += " (refused: read-only)"
        table.add_row(Text(where), Text(key), Text(what))  # "[...]" and "] / [" are not markup
    if demo:
        from .demo_panel import DEMO_KEYS

        for key, _, what in DEMO_KEYS:
            table.add_row(Text("Demo"), Text(key.upper()), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, read_only: bool = False, demo: bool = False) -> None:
        super().__init__()
        self.read_only = read_only
        self.demo = demo

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("streamtop keys", classes="title")
            with VerticalScroll():
                yield Static(help_table(self.read_only, self.demo))
            yield Static("esc: close", classes="hint")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
