"""A DataTable whose rows are virtual: it holds an order of row IDs and asks for the cells of a
row only when that row is drawn (issue 29).

A DataTable keeps a Row, a RowKey, a cell dict and a location per row, measures every new row's
cells when idle and rebuilds lists of every row after each change: at 100,000 streams one
snapshot took 7-10 s to apply, the poll's reply was read late and the dashboard said NOT ANSWERING
on a healthy server. Here the row maps are views over one list of IDs (`_Rows`, `_Locations`,
`_Data`), cells are made by `cells_of(id)` for the rows on screen (and kept while they do not
change), columns are measured on the rows drawn, and a change of order costs the list itself. The
look, the keys, the cursor and the messages are DataTable's own: the rendering code is unchanged.
Row IDs are any hashable (bytes keys here); `to_str` / `from_str` give the str row keys the
DataTable API and the tests use.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.render import measure
from textual.widgets._data_table import default_cell_formatter  # what DataTable measures with
from textual.widgets.data_table import ColumnKey, Row, RowKey

from .keyed_table import Cells, KeyedTable, _literal

RowId = TypeVar("RowId", bound=Hashable)  # what a row stands for (a stream's key: bytes)
CellsOf = Callable[[RowId], Cells]
KEEP_CELLS = 400  # rows' cells kept between draws (a few screens); the rest are made again on demand
SCANS_BEFORE_INDEX = 2  # looks for a row's place by a scan of the order, before an index is built


class _Locations(Generic[RowId]):
    """DataTable's row key <-> index map, as a view of the order (an index built on demand)."""

    def __init__(self, table: VirtualTable[RowId]) -> None:
        self.t = table

    def get(self, key: RowKey | str | None, default: int | None = None) -> int | None:
        value = key.value if isinstance(key, RowKey) else key
        if value is None:
            return default
        got = self.t._position(self.t.from_str(value))
        return default if got is None else got

    def get_key(self, index: int) -> RowKey | None:
        order = self.t._order
        if 0 <= index < len(order):
            return RowKey(self.t.to_str(order[index]))
        return None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, RowKey | str) and self.get(key) is not None

    def __len__(self) -> int:
        return len(self.t._order)

    def __iter__(self) -> Iterator[RowKey]:
        to_str = self.t.to_str
        return (RowKey(to_str(i)) for i in self.t._order)


class _Rows(Generic[RowId]):
    """DataTable.rows: every row one line high, made on demand."""

    def __init__(self, table: VirtualTable[RowId]) -> None:
        self.t = table

    def get(self, key: RowKey | str, default: Row | None = None) -> Row | None:
        return self[key] if key in self.t._row_locations else default

    def __getitem__(self, key: RowKey | str) -> Row:
        value = key.value if isinstance(key, RowKey) else key
        return Row(RowKey(value), 1)

    def __contains__(self, key: object) -> bool:
        return key in self.t._row_locations

    def __len__(self) -> int:
        return len(self.t._order)

    def __iter__(self) -> Iterator[RowKey]:
        return iter(self.t._row_locations)


class _Data(Generic[RowId]):
    """DataTable._data: a row's cells by column key, from `cells_of` when asked."""

    def __init__(self, table: VirtualTable[RowId]) -> None:
        self.t = table

    def get(
        self, key: RowKey | str, default: dict[ColumnKey, object] | None = None
    ) -> dict[ColumnKey, object] | None:
        return self[key] if key in self.t._row_locations else default

    def __getitem__(self, key: RowKey | str) -> dict[ColumnKey, object]:
        value = key.value if isinstance(key, RowKey) else key
        if value is None:
            raise KeyError(key)
        cells = self.t.row_cells(self.t.from_str(value))
        return dict(zip(self.t._column_keys, map(_literal, cells), strict=False))

    def __contains__(self, key: object) -> bool:
        return key in self.t._row_locations

    def __len__(self) -> int:
        return len(self.t._order)


