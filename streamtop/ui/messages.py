"""The latest entries of the selected stream (XREVRANGE, one page), `enter` shows one in full.

At the newest page with the cursor on the top row the view follows the tail (tail -f): the cursor
stays on the newest entry as new ones arrive. Once the person moves down or pages to older entries,
the rows stay where they are and the line above says how many entries arrived since ("N new").
That is the panel's own state (where its cursor is), not the selection's."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from streamtop.pipeline.decode import Decoded, decode_entry
from streamtop.pipeline.decode.preview import pairs, varying_keys
from streamtop.pipeline.model import WITHHELD, Entry
from streamtop.pipeline.render import name_text

from . import format as fmt
from .keyed_table import Cells, KeyedTable
from .registry import panel_bindings
from .view import MESSAGES_PAGE, DashboardView

COLUMNS = (("id", "id"), ("fields", "n"), ("content", "content"))
PREVIEW = 100
DECODE_LIMIT = 64 * 1024  # bytes of an entry decoded for its preview; a bigger one shows its fields
PLAIN = ("text", "bytes")  # field=value entries already read well as they are


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


def decoded_preview(decoded: Decoded, varying: frozenset[str] = frozenset(), limit: int = PREVIEW) -> Text:
    """The format in dim, then the telling (label, value) pairs first (streamtop.pipeline.decode.preview)."""
    text = Text(f"{decoded.format} ", style="dim")
    for label, value in pairs(decoded, varying):
        if text.cell_len >= limit:
            break
        if label:
            text.append_text(fmt.name(label, 24, "bold"))
            text.append("=")
        text.append_text(fmt.text(value))
        text.append("  ")
    text.rstrip()
    if text.cell_len > limit:
        text.truncate(limit - 1)
        text.append("…")
    return text


def decode_for_preview(e: Entry, fmt_name: str) -> Decoded | None:
    """None when the entry reads best as its fields (plain text, too big or cut, not decodable)."""
    if e.cut or sum(len(f) + len(v) for f, v in e.fields) > DECODE_LIMIT:
        return None
    decoded = decode_entry(e.fields, fmt_name)
    if decoded is None or (decoded.format in PLAIN and fmt_name not in PLAIN):
        return None
    return decoded


def message_cells(e: Entry, decoded: Decoded | None = None, varying: frozenset[str] = frozenset()) -> Cells:
    if e.withheld:
        return (e.id, "?", Text(WITHHELD, style="dim"))
    if not e.fields:
        return (e.id, "0", Text("(deleted)", style="dim"))
    return (e.id, str(len(e.fields)), preview(e) if decoded is None else decoded_preview(decoded, varying))


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
        self._decoded_for: tuple[bytes, str] | None = None
        self._decoded: dict[tuple[str, int], Decoded | None] = {}
        self.following = True  # at the newest page, cursor on the newest entry
        self.left_at: int | None = None  # the stream's entries-added (else length) when it stopped
        self.new_since = 0
        self._shown_for: bytes | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="messages-info")
        yield self.table

    def show(self, view: DashboardView) -> None:
        stream = view.stream
        entries = view.messages or ()
        table = self.table
        key = stream.key if stream is not None else None
        if key != self._shown_for:  # another stream: follow its tail
            self._shown_for, self.following, self.left_at, self.new_since = key, True, None, 0
        page = view.selection.messages_page
        self.following = page == 0 and (table.row_count == 0 or table.cursor_row == 0)
        # entries-added (7.0+) counts arrivals through trims; else the length does
        total = None
        if stream is not None:
            total = stream.entries_added if stream.entries_added is not None else stream.length
        if self.following:
            self.left_at, self.new_since = total, 0
        elif total is not None and self.left_at is not None:
            self.new_since = max(0, total - self.left_at)
        self.entries = {e.id: e for e in entries}
        decoded: dict[str, Decoded | None] = {}
        if stream is not None:
            decoded = self._decode(stream.key, view.thresholds.decode_format(stream.key), entries)
        varying = varying_keys(d.body for d in decoded.values() if d is not None)
        rows = [(e.id, message_cells(e, decoded.get(e.id), varying)) for e in entries]
        table.sync(rows, keep=rows[0][0] if self.following and rows else None)
        if self.following and rows:
            table.scroll_home(animate=False)
        if stream is None:
            title = Text("no stream selected")
        else:
            title = name_text(stream.key) + (Text(" (loading)") if view.messages is None else Text())
        where = "newest" if page == 0 else f"page {page + 1}"
        length = fmt.count(stream.length if stream else None)
        line = title + Text(f"  {where}: {len(entries)} of {length} entries")
        if self.following and entries:
            line.append("  following the tail", "green")
        elif self.new_since:
            line.append(f"  {self.new_since:,} new", "bold yellow")
        if stream is not None:  # the command behind the page, as the demo's lesson 3 asks to watch
            end = view.selection.messages_end
            line += (
                Text("  XREVRANGE ", "dim")
                + name_text(stream.key)
                + Text(f" {end} - COUNT {MESSAGES_PAGE}", "dim")
            )
        line.append("  (enter: full entry, ]: older, [: newest)")
        self.query_one("#messages-info", Static).update(line)

    def follow(self) -> None:
        """Back to the newest entry and follow the tail (`[`)."""
        if self.table.row_count:
            self.table.move_cursor(row=0)
        self.following = True

    def _decode(self, key: bytes, fmt_name: str, entries: tuple[Entry, ...]) -> dict[str, Decoded | None]:
        """Each entry decoded once: an ID's fields never change (a deleted entry has none)."""
        if self._decoded_for != (key, fmt_name):
            self._decoded_for, self._decoded = (key, fmt_name), {}
        cache = self._decoded
        out = {}
        for e in entries:
            if (e.id, len(e.fields)) not in cache:
                cache[(e.id, len(e.fields))] = decode_for_preview(e, fmt_name)
            out[e.id] = cache[(e.id, len(e.fields))]
        if len(cache) > 4 * len(entries) + 100:
            self._decoded = {(e.id, len(e.fields)): out[e.id] for e in entries}
        return out

    def current(self) -> Entry | None:
        key = self.table.cursor_key
        return self.entries.get(key) if key else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        entry = self.current()
        if entry is not None:
            self.post_message(self.Open(entry))
