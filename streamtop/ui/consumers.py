"""Consumers of the selected group: pending, idle, and inactive where the server has it (7.2+)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from streamtop.pipeline.liveness import ALIVE, Liveness, group_liveness, poll_clock
from streamtop.pipeline.model import ConsumerInfo
from streamtop.pipeline.render import middle_name_text, text

from . import format as fmt
from .keyed_table import Cells, KeyedTable
from .view import DashboardView

COLUMNS = (
    ("consumer", "name"),
    ("pending", "pending"),
    ("idle", "idle"),
    ("inactive", "inactive"),
    ("", "state"),
)
GONE_STYLE = "dim"  # a consumer that is gone (streamtop.pipeline.liveness): greyed, with the reason last


NAME_WIDTH = 12  # before the table is laid out (columns only grow); then what the panel leaves
OTHER_COLUMNS = 34  # pending, idle and inactive with their padding: these never leave the screen


def consumer_cells(
    c: ConsumerInfo, has_inactive: bool, state: Liveness = ALIVE, name_width: int = NAME_WIDTH
) -> Cells:
    if not has_inactive:
        inactive = "n/a"
    elif c.inactive_ms is None or c.inactive_ms < 0:
        inactive = "never" if c.inactive_ms is not None else fmt.UNKNOWN
    else:
        inactive = fmt.duration_ms(c.inactive_ms)
    style = GONE_STYLE if state.gone is True else ""
    # waiting and busy reasons start with their state; gone and cannot tell say theirs first
    prefix = "gone: " if state.gone else "cannot tell: " if state.gone is None and state.reason else ""
    note = Text(prefix + state.reason.removesuffix(": cannot tell"), GONE_STYLE if state.gone else "italic")
    return (
        middle_name_text(c.name, name_width, style),
        Text(fmt.count(c.pending), style),
        Text(fmt.duration_ms(c.idle_ms), style),
        Text(inactive, style),
        note,
    )


class ConsumersPanel(Vertical):
    ALLOW_MAXIMIZE = True  # `z` zooms the panel (title, table), not only its table

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = KeyedTable(COLUMNS, id="consumers-table")
        self.empty_text = ""  # what the empty/error line says, for tests
        self.name_width = NAME_WIDTH  # the consumer column's width at the last show
        self.full_name = Text()  # the bottom border: the name under the cursor, when shortened

    def compose(self) -> ComposeResult:
        yield self.table
        yield Static("", id="consumers-empty")

    def show(self, view: DashboardView) -> None:
        """The consumers of the selected group; `inactive` only where the server reports it."""
        group = view.group
        consumers = group.consumer_list if group is not None else ()
        has_inactive = view.server.has_inactive
        now_ms, server_clock = poll_clock(view.snapshot)
        states = group_liveness(group, now_ms, server_clock=server_clock) if group is not None else {}
        width = self.table.size.width
        name_width = self.name_width = max(12, min(40, width - OTHER_COLUMNS)) if width else NAME_WIDTH
        self.table.sync(
            [(c.name.hex(), consumer_cells(c, has_inactive, states[c.name], name_width)) for c in consumers]
        )
        empty = self.query_one("#consumers-empty", Static)
        error = group.error if group is not None else None
        empty.display = not consumers or error is not None
        unread = view.stream is not None and view.stream.summary_only  # read by the next poll
        if error is not None:  # XINFO CONSUMERS or XPENDING failed: not the same as none
            empty.update(Text("consumers/pending unavailable: ", "bold red") + fmt.text(error, "bold red"))
        elif unread:
            empty.update(Text("reading…", "dim"))
        else:
            empty.update("no consumers" if group is not None else "no group selected")
        self.empty_text = "" if group is None or unread else (error or "no consumers")
        self.border_title = Text("Consumers of ") + fmt.name(group.name, 30) if group else "Consumers"
        self._show_full_name()

    def _show_full_name(self) -> None:
        """The consumer under the cursor in full on the bottom border, when the table shortened
        it (`enter` shows it with its counts, ui/consumer_screen.py)."""
        key = self.table.cursor_key
        name = bytes.fromhex(key) if key is not None else None
        full = text(name) if name is not None else Text()
        self.full_name = full if full.cell_len > self.name_width else Text()
        self.border_subtitle = self.full_name

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_full_name()