class _OrderedRows(Sequence[Row], Generic[RowId]):
    """DataTable.ordered_rows without a list of every row: slices are views too."""

    def __init__(self, table: VirtualTable[RowId], span: range) -> None:
        self.t, self.span = table, span

    def __len__(self) -> int:
        return len(self.span)

    @overload
    def __getitem__(self, index: int) -> Row: ...
    @overload
    def __getitem__(self, index: slice) -> _OrderedRows[RowId]: ...
    def __getitem__(self, index: int | slice) -> Row | _OrderedRows[RowId]:
        if isinstance(index, slice):
            return _OrderedRows(self.t, self.span[index])
        i = self.span[index]
        return Row(RowKey(self.t.to_str(self.t._order[i])), 1)


class _Offsets(Sequence[tuple[RowKey, int]], Generic[RowId]):
    """DataTable._y_offsets: line y is row y (every row is one line)."""

    def __init__(self, table: VirtualTable[RowId]) -> None:
        self.t = table

    def __len__(self) -> int:
        return len(self.t._order)

    @overload
    def __getitem__(self, y: int) -> tuple[RowKey, int]: ...
    @overload
    def __getitem__(self, y: slice) -> list[tuple[RowKey, int]]: ...
    def __getitem__(self, y: int | slice) -> tuple[RowKey, int] | list[tuple[RowKey, int]]:
        if isinstance(y, slice):
            return [self[i] for i in range(*y.indices(len(self)))]
        return (RowKey(self.t.to_str(self.t._order[y])), 0)


