"""Pending entries of the selected group (XPENDING extended, one page of up to 100).

Stuck entries (idle over a threshold) and poison ones (delivered too many times) are highlighted;
`x` marks entries for the ack/claim actions; `]`/`[` page forward and back to the start.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from ..model import PendingEntry
from ..options import DASHBOARD_DEFAULTS as DEFAULTS
from . import format as fmt
from .keyed_table import Cells, KeyedTable
from .registry import panel_bindings

COLUMNS = (("", "mark"), ("id", "id"), ("consumer", "consumer"), ("idle", "idle"),
           ("deliveries", "deliveries"), ("state", "state"))
PAGE_SIZE = 100


def pending_cells(p: PendingEntry, marked: bool, stuck_ms: int, poison: int) -> Cells:
    is_poison = p.deliveries > poison
    is_stuck = p.idle_ms > stuck_ms
    style = "bold red" if is_poison else "yellow" if is_stuck else ""
    state = "poison" if is_poison else "stuck" if is_stuck else ""
    if is_poison and is_stuck:
        state = "poison, stuck"
    return (
        Text("●" if marked else " ", style="bold cyan"),
        Text(p.id, style=style),
        fmt.name(p.consumer, 32),
        Text(fmt.duration_ms(p.idle_ms), style=style),
        Text(str(p.deliveries), style=style),
        Text(state, style=style),
    )


class PendingPanel(Vertical):
    """Shows one page; posts `PendingPanel.PageChanged` when the user pages."""

    BINDINGS = panel_bindings("pending")  # streamtop.ui.registry declares the keys

    class PageChanged(Message):
        def __init__(self, start: str) -> None:
            super().__init__()
            self.start = start

    def __init__(self, stuck_ms: int = DEFAULTS.stuck_ms, poison: int = DEFAULTS.poison_deliveries,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stuck_ms = stuck_ms
        self.poison = poison
        self.start = "-"
        self.page = 0
        self.entries: tuple[PendingEntry, ...] = ()
        self.marked: set[str] = set()
        self.total: int | None = None
        self.info_text = ""
        self._title: str | Text = ""
        self._error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="pending-info")
        yield KeyedTable(COLUMNS, id="pending-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#pending-table", KeyedTable)

    def reset(self) -> None:
        """A new group: back to the first page, nothing marked."""
        self.start, self.page = "-", 0
        self.marked.clear()

    def show(self, entries: tuple[PendingEntry, ...], total: int | None, error: str | None = None,
             title: str | Text = "") -> None:
        self.entries, self.total = entries, total
        present = {p.id for p in entries}
        self.marked &= present  # acked or claimed meanwhile: nothing to act on any more
        self._title, self._error = title, error
        self._render_rows()

    def _render_info(self) -> None:
        """The line above the table: page, stuck and poison counts, marks, the page's error."""
        entries, title, error = self.entries, self._title, self._error
        info = self.query_one("#pending-info", Static)
        text = Text()
        if title:
            text.append_text(Text.assemble(title, "  ", style="bold"))
        text.append(f"page {self.page + 1}: {len(entries)} of {fmt.count(self.total)} pending")
        stuck = sum(1 for p in entries if p.idle_ms > self.stuck_ms)
        poison = sum(1 for p in entries if p.deliveries > self.poison)
        if stuck:
            text.append(f"  {stuck} stuck (idle > {fmt.duration_ms(self.stuck_ms)})", "yellow")
        if poison:
            text.append(f"  {poison} poison (deliveries > {self.poison})", "bold red")
        if self.marked:
            text.append(f"  {len(self.marked)} marked", "cyan")
        if error:
            text.append_text(fmt.text(f"  {error}", "red"))
        self.info_text = text.plain
        info.update(text)

    def _render_rows(self) -> None:
        self.table.sync([(p.id, pending_cells(p, p.id in self.marked, self.stuck_ms, self.poison))
                         for p in self.entries])
        self._render_info()

    def selected_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.entries if p.id in self.marked)

    def action_mark(self) -> None:
        key = self.table.cursor_key
        if key is None:
            return
        self.marked ^= {key}
        self._render_rows()
        row = self.table.cursor_row
        if row + 1 < self.table.row_count:
            self.table.move_cursor(row=row + 1)

    def action_mark_all(self) -> None:
        ids = {p.id for p in self.entries}
        self.marked = set() if ids <= self.marked else ids
        self._render_rows()

    def action_next_page(self) -> None:
        if len(self.entries) < PAGE_SIZE or not self.entries:
            self.app.bell()
            return
        self.start, self.page = f"({self.entries[-1].id}", self.page + 1
        self.marked.clear()
        self.post_message(self.PageChanged(self.start))

    def action_first_page(self) -> None:
        if self.page == 0:
            return
        self.reset()
        self.post_message(self.PageChanged(self.start))
