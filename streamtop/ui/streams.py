"""The streams panel: every discovered stream, filterable (`/`) and sortable (`s`, header click)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from itertools import compress, filterfalse
from operator import attrgetter, is_not, not_
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from streamtop.pipeline.model import Lag, StreamInfo
from streamtop.pipeline.render import middle_name_text

from . import format as fmt
from .keyed_table import Cells
from .registry import panel_bindings
from .view import DashboardView
from .virtual_table import VirtualTable

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
KEY = attrgetter("key")


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


# a column's value as the sort compares it: one column's values are all of one kind
SortValue = int | float | tuple[int, int] | bytes


def sort_value(s: StreamInfo, column: str, rate_of: RateOf) -> SortValue:
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


class RowOrder:
    """Every stream by key and the keys in the order shown, kept from poll to poll: a poll costs
    one pass that finds the streams that changed (by identity: a stream no poll read is the same
    object), and a sort only when one of them changed; a sort over the kept order is nearly
    sorted already, which Python's sort does in about one pass."""

    def __init__(self) -> None:
        self.streams: dict[bytes, StreamInfo] = {}
        self.everything: Sequence[StreamInfo] | None = None  # the tuple last seen
        self.ordered: list[bytes] = []  # every key, sorted
        self.shown: list[bytes] = []  # those that match the filter
        self.how: tuple[str, bool] | None = None
        self.pattern: str | None = None
        self._sort_key: dict[bytes, tuple[SortValue, bytes]] = {}
        self._matches: dict[bytes, bool] = {}

    def update(
        self, streams: Sequence[StreamInfo], pattern: str, column: str, reverse: bool, rate_of: RateOf
    ) -> list[bytes] | None:
        """The keys whose rows changed (None: every row may have). `shown` is a new list when
        the order changed, else the same one."""
        known = self.streams
        changed = [] if streams is self.everything else _changed(streams, self.everything)
        # in C: a first-scan part adds tens of thousands of streams at once
        keys = list(map(KEY, changed))
        new = list(filterfalse(known.__contains__, keys))
        changed_keys: list[bytes] | None
        if len(known) + len(new) != len(streams):  # some went: start again
            self.streams = known = dict(zip(map(KEY, streams), streams, strict=True))
            changed_keys, regrouped = None, True
        else:
            known.update(zip(keys, changed, strict=True))
            changed_keys, regrouped = keys, bool(new)
        self.everything = streams
        how = (column, reverse)
        resort = regrouped or how != self.how
        if column == "key":
            self._sort_key = {}
        elif how != self.how or changed_keys is None:
            self._sort_key = {k: _ordering(s, column, reverse, rate_of) for k, s in known.items()}
        else:
            sort_key = self._sort_key
            for s in changed:
                value = _ordering(s, column, reverse, rate_of)
                if sort_key.get(s.key) != value:
                    sort_key[s.key] = value
                    resort = True
        if resort:
            if column == "key":
                added_only = regrouped and changed_keys is not None
                self.ordered = _key_order(self.ordered, known, new, reverse, added_only)
            else:
                ordered = [k for k in self.ordered if k in known] + new if regrouped else list(self.ordered)
                if len(ordered) != len(known):  # the sort changed with streams gone and new at once
                    ordered = list(known)
                ordered.sort(key=self._sort_key.__getitem__)
                self.ordered = ordered
            self.how = how
        if pattern != self.pattern:
            self._matches, self.pattern, resort = {}, pattern, True
        if resort:
            if pattern:
                found = self._matches
                for k in known.keys() - found.keys():
                    found[k] = matches(known[k].label, pattern)
                self.shown = [k for k in self.ordered if found[k]]
            else:
                self.shown = self.ordered
        return changed_keys


def _changed(streams: Sequence[StreamInfo], before: Sequence[StreamInfo] | None) -> list[StreamInfo]:
    """The streams that are not an object of the last poll's tuple, found in C: a poll that read
    1% of 100,000 streams costs a few ms here, not a pass in Python. With the same keys, each is
    compared with the object at its place; with keys added (the first scan's parts: 100,000
    dictionary looks in Python were 30-140 ms an apply), by identity against the whole last tuple
    (which holds its objects alive, so their ids are theirs)."""
    if before is None:
        return list(streams)
    if len(before) == len(streams):
        return list(compress(streams, map(is_not, streams, before)))
    seen = set(map(id, before))
    return list(compress(streams, map(not_, map(seen.__contains__, map(id, streams)))))