class VirtualTable(KeyedTable, Generic[RowId]):
    """`show(order, changed)` makes the table show the rows of `order` (row IDs); `cells_of(id)`
    makes a row's cells when it is drawn; `changed` says which rows' cells are out of date (None:
    all of them). The cursor stays on its row ID across changes of order."""

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        cells_of: CellsOf[RowId],
        *,
        to_str: Callable[[RowId], str],
        from_str: Callable[[str], RowId],
        **kwargs: Any,
    ) -> None:
        self._order: list[RowId] = []  # type: ignore[assignment]  # row IDs, not str keys
        self._pos: dict[RowId, int] | None = {}  # index of each ID, built when first asked
        self._scans = 0  # looks by a scan since the order changed
        super().__init__(columns, **kwargs)
        self.cells_of = cells_of
        self.to_str, self.from_str = to_str, from_str
        self._order, self._pos = [], {}
        self._cells: dict[RowId, Cells] = {}  # type: ignore[assignment]  # cells of rows drawn lately
        self._column_keys = [ColumnKey(k) for _, k in self._columns]
        self._row_locations = _Locations(self)  # type: ignore[assignment]  # a view, not a TwoWayDict
        self.rows = _Rows(self)  # type: ignore[assignment]
        self._data = _Data(self)  # type: ignore[assignment]

    # what DataTable builds per row, as views of the order ---------------------------------------

    @property
    def ordered_rows(self) -> _OrderedRows[RowId]:  # type: ignore[override]  # DataTable's: a list of every row
        return _OrderedRows(self, range(len(self._order)))

    @property
    def _y_offsets(self) -> _Offsets[RowId]:  # type: ignore[override]  # DataTable's: a list
        return _Offsets(self)

    @property
    def row_count(self) -> int:
        return len(self._order)

    def _position(self, row_id: RowId) -> int | None:
        if self._pos is None:
            self._scans += 1
            if self._scans <= SCANS_BEFORE_INDEX:  # a look or two after each new order: a scan in
                try:  # C, ~1 ms at 100,000 rows, where building the index was ~20 ms an apply
                    return self._order.index(row_id)
                except ValueError:
                    return None
            self._pos = dict(zip(self._order, range(len(self._order)), strict=True))
        return self._pos.get(row_id)

    def _get_row_region(self, row_index: int) -> Region:
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        width = sum(c.get_render_width(self) for c in self.columns.values())
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(0, y, max(self.size.width, width), 1)

    def _get_cell_region(self, coordinate: Coordinate) -> Region:
        row = self._get_row_region(coordinate.row)
        if not row.height or not self.is_valid_column_index(coordinate.column):
            return Region(0, 0, 0, 0)
        columns = self.ordered_columns
        x = sum(c.get_render_width(self) for c in columns[: coordinate.column])
        return Region(x, row.y, columns[coordinate.column].get_render_width(self), 1)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Widen the columns for the rows on screen (never narrower), then the virtual size: the
        rows off screen are measured when they come into view."""
        console = self.app.console
        columns = self.ordered_columns
        widened = False
        for row_id in self.ids_in_view():
            for column, cell in zip(columns, self.row_cells(row_id), strict=False):
                width = measure(console, default_cell_formatter(_literal(cell), wrap=False, height=1), 1)
                if width > column.content_width:
                    column.content_width = width
                    widened = True
        header = self.header_height if self.show_header else 0
        width = sum(c.get_render_width(self) for c in self.columns.values())
        self.virtual_size = Size(width, len(self._order) + header)
        if widened:
            self._update_count += 1
            self._drop_dead_renders()
            self.refresh()

    # the API the panels use -------------------------------------------------------------------

    def row_cells(self, row_id: RowId) -> Cells:
        got = self._cells.get(row_id)
        if got is None:
            if len(self._cells) > KEEP_CELLS:
                self._cells.clear()
            got = self._cells[row_id] = self.cells_of(row_id)
        return got

    @property
    def ids(self) -> list[RowId]:
        """The row IDs in order (the table's own list: do not change it)."""
        return self._order

    @property
    def row_keys(self) -> list[str]:
        return [self.to_str(i) for i in self._order]

    @property
    def cursor_id(self) -> RowId | None:
        order = self._order
        return order[self.cursor_row] if order and 0 <= self.cursor_row < len(order) else None

    @property
    def cursor_key(self) -> str | None:
        got = self.cursor_id
        return None if got is None else self.to_str(got)

    def ids_in_view(self) -> list[RowId]:
        """The IDs of the rows on screen now; before the first layout, as many as the app's screen
        could show."""
        height = self.scrollable_content_region.height or self.app.size.height
        if self.show_header and self.scrollable_content_region.height:
            height = max(0, height - self.header_height)
        top = max(0, int(self.scroll_y))
        return self._order[top : top + height]

    def rows_in_view(self) -> list[str]:
        return [self.to_str(i) for i in self.ids_in_view()]

    def cells(self, key: str) -> Cells | None:
        row_id = self.from_str(key)
        return self.row_cells(row_id) if self._position(row_id) is not None else None

    def show(
        self, order: list[RowId], changed: Iterable[RowId] | None = None, keep: RowId | None = None
    ) -> bool:
        """Show the rows of `order`, in that order (the list is kept: pass a new one to change it).
        `changed`: the IDs whose cells are out of date (None: every row's); `keep`: the row ID the
        cursor stays on (default: the one under it). Returns True when anything changed."""
        keep = self.cursor_id if keep is None else keep
        moved = order is not self._order
        touched = False
        if changed is None:
            touched = bool(self._cells)
            self._cells.clear()
        else:
            cells = self._cells
            if not isinstance(changed, list | tuple) or len(changed) <= len(cells):
                for row_id in changed:
                    if cells.pop(row_id, None) is not None:
                        touched = True
            else:  # many changed (a first-scan part: tens of thousands), few cells kept
                for row_id in cells.keys() & set(changed):
                    del cells[row_id]
                    touched = True
        if moved:
            self._order, self._pos, self._scans = order, None, 0
        if not (moved or touched):
            return False
        self._update_count += 1
        self._drop_dead_renders()
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows there are
        if keep is not None and keep != self.cursor_id:
            index = self._position(keep)
            if index is not None and index != self.cursor_row:
                self.move_cursor(row=index, scroll=False)
        self.refresh()
        return True

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if int(old) != int(new):
            self._require_update_dimensions = True  # rows come into view: measure them
            self.check_idle()

    def sync(self, rows: Sequence[tuple[str, Cells]], keep: str | None = None) -> bool:
        """KeyedTable's API, for a few rows (tests): the cells as given."""
        given = {self.from_str(k): c for k, c in rows}
        self.cells_of = given.__getitem__
        return self.show(
            [self.from_str(k) for k, _ in rows], None, None if keep is None else self.from_str(keep)
        )
