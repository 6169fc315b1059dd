"""The streams panel: every discovered stream, filterable (`/`) and sortable (`s`, header click)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from ..model import Lag, StreamInfo
from ..render import middle_name_text
from . import format as fmt
from .keyed_table import Cells, KeyedTable
from .registry import panel_bindings
from .view import DashboardView

COLUMNS = (
    ("key", "key"),
    ("length", "length"),
    ("in/s", "rate"),
    ("groups", "groups"),
    ("max lag", "lag"),
    ("pending", "pending"),
    ("oldest pending", "idle"),
    ("health", "health"),
)
SORTS = tuple(k for _, k in COLUMNS if k != "health")
TITLES = dict((k, t) for t, k in COLUMNS)
GLOB = frozenset("*?[")

RateOf = Callable[[bytes], float | None]


def row_key(key: bytes) -> str:
    return key.hex()


def key_of(row: str) -> bytes:
    return bytes.fromhex(row)


def matches(stream_label: str, pattern: str) -> bool:
    """A glob when the pattern has *, ? or [; else a case-insensitive substring."""
    if not pattern:
        return True
    if any(c in GLOB for c in pattern):
        return fnmatch.fnmatchcase(stream_label, pattern)
    return pattern.lower() in stream_label.lower()


def sort_label(column: str, reverse: bool) -> str:
    """What the order means, not an arrow to decode: the key sorts A→Z by default, every number
    largest first (as top does); `S` reverses either."""
    if column == "key":
        return "key Z→A" if reverse else "key A→Z"
    return f"{TITLES.get(column, column)} {'1→9' if reverse else '9→1'}"


def _lag_sort(lag: Lag | None) -> tuple[int, int]:
    if lag is None:
        return (0, -1)
    best = lag.best
    return (2, 0) if best is None else (1, best)  # unknown sorts as the worst


def sort_value(s: StreamInfo, column: str, rate_of: RateOf) -> Any:
    if column == "length":
        return s.length
    if column == "rate":
        return rate_of(s.key) or 0.0
    if column == "groups":
        return s.group_count
    if column == "lag":
        return _lag_sort(s.max_lag)
    if column == "pending":
        return s.total_pending
    if column == "idle":
        return s.oldest_pending_idle_ms or -1
    return s.key


def visible_streams(
    streams: Sequence[StreamInfo], pattern: str, column: str, reverse: bool, rate_of: RateOf
) -> list[StreamInfo]:
    shown = [s for s in streams if matches(s.label, pattern)] if pattern else list(streams)
    shown.sort(key=lambda s: s.key)
    if column != "key":
        shown.sort(key=lambda s: sort_value(s, column, rate_of), reverse=not reverse)
    elif reverse:
        shown.reverse()
    return shown


NAME_WIDTH, NAME_MAX = 20, 48  # the key column: at least (and before the table is laid out), at most
OTHER_COLUMNS = 65  # length, in/s, groups, max lag, pending, oldest pending, health: their headers, padded


def name_width(table_width: int) -> int:
    """What the table leaves the key after the numbers, which stay on screen (issue 18); a key
    loses its middle (the detail panel shows it whole). 2: the key column's own padding."""
    return max(NAME_WIDTH, min(NAME_MAX, table_width - OTHER_COLUMNS - 2)) if table_width else NAME_WIDTH


def stream_cells(
    s: StreamInfo,
    rate: float | None,
    health: str | None = None,
    width: int = NAME_MAX,
    name: Text | None = None,
) -> Cells:
    """`health`: the worst verdict of the stream's groups; `width`: the key column's; `name`: the
    key as shown at that width, when it was made already."""
    name = name or middle_name_text(s.key, width)
    if s.error is not None:
        problem = "gone" if "no such key" in s.error.lower() else "error"
        return (middle_name_text(s.key, width, "red"), Text(problem, style="red"), "", "", "", "", "", "")
    idle = s.oldest_pending_idle_ms
    if s.stale:  # cluster: its node did not answer; these are the last values seen. The mark is a
        # style and the word in the rate column, never a wider key: the header names the node
        return (
            middle_name_text(s.key, width, "dim red"),
            Text(fmt.count(s.length), "dim"),
            Text("stale", "red"),
            str(s.group_count),
            fmt.lag_text(s.max_lag),
            fmt.count(s.total_pending),
            "-",
            Text(str(health or "-"), "dim"),
        )
    return (
        name,
        fmt.count(s.length),
        fmt.rate(rate),
        str(s.group_count),
        fmt.lag_text(s.max_lag),
        fmt.count(s.total_pending),
        fmt.duration_ms(idle)
        if idle is not None
        else fmt.not_read()
        if s.summary_only and s.total_pending
        else "-",
        fmt.health_text(health),
    )


class FilterInput(Input):
    """The stream filter takes keys only while it is shown: Textual counts a display:none widget
    as focusable, and gave the hidden filter the keys typed after a dialog closed (issue 18)."""

    def allow_focus(self) -> bool:
        return bool(self.display) and super().allow_focus()


class StreamsPanel(Vertical):
    """Posts `StreamsPanel.Selected` when the highlighted stream changes."""

    ALLOW_MAXIMIZE = True  # `z` zooms the panel (title, table), not only its table

    BINDINGS = panel_bindings("streams")  # streamtop.ui.registry declares the keys

    class Selected(Message):
        def __init__(self, key: bytes | None) -> None:
            super().__init__()
            self.key = key

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = KeyedTable(COLUMNS, id="streams-table")
        self.pattern = ""
        self.sort_column = "key"
        self.sort_reverse = False
        self.empty_text = ""
        self.name_width = NAME_WIDTH  # the key column's width at the last show
        self._view: DashboardView | None = None
        # per stream: the cells made for that very StreamInfo, rate and verdict, reused as they are
        # (the same object) while those do not change, so a row no poll read costs no formatting
        self._made: dict[bytes, tuple[StreamInfo, tuple[float | None, str | None, int], Cells]] = {}
        self.shown_keys: frozenset[bytes] = frozenset()  # rows on screen, as last reported

    class Shown(Message):
        """The rows on screen changed (scroll, sort, filter, resize, new streams)."""

        def __init__(self, keys: frozenset[bytes]) -> None:
            super().__init__()
            self.keys = keys

    def on_mount(self) -> None:
        self.watch(self.table, "scroll_y", lambda _: self._report_shown(), init=False)

    def _report_shown(self) -> None:
        keys = frozenset(key_of(k) for k in self.table.rows_in_view())
        if keys != self.shown_keys:
            self.shown_keys = keys
            self.post_message(self.Shown(keys))

    def _cells_of(self, s: StreamInfo, rate: float | None, health: str | None, width: int) -> Cells:
        made = self._made.get(s.key)
        if made is not None and made[0] is s and made[1] == (rate, health, width):
            return made[2]
        # the key's Text again, when the last one was made at this width for a plain row
        reuse = made is not None and made[1][2] == width and made[0].error is None and not made[0].stale
        cells = stream_cells(s, rate, health, width, made[2][0] if reuse and made is not None else None)
        self._made[s.key] = (s, (rate, health, width), cells)
        return cells

    def compose(self) -> ComposeResult:
        box = FilterInput(placeholder="filter: substring or glob (esc clears)", id="filter")
        box.display = False  # until `/`
        yield box
        yield self.table
        yield Static("", id="streams-empty")

    def show(self, view: DashboardView) -> None:
        """The streams of the view, filtered and sorted here, the cursor on the selected one."""
        self._view = view
        self._sync_rows()

    @property
    def highlighted(self) -> bytes | None:
        """The stream under the cursor (after a filter or a vanished key, not the selection)."""
        current = self.table.cursor_key
        return key_of(current) if current is not None else None

    def move_to(self, key: bytes) -> None:
        """Put the cursor on a stream (when it is shown), as a click would."""
        rk = row_key(key)
        if rk in self.table.row_keys:
            self.table.move_cursor(row=self.table.row_keys.index(rk))

    def _selected(self) -> bytes | None:
        return self._view.selection.key if self._view is not None else None

    def _sync_rows(self) -> None:
        view = self._view
        streams = view.streams if view is not None else ()
        rate_of: RateOf = view.stream_rate if view is not None else (lambda key: None)
        shown = visible_streams(streams, self.pattern, self.sort_column, self.sort_reverse, rate_of)
        selected = self._selected()
        keep = row_key(selected) if selected is not None else None
        health_of = view.stream_health if view is not None else (lambda s: None)
        width = self.name_width = name_width(self.table.size.width)
        self.table.sync(
            [(row_key(s.key), self._cells_of(s, rate_of(s.key), health_of(s), width)) for s in shown],
            keep=keep,
        )
        if len(self._made) > len(streams):
            present = {s.key for s in streams}
            self._made = {k: v for k, v in self._made.items() if k in present}
        self._report_shown()
        empty = self.query_one("#streams-empty", Static)
        self.empty_text = ""
        if shown or view is None or not view.loaded:
            empty.display = False
        else:
            self.empty_text = "no streams match" if streams else "no streams found"
            empty.update(self.empty_text)
            empty.display = True
        self._update_title(len(shown), len(streams))

    def on_resize(self, event: events.Resize) -> None:
        """The key column's room follows the table's width (the first layout included)."""
        if self._view is not None and name_width(self.table.size.width) != self.name_width:
            self._sync_rows()
        self._report_shown()  # more or fewer rows on screen (issue 17)

    def refresh_rows(self) -> None:
        """Filter or sort changed here: the cursor may now be on another stream; say so."""
        self._sync_rows()
        if self.highlighted != self._selected():
            self.post_message(self.Selected(self.highlighted))

    def _update_title(self, shown: int, total: int) -> None:
        title = Text(f"Streams {shown}/{total}  sort: {sort_label(self.sort_column, self.sort_reverse)}")
        if self.pattern:  # typed, and a glob has [ ]: data, not markup
            title += Text("  filter: ") + fmt.name(self.pattern, 40)
        self.border_title = title

    # events -----------------------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        # the cursor as it is now: an event queued before a programmatic move is stale
        if self.highlighted != self._selected():
            self.post_message(self.Selected(self.highlighted))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value or "key"
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self.refresh_rows()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.pattern = event.value
        self.refresh_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        self.pattern = ""
        box.display = False
        self.refresh_rows()
        self.table.focus()

    def set_filter(self, pattern: str) -> None:
        box = self.query_one("#filter", Input)
        box.display = bool(pattern)
        box.value = pattern
        self.pattern = pattern
        self.refresh_rows()

    def action_sort(self) -> None:
        i = SORTS.index(self.sort_column) if self.sort_column in SORTS else 0
        self.sort_column, self.sort_reverse = SORTS[(i + 1) % len(SORTS)], False
        self.refresh_rows()

    def action_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.refresh_rows()