def _key_order(
    ordered: list[bytes], known: dict[bytes, StreamInfo], new: list[bytes], reverse: bool, added_only: bool
) -> list[bytes]:
    """Every key in order. With keys only added, the new ones (sorted) after the kept order, sorted
    again: two sorted runs, which Python's sort merges in one pass (a sort of 100,000 keys from
    the dictionary's order was ~25 ms)."""
    if not added_only or len(ordered) + len(new) != len(known):
        return sorted(known, reverse=reverse)
    out = ordered + sorted(new, reverse=reverse)
    out.sort(reverse=reverse)
    return out


def _ordering(s: StreamInfo, column: str, reverse: bool, rate_of: RateOf) -> tuple[SortValue, bytes]:
    """A stream's place in the order: its value (largest first unless reversed), then its key A-Z."""
    value = sort_value(s, column, rate_of)
    if reverse:
        return (value, s.key)
    return (_negated(value), s.key)


def _negated(value: SortValue) -> SortValue:
    if isinstance(value, tuple):
        return (-value[0], -value[1])
    if isinstance(value, bytes):  # never asked: the key column's order is the keys' own
        raise TypeError("a key has no negative")
    return -value


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
        # the rows are virtual (issue 29): the table asks for the cells of the rows it draws
        self.table = VirtualTable(
            COLUMNS, self._cells_of, to_str=row_key, from_str=key_of, id="streams-table"
        )
        self.pattern = ""
        self.sort_column = "key"
        self.sort_reverse = False
        self.empty_text = ""
        self.name_width = NAME_WIDTH  # the key column's width at the last show
        self._view: DashboardView | None = None
        self._rows = RowOrder()  # every stream by key, and the order shown, kept between polls
        self.shown_keys: frozenset[bytes] = frozenset()  # rows on screen, as last reported

    class Shown(Message):
        """The rows on screen changed (scroll, sort, filter, resize, new streams)."""

        def __init__(self, keys: frozenset[bytes]) -> None:
            super().__init__()
            self.keys = keys

    def on_mount(self) -> None:
        self.watch(self.table, "scroll_y", lambda _: self._report_shown(), init=False)

    def _report_shown(self) -> None:
        keys = frozenset(self.table.ids_in_view())
        if keys != self.shown_keys:
            self.shown_keys = keys
            self.post_message(self.Shown(keys))

    def stream(self, key: bytes) -> StreamInfo | None:
        """A stream as the table last showed it."""
        return self._rows.streams.get(key)

    def _cells_of(self, key: bytes) -> Cells:
        """A row's cells, made when the table draws it."""
        s = self._rows.streams.get(key)
        view = self._view
        if s is None or view is None:
            return ("",) * len(COLUMNS)
        return stream_cells(s, view.stream_rate(key), view.stream_health(s), self.name_width)

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
        current: bytes | None = self.table.cursor_id
        return current

    def move_to(self, key: bytes) -> None:
        """Put the cursor on a stream (when it is shown), as a click would."""
        index = self.table._position(key)
        if index is not None:
            self.table.move_cursor(row=index)

    def _selected(self) -> bytes | None:
        return self._view.selection.key if self._view is not None else None

    def _sync_rows(self) -> None:
        """Work in proportion to the streams that changed and the rows on screen: the order is
        kept between polls and sorted again only when a changed stream moves it (issue 29)."""
        view = self._view
        streams = view.streams if view is not None else ()
        rate_of: RateOf = view.stream_rate if view is not None else (lambda key: None)
        width = name_width(self.table.size.width)
        changed = self._rows.update(streams, self.pattern, self.sort_column, self.sort_reverse, rate_of)
        if width != self.name_width:
            self.name_width, changed = width, None
        selected = self._selected()
        self.table.show(self._rows.shown, changed, keep=selected)
        self._report_shown()
        empty = self.query_one("#streams-empty", Static)
        self.empty_text = ""
        shown = len(self._rows.shown)
        if shown or view is None or not view.loaded:
            empty.display = False
        else:
            self.empty_text = "no streams match" if streams else "no streams found"
            empty.update(self.empty_text)
            empty.display = True
        self._update_title(shown, len(self._rows.streams))

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
