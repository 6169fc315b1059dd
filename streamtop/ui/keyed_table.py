"""A DataTable updated in place from (row key, cells) lists.

Only changed cells are touched, rows are added and removed one by one, and the cursor follows the
selected row key rather than a row index, so a live table keeps its cursor and scroll across
polls, and applying 1,000 rows that barely changed costs little.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

Cells = tuple[Any, ...]


class KeyedTable(DataTable):
    """`sync(rows)` makes the table show exactly `rows`, in that order, with minimal changes."""

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._columns = tuple(columns)
        self._cells: dict[str, Cells] = {}
        self._order: list[str] = []
        for title, key in self._columns:
            self.add_column(title, key=key)

    @property
    def row_keys(self) -> list[str]:
        return list(self._order)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None for an empty table)."""
        if not self._order or not 0 <= self.cursor_row < len(self._order):
            return None
        return self._order[self.cursor_row]

    def cells(self, key: str) -> Cells | None:
        return self._cells.get(key)

    def sync(self, rows: Sequence[tuple[str, Cells]], keep: str | None = None) -> bool:
        """Show `rows` in order. `keep` is the row key the cursor should stay on (default: the
        current one). Returns True when anything changed."""
        keep = self.cursor_key if keep is None else keep
        changed = False
        wanted = dict(rows)
        gone = [k for k in self._order if k not in wanted]
        if len(gone) > 100 and len(gone) > len(self._order) // 2:  # remove_row is O(rows)
            self.clear()
            self._cells.clear()
            self._order = []
            gone = []
        for key in gone:
            self.remove_row(key)
            del self._cells[key]
            changed = True
        col_keys = [k for _, k in self._columns]
        for key, cells in rows:
            old = self._cells.get(key)
            if old is None:
                self.add_row(*cells, key=key)
                changed = True
            else:
                for i, (a, b) in enumerate(zip(old, cells, strict=True)):
                    if _same(a, b):
                        continue
                    grew = _width(b) > _width(a)
                    self.update_cell(key, col_keys[i], b, update_width=grew)
                    changed = True
            self._cells[key] = cells
        order = [k for k, _ in rows]
        if order != self._current_order():
            self._reorder(order)
            changed = True
        self._order = order
        if keep is not None and keep in wanted:
            index = order.index(keep)
            if index != self.cursor_row:
                self.move_cursor(row=index, scroll=False)
        return changed

    def _current_order(self) -> list[str]:
        return [row.key.value for row in self.ordered_rows]

    def _reorder(self, order: list[str]) -> None:
        """Put rows in `order` without rebuilding them (what DataTable.sort does internally)."""
        from textual._two_way_dict import TwoWayDict

        self._row_locations = TwoWayDict({RowKey(k): i for i, k in enumerate(order)})
        self._update_count += 1
        self.refresh()

    def clear_rows(self) -> None:
        self.clear()
        self._cells.clear()
        self._order = []


def _same(a: Any, b: Any) -> bool:
    """Cell equality that sees style changes too (rich's Text.__eq__ ignores the base style)."""
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.style == b.style and a.spans == b.spans
    return type(a) is type(b) and a == b


def _width(cell: Any) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(str(cell))
