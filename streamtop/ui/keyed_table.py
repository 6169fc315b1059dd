"""A DataTable updated in place from (row key, cells) lists.

Only changed cells are touched, rows are added one by one and removed all at once (the row index is
rebuilt once, not per removed row as DataTable.remove_row does), and the cursor follows the selected
row key rather than a row index, so a live table keeps its cursor and scroll across polls, and
applying 1,000 rows that barely changed costs little. A str cell is shown as it is, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

Cells = tuple[object, ...]  # a row's cells: Text, str (shown as text, never markup), numbers


class KeyedTable(DataTable[object]):
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

    def rows_in_view(self) -> list[str]:
        """The keys of the rows on screen now (one line per row); before the first layout, as
        many as the app's screen could show."""
        height = self.scrollable_content_region.height or self.app.size.height
        if self.show_header:
            height = max(0, height - self.header_height) if self.scrollable_content_region.height else height
        top = max(0, int(self.scroll_y))
        return self._order[top : top + height]

    def cells(self, key: str) -> Cells | None:
        return self._cells.get(key)

    def sync(self, rows: Sequence[tuple[str, Cells]], keep: str | None = None) -> bool:
        """Show `rows` in order. `keep` is the row key the cursor should stay on (default: the
        current one). Returns True when anything changed."""
        keep = self.cursor_key if keep is None else keep
        changed = False
        wanted = dict(rows)
        gone = [k for k in self._order if k not in wanted]
        if gone:
            self._remove_rows(gone)
            changed = True
        col_keys = [ColumnKey(k) for _, k in self._columns]
        columns = [self.columns[k] for k in col_keys]
        updated = 0  # cells written in place: one refresh for all of them
        grown: dict[int, int] = {}  # column index -> the widest changed cell that outgrew it
        for key, cells in rows:
            old = self._cells.get(key)
            if old is cells:  # the same tuple: made once for data that did not change
                continue
            if old is None:
                self.add_row(*map(_literal, cells), key=key)
                changed = True
            else:
                row_data = self._data[RowKey(key)]
                for i, (a, b) in enumerate(zip(old, cells, strict=True)):
                    if _same(a, b):
                        continue
                    # never update_width=True: on idle Textual re-measures the whole column for
                    # every updated cell narrower than the column's new width (1,000 rows going
                    # stale at once: 1,000 x 3,000 cells, a 65 s freeze); the widths are widened
                    # here instead, once per column per sync, and never re-measured
                    width = _width(b)
                    if width > columns[i].content_width:
                        grown[i] = max(grown.get(i, 0), width)
                    # what update_cell does, less its refresh per cell (10,000 rows, 2,000 of them
                    # changed: 16,000 refreshes of a table that shows 30 of them)
                    row_data[col_keys[i]] = _literal(b)
                    updated += 1
            self._cells[key] = cells
        if updated:
            self._update_count += 1
            self.refresh()
            changed = True
        for i, width in grown.items():
            columns[i].content_width = max(columns[i].content_width, width)
            self._require_update_dimensions = True
        order = [k for k, _ in rows]
        if order != self._current_order():
            self._reorder(order)
            changed = True
        self._order = order
        if changed:
            self._drop_dead_renders()
        if keep is not None and keep in wanted:
            index = order.index(keep)
            if index != self.cursor_row:
                self.move_cursor(row=index, scroll=False)
        return changed

    def _drop_dead_renders(self) -> None:
        """Textual keys these render caches by the table's update count, which every change
        moves on, so what they hold is dead after one. Left alone they filled up to Textual's
        bounds (10,000 cells per table): RSS +40 MB over 10 minutes of a busy stream, and still
        growing while idle (bench/soak.py)."""
        for cache in (
            self._cell_render_cache,
            self._row_render_cache,
            self._row_renderable_cache,
            self._line_cache,
        ):
            cache.clear()

    def _remove_rows(self, gone: list[str]) -> None:
        """DataTable.remove_row for many rows at once: drop them from the row maps, then rebuild
        the row index once (remove_row rebuilds it per row: quadratic for many rows)."""
        from textual._two_way_dict import TwoWayDict
        from textual.widgets.data_table import CellKey

        gone_set = set(gone)
        for key in gone:
            row_key = RowKey(key)
            for column_key in self._data.get(row_key, {}):
                self._updated_cells.discard(CellKey(row_key, column_key))
            self.rows.pop(row_key, None)
            self._data.pop(row_key, None)
            del self._cells[key]
        remaining = [k for k in self._order if k not in gone_set]
        self._order = remaining
        self._row_locations = TwoWayDict({RowKey(k): i for i, k in enumerate(remaining)})
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate  # clamps it to the rows left
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """DataTable measures new rows when idle; a line drawn before that (a layout change in
        between) stays cached with the old column widths, keys cut to their header's width.
        A column that grew invalidates those lines (Textual 8.2 keys them by _update_count)."""
        before = [c.content_width for c in self.columns.values()]
        super()._update_dimensions(new_rows)
        if [c.content_width for c in self.columns.values()] != before:
            self._update_count += 1
            self._drop_dead_renders()
            self.refresh()

    def _current_order(self) -> list[str]:
        return [row.key.value for row in self.ordered_rows if row.key.value is not None]  # all are keyed

    def _reorder(self, order: list[str]) -> None:
        """Put rows in `order` without rebuilding them (what DataTable.sort does internally)."""
        from textual._two_way_dict import TwoWayDict

        self._row_locations = TwoWayDict({RowKey(k): i for i, k in enumerate(order)})
        self._update_count += 1
        self.refresh()


def _literal(cell: object) -> object:
    """DataTable parses a str cell as markup: every str shown here is data, so it becomes Text
    (names arrive as escaped Text already; this covers IDs, counts and anything added later)."""
    return Text(cell, no_wrap=True, end="") if isinstance(cell, str) else cell


def _same(a: object, b: object) -> bool:
    """Cell equality that sees style changes too (rich's Text.__eq__ ignores the base style)."""
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.style == b.style and a.spans == b.spans
    return type(a) is type(b) and a == b


def _width(cell: object) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(str(cell))
