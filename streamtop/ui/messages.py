"""The latest entries of the selected stream (XREVRANGE, one page), `enter` shows one in full."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from ..model import Entry
from ..render import name_text
from . import format as fmt
from .keyed_table import Cells, KeyedTable
from .registry import panel_bindings
from .view import DashboardView

COLUMNS = (("id", "id"), ("fields", "n"), ("content", "content"))
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
    """Shows the page of the view; posts `Open` for `enter` on a row. The page belongs to the
    selection, which the main screen owns: `]`/`[` run its `messages_page` action."""

    BINDINGS = panel_bindings("messages")  # streamtop.ui.registry declares the keys

    class Open(Message):
        def __init__(self, entry: Entry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = KeyedTable(COLUMNS, id="messages-table")
        self.entries: dict[str, Entry] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="messages-info")
        yield self.table

    def show(self, view: DashboardView) -> None:
        stream = view.stream
        entries = view.messages or ()
        self.entries = {e.id: e for e in entries}
        self.table.sync([(e.id, message_cells(e)) for e in entries])
        if stream is None:
            title = Text("no stream selected")
        else:
            title = name_text(stream.key) + (Text(" (loading)") if view.messages is None else Text())
        page = view.selection.messages_page
        where = "newest" if page == 0 else f"page {page + 1}"
        self.query_one("#messages-info", Static).update(
            title + Text(f"  {where}: {len(entries)} of {fmt.count(stream.length if stream else None)} "
                         "entries  (enter: full entry, ]: older, [: newest)"))

    def current(self) -> Entry | None:
        key = self.table.cursor_key
        return self.entries.get(key) if key else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        entry = self.current()
        if entry is not None:
            self.post_message(self.Open(entry))
