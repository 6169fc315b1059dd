"""Every key the dashboard answers to, on `?`: the rows come from streamtop.ui.registry."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .registry import Command, help_rows


def help_table(
    read_only: bool = False, demo: bool = False, commands: Iterable[Command] | None = None
) -> Table:
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
    table.add_column("where", style="dim")
    table.add_column("key", style="bold cyan")
    table.add_column("what it does")
    for where, keys, what in help_rows(read_only, demo, commands):
        table.add_row(Text(where), Text(keys), Text(what))  # "[...]" and "] / [" are not markup
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

    async def action_dismiss(self, result: None = None) -> None:  # no result to return
        self.dismiss(None)
