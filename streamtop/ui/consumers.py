"""Consumers of the selected group: pending, idle, and inactive where the server has it (7.2+)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ..model import ConsumerInfo
from . import format as fmt
from .keyed_table import Cells, KeyedTable
from .view import DashboardView

COLUMNS = (("consumer", "name"), ("pending", "pending"), ("idle", "idle"),
           ("inactive", "inactive"))


def consumer_cells(c: ConsumerInfo, has_inactive: bool) -> Cells:
    if not has_inactive:
        inactive = "n/a"
    elif c.inactive_ms is None or c.inactive_ms < 0:
        inactive = "never" if c.inactive_ms is not None else fmt.UNKNOWN
    else:
        inactive = fmt.duration_ms(c.inactive_ms)
    return (fmt.name(c.name, 32), fmt.count(c.pending), fmt.duration_ms(c.idle_ms), inactive)


class ConsumersPanel(Vertical):
    ALLOW_MAXIMIZE = True  # `z` zooms the panel (title, table), not only its table

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = KeyedTable(COLUMNS, id="consumers-table")
        self.empty_text = ""  # what the empty/error line says, for tests

    def compose(self) -> ComposeResult:
        yield self.table
        yield Static("", id="consumers-empty")

    def show(self, view: DashboardView) -> None:
        """The consumers of the selected group; `inactive` only where the server reports it."""
        group = view.group
        consumers = group.consumer_list if group is not None else ()
        has_inactive = view.server.has_inactive
        self.table.sync([(c.name.hex(), consumer_cells(c, has_inactive)) for c in consumers])
        empty = self.query_one("#consumers-empty", Static)
        error = group.error if group is not None else None
        empty.display = not consumers or error is not None
        if error is not None:  # XINFO CONSUMERS or XPENDING failed: not the same as none
            empty.update(Text("consumers/pending unavailable: ", "bold red") + fmt.text(error, "bold red"))
        else:
            empty.update("no consumers" if group is not None else "no group selected")
        self.empty_text = "" if group is None else (error or "no consumers")
        self.border_title = Text("Consumers of ") + fmt.name(group.name, 30) if group else "Consumers"
