"""The selected stream's IDs and counters, and a sparkline of its in-rate."""

from __future__ import annotations

import time
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from streamtop.pipeline.model import StreamInfo

from . import format as fmt
from .view import DashboardView


def detail_rows(s: StreamInfo | None, rate: float | None) -> list[tuple[str, str]]:
    """Label and plain value (the key and an error escaped, as detail_table draws them)."""
    if s is None:
        return []
    head = [("key", fmt.name(s.key, 200).plain)]
    if s.error is not None:
        return [*head, ("error", fmt.text(s.error).plain)]
    return (
        head
        + [
            ("length", fmt.count(s.length)),
            ("first id", s.first_entry_id or "-"),
            ("last id", s.last_entry_id or "-"),
            ("last generated", s.last_generated_id or "-"),
            ("entries added", fmt.count(s.entries_added)),
            ("max deleted id", s.max_deleted_entry_id or fmt.UNKNOWN),
            ("recorded first", s.recorded_first_entry_id or fmt.UNKNOWN),
            ("in/s", fmt.rate(rate)),
        ]
        + (
            [
                (
                    "read in full",
                    f"{_age(s.info_taken_at)} (a first/last entry over 64 kB); length, last id"
                    " and groups are live",
                )
            ]
            if s.info_taken_at is not None
            else []
        )
    )


def _age(at: float) -> str:
    return f"{max(0, int(time.time() - at))} s ago"


def detail_table(rows: list[tuple[str, str]], key: bytes | None = None) -> Table | Text:
    """Every value is drawn as Text (never markup); the key with its escapes marked."""
    if not rows:
        return Text("no stream selected", style="dim")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for k, v in rows:
        if k == "key" and key is not None:
            grid.add_row(k, fmt.name(key, 200))
        else:
            grid.add_row(k, Text(v, style="red" if k == "error" else ""))
    return grid


class StreamDetail(Vertical):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields = Static(id="detail-fields")

    def compose(self) -> ComposeResult:
        yield self.fields
        yield Static("in/s", classes="spark-label")
        yield Sparkline([], id="in-spark")

    rows: list[tuple[str, str]] = []

    def show(self, view: DashboardView) -> None:
        """The selected stream's fields (redrawn only when they changed) and its in/s sparkline."""
        stream = view.stream
        rows = detail_rows(stream, view.stream_rate(stream.key) if stream is not None else None)
        if rows != self.rows or not rows:
            self.rows = rows
            self.fields.update(detail_table(rows, stream.key if stream is not None else None))
        series = view.in_series()
        data = series.values()[-60:] if series else []
        spark = self.query_one("#in-spark", Sparkline)
        if list(spark.data or []) != data:
            spark.data = data
