"""Consumer groups of the selected stream, and a sparkline of the selected group's lag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Sparkline, Static

from ..history import Series
from ..model import GroupInfo, StreamInfo
from . import format as fmt
from .keyed_table import Cells, KeyedTable

COLUMNS = (("group", "name"), ("consumers", "consumers"), ("pending", "pending"),
           ("last delivered", "ldid"), ("entries read", "read"), ("lag", "lag"),
           ("read/s", "rate"), ("oldest pending", "idle"))


def group_cells(g: GroupInfo, rate: float | None) -> Cells:
    idle = g.oldest_pending_idle_ms
    # a failed XINFO CONSUMERS / XPENDING: marked here, the error itself in the consumers panel
    name = fmt.name(g.name, 30, "bold red") + Text(" !", "bold red") if g.error else fmt.name(g.name, 32)
    return (
        name,
        str(g.consumers),
        fmt.count(g.pending),
        g.last_delivered_id,
        fmt.count(g.entries_read),
        fmt.lag_text(g.lag),
        fmt.rate(rate),
        fmt.duration_ms(idle) if idle is not None else "-",
    )


class GroupsPanel(Vertical):
    """Posts `GroupsPanel.Selected` when the highlighted group changes."""

    class Selected(Message):
        def __init__(self, group: bytes | None) -> None:
            super().__init__()
            self.group = group

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.selected: bytes | None = None

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="groups-table")
        yield Static("", id="groups-empty")
        yield Static("lag", classes="spark-label", id="lag-label")
        yield Sparkline([], id="lag-spark")

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#groups-table", KeyedTable)

    def show(self, stream: StreamInfo | None, rate_of: Callable[[bytes], float | None],
             lag_series: Callable[[bytes], Series | None]) -> None:
        groups = stream.groups if stream is not None else ()
        keep = self.selected.hex() if self.selected is not None else None
        self.table.sync([(g.name.hex(), group_cells(g, rate_of(g.name))) for g in groups],
                        keep=keep)
        empty = self.query_one("#groups-empty", Static)
        empty.display = not groups
        if stream is None:
            empty.update("")
        elif stream.error:
            empty.update(Text("stream unavailable: ") + fmt.text(stream.error))
        else:
            empty.update("no consumer groups")
        self.border_title = Text("Groups of ") + fmt.name(stream.key, 40) if stream else "Groups"
        current = self.table.cursor_key
        new = bytes.fromhex(current) if current is not None else None
        if new != self.selected:
            self.selected = new
            self.post_message(self.Selected(new))
        series = lag_series(new) if new is not None else None
        data = series.values()[-60:] if series else []
        spark = self.query_one("#lag-spark", Sparkline)
        if list(spark.data or []) != data:
            spark.data = data
        label = self.query_one("#lag-label", Static)
        label.update(Text("lag of ") + fmt.name(new, 30) if new is not None else "lag")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        rk = event.row_key.value if event.row_key is not None else None
        new = bytes.fromhex(rk) if rk else None
        if new != self.selected:
            self.selected = new
            self.post_message(self.Selected(new))
