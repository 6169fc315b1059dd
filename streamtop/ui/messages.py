"""The latest entries of the selected stream (XREVRANGE, one page), `enter` shows one in full."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ..model import Entry
from . import format as fmt
from .keyed_table import Cells, KeyedTable
from .registry import panel_bindings

COLUMNS = (("id", "id"), ("fields", "n"), ("content", "content"))
PAGE_SIZE = 50
PREVIEW = 100


def preview(entry: Entry, limit: int = PREVIEW) -> Text:
    """field=value pairs on one line, decoding only as much as fits."""
    text = Text()
    for f, v in entry.fields:
        if text.cell_len >= limit:
            break
        if text:
            text.append("  ")
        text.append_text(fmt.name(f, 24, "bold"))
        text.append("=")
        text.append_text(fmt.name(v, 40))
    if text.cell_len > limit:
        text.truncate(limit - 1)
        text.append("…")
    return text


def message_cells(e: Entry) -> Cells:
    if not e.fields:
        return (e.id, "0", Text("(deleted)", style="dim"))
    return (e.id, str(len(e.fields)), preview(e))


class MessagesPanel(Vertical):
    """Posts `Open` for `enter` on a row and `PageChanged` when the user pages."""

    BINDINGS = panel_bindings("messages")  # streamtop.ui.registry declares the keys

    class Open(Message):
        def __init__(self, entry: Entry) -> None:
            super().__init__()
            self.entry = entry

    class PageChanged(Message):
        def __init__(self, end: str) -> None:
            super().__init__()
            self.end = end

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.end = "+"
        self.page = 0
        self.entries: dict[str, Entry] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="messages-info")
        yield KeyedTable(COLUMNS, id="messages-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#messages-table", KeyedTable)

    def reset(self) -> None:
        self.end, self.page = "+", 0

    def show(self, entries: tuple[Entry, ...], length: int | None, title: str | Text = "") -> None:
        self.entries = {e.id: e for e in entries}
        self.table.sync([(e.id, message_cells(e)) for e in entries])
        where = "newest" if self.page == 0 else f"page {self.page + 1}"
        title_text = title if isinstance(title, Text) else Text(title)
        self.query_one("#messages-info", Static).update(
            title_text + Text(f"  {where}: {len(entries)} of {fmt.count(length)} entries"
                              "  (enter: full entry, ]: older, [: newest)"))

    def current(self) -> Entry | None:
        key = self.table.cursor_key
        return self.entries.get(key) if key else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        entry = self.current()
        if entry is not None:
            self.post_message(self.Open(entry))

    def action_next_page(self) -> None:
        if len(self.entries) < PAGE_SIZE:
            self.app.bell()
            return
        oldest = list(self.entries)[-1]
        self.end, self.page = f"({oldest}", self.page + 1
        self.post_message(self.PageChanged(self.end))

    def action_first_page(self) -> None:
        if self.page:
            self.reset()
            self.post_message(self.PageChanged(self.end))
