"""KeyedTable.sync: the table shows exactly the rows given; cursor and scroll follow the row key."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from streamtop.ui.keyed_table import KeyedTable


class Host(App):
    def compose(self) -> ComposeResult:
        yield KeyedTable((("name", "name"), ("n", "n")), id="t")


def rows(keys: list[str]) -> list[tuple[str, tuple[str, str]]]:
    return [(k, (k, str(len(k)))) for k in keys]


@pytest.fixture
async def table():
    """(table, pilot): an empty KeyedTable of two columns in a 60x20 app."""
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        yield app.query_one(KeyedTable), pilot


async def scrolled(table_and_pilot, keys: list[str], *rows_to: int) -> KeyedTable:
    """The table holding `keys`, the cursor moved to each row of `rows_to` in turn."""
    t, pilot = table_and_pilot
    t.sync(rows(keys))
    await pilot.pause()
    for row in rows_to:
        t.move_cursor(row=row)
        await pilot.pause()
    return t


async def test_many_rows_removed_at_once_keep_cursor_and_scroll(table) -> None:
    pilot = table[1]
    keys = [f"k{i:03d}" for i in range(400)]
    t = await scrolled(table, keys, 300)
    assert t.cursor_key == "k300" and t.scroll_y > 0
    kept = [k for i, k in enumerate(keys) if i % 3 == 0]  # 266 of 400 rows go, k300 stays
    assert t.sync(rows(kept))
    await pilot.pause()
    assert t.row_keys == kept
    assert [r.key.value for r in t.ordered_rows] == kept
    assert [str(t.get_row_at(i)[0]) for i in (0, 50, len(kept) - 1)] == [kept[0], kept[50], kept[-1]]
    assert t.cursor_key == "k300" and t.cursor_row == kept.index("k300")
    # the view did not jump to the top: the cursor's row is still on screen
    assert t.scroll_y > 0
    assert t.scroll_y <= t.cursor_row < t.scroll_y + t.scrollable_content_region.height
    # removing the cursor's own row leaves the cursor on a row that exists
    t.sync(rows([k for k in kept if k != "k300"]))
    await pilot.pause()
    assert t.cursor_key is not None and t.cursor_key in t.row_keys
    assert not t.sync(rows([k for k in kept if k != "k300"]))  # nothing changed
    t.sync(rows(["new", *kept[:3]]))
    await pilot.pause()
    assert t.row_keys == ["new", *kept[:3]] and len(t.ordered_rows) == 4
    t.sync([])
    await pilot.pause()
    assert t.row_keys == [] and t.cursor_key is None and t.row_count == 0


async def test_rows_going_below_the_view_do_not_move_it(table) -> None:
    pilot = table[1]
    keys = [f"k{i:03d}" for i in range(500)]
    t = await scrolled(table, keys, 150, 145)  # the cursor mid-view, not at its edge
    before = t.scroll_y
    assert before > 0
    t.sync(rows(keys[:240]))  # more than half the rows go, all below the view
    await pilot.pause()
    assert t.row_keys == keys[:240] and t.cursor_key == "k145"
    assert t.scroll_y == before


@pytest.mark.slow
async def test_render_caches_hold_one_screen_however_many_polls_changed_the_table(table) -> None:
    """Textual keys a DataTable's render caches by its update count: a live table that changes
    every poll once kept every poll's rendered cells (up to 10,000 per table), the memory growth
    bench/soak.py found. After any number of changing syncs, what is cached is one screen's worth."""
    t, pilot = table
    screen_cells = 20 * 3  # at most 20 visible rows x (2 columns + the header)
    for poll in range(60):
        t.sync([(f"k{i}", (f"k{i}", str(poll))) for i in range(50)])  # every row changes
        await pilot.pause()
    assert [str(c) for c in t.get_row_at(0)] == ["k0", "59"]
    assert 0 < len(t._cell_render_cache) <= screen_cells
    assert len(t._line_cache) <= 20 and len(t._row_render_cache) <= 2 * 20


async def test_many_cells_growing_at_once_widen_the_column_once_without_a_re_measure(table) -> None:
    """Issue 19's 65 s freeze: 1,000 cells of different widths, all wider than their column, were
    each handed to Textual to measure, which re-measured the whole column for every one narrower
    than the widest. Now the widest sets the width and nothing is left for Textual to measure."""
    pilot = table[1]
    keys = [f"k{i:03d}" for i in range(300)]
    t = await scrolled(table, keys)
    before = t.columns["name"].content_width
    widened = [(k, (k + "!" * (i % 40), str(len(k)))) for i, k in enumerate(keys)]
    t.sync(widened)
    assert t._updated_cells == set()  # no per-cell width work queued for Textual's idle
    assert t.columns["name"].content_width == max(len(c[0]) for _, c in widened) > before
    await pilot.pause()
    assert str(t.get_row_at(39)[0]) == "k039" + "!" * 39


def test_a_stale_row_keeps_its_key_cell_as_wide_as_the_key() -> None:
    """The stale mark is a style and a word in another column, never a wider key cell."""
    from streamtop.pipeline.model import StreamInfo
    from streamtop.ui.streams import stream_cells

    live = StreamInfo(key=b"ev:7", length=3, node="127.0.0.1:7001")
    stale_cells = stream_cells(StreamInfo(key=b"ev:7", length=3, node="127.0.0.1:7001", stale=True), None)
    assert stale_cells[0].plain == stream_cells(live, None)[0].plain == "ev:7"
    assert stale_cells[2].plain == "stale"
