"""Consumer groups of the selected stream, and a sparkline of the selected group's lag."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Sparkline, Static

from streamtop.pipeline.health import Health
from streamtop.pipeline.model import GroupInfo
from streamtop.pipeline.render import middle_name_text

from . import format as fmt
from .keyed_table import Cells, KeyedTable
from .view import DashboardView

COLUMNS = (
    ("group", "name"),
    ("consumers", "consumers"),
    ("pending", "pending"),
    ("last delivered", "ldid"),
    ("read", "read"),  # entries-read; short headers: the table fits 155 columns (1400x900 in web)
    ("lag", "lag"),
    ("read/s", "rate"),
    ("oldest", "idle"),  # the oldest pending entry's age
    ("time lag", "tlag"),
    ("health", "health"),
)


NAME_WIDTH, NAME_MAX = 16, 32  # the group column: at least (and before the table is laid out), at most
OTHER_COLUMNS = 86  # consumers, pending, last delivered, read, lag, read/s, oldest, time lag, health


def name_width(table_width: int) -> int:
    """What the table leaves the group's name after the numbers (issue 18); a long name loses its
    middle (the consumers panel's title and the lag label name the group too)."""
    return max(NAME_WIDTH, min(NAME_MAX, table_width - OTHER_COLUMNS - 2)) if table_width else NAME_WIDTH


def group_cells(
    g: GroupInfo,
    rate: float | None,
    health: Health | None = None,
    width: int = NAME_MAX,
    summary_only: bool = False,
) -> Cells:
    """`summary_only`: the stream was read as a summary (issue 17), its oldest pending entry not."""
    idle = g.oldest_pending_idle_ms
    # a failed XINFO CONSUMERS / XPENDING: marked here, the error itself in the consumers panel
    name = (
        middle_name_text(g.name, width - 2, "bold red") + Text(" !", "bold red")
        if g.error
        else middle_name_text(g.name, width)
    )
    return (
        name,
        str(g.consumers),
        fmt.count(g.pending),
        g.last_delivered_id,
        fmt.count(g.entries_read),
        fmt.lag_text(g.lag),
        fmt.rate(rate),
        fmt.duration_ms(idle) if idle is not None else fmt.not_read() if summary_only and g.pending else "-",
        fmt.time_lag(g.time_lag),
        fmt.health_text(health.verdict if health is not None else None),
    )


def health_line(health: Health | None) -> Text:
    """'stuck: reads go on but ...': the selected group's verdict and its reason."""
    if health is None:
        return Text()
    line = fmt.health_text(health.verdict)
    line.append_text(fmt.text(f": {health.reason}"))  # a consumer name in a reason is data
    return line


class GroupsPanel(Vertical):
    """Posts `GroupsPanel.Selected` when the highlighted group changes."""

    ALLOW_MAXIMIZE = True  # `z` zooms the panel (title, table), not only its table

    class Selected(Message):
        def __init__(self, group: bytes | None) -> None:
            super().__init__()
            self.group = group

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = KeyedTable(COLUMNS, id="groups-table")
        self._selected: bytes | None = None  # the view's group: a highlight elsewhere is news
        self.shown_for: bytes | None = None  # the stream whose groups the table holds
        self.health_line = Text()  # the selected group's verdict and why
        self.name_width = NAME_WIDTH  # the group column's width at the last show
        self._view: DashboardView | None = None  # the last view shown (redrawn on a resize)

    def compose(self) -> ComposeResult:
        yield self.table
        yield Static("", id="groups-empty")
        yield Static("lag", classes="spark-label", id="lag-label")
        yield Sparkline([], id="lag-spark")

    def show(self, view: DashboardView) -> None:
        """The groups of the selected stream, the cursor on the selected group, its lag over time."""
        self._view = view
        stream = view.stream
        groups = stream.groups if stream is not None else ()
        selected = self._selected = view.selection.group
        summary = stream is not None and stream.summary_only
        self.shown_for = stream.key if stream is not None else None
        width = self.name_width = name_width(self.table.size.width)
        self.table.sync(
            [
                (g.name.hex(), group_cells(g, view.group_rate(g.name), view.health(g.name), width, summary))
                for g in groups
            ],
            keep=selected.hex() if selected is not None else None,
        )
        self.health_line = health_line(
            view.health(selected) if view.group is not None and selected is not None else None
        )
        # on the panel's bottom border: no row of the small groups table is given up for it
        self.border_subtitle = self.health_line
        empty = self.query_one("#groups-empty", Static)
        empty.display = not groups
        if stream is None:
            empty.update("")
        elif stream.error:
            empty.update(Text("stream unavailable: ") + fmt.text(stream.error))
        else:
            empty.update("no consumer groups")
        self.border_title = Text("Groups of ") + fmt.name(stream.key, 40) if stream else "Groups"
        series = view.lag_series(selected) if selected is not None else None
        data = series.values()[-60:] if series else []
        spark = self.query_one("#lag-spark", Sparkline)
        if list(spark.data or []) != data:
            spark.data = data
        label = self.query_one("#lag-label", Static)
        label.update(Text("lag of ") + fmt.name(selected, 30) if selected is not None else "lag")

    def on_resize(self, event: events.Resize) -> None:
        """The name column's room follows the table's width (the first layout included)."""
        if self._view is not None and name_width(self.table.size.width) != self.name_width:
            self.show(self._view)

    @property
    def highlighted(self) -> bytes | None:
        """The group under the cursor."""
        current = self.table.cursor_key
        return bytes.fromhex(current) if current is not None else None

    def move_to(self, group: bytes) -> None:
        """Put the cursor on a group of the stream shown (when it has it)."""
        if group.hex() in self.table.row_keys:
            self.table.move_cursor(row=self.table.row_keys.index(group.hex()))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        # the cursor as it is now: an event queued before a programmatic move is stale
        if self.highlighted != self._selected:
            self.post_message(self.Selected(self.highlighted))
