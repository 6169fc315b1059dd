"""The main screen from 80x24 to 250x70: every panel gets rows (or its zoom does), the header is one
line that always names the state, and Pending gets the space when a group is selected.

A constructed snapshot (50 streams, one with 3 groups, 40 pending entries and 30 messages on its
pages) through the real app with the pilot; rows are counted from what the compositor puts on
screen (a table's rows minus its header, clipped by its parents), not from the widgets' own sizes.
"""

from __future__ import annotations

import pytest

from streamtop.monitor import Monitor
from streamtop.pipeline.model import (
    ConsumerInfo,
    Discovery,
    Entry,
    Focus,
    FocusData,
    GroupInfo,
    Lag,
    LagSource,
    PendingEntry,
    ServerInfo,
    Snapshot,
    StreamInfo,
)
from streamtop.pipeline.source import ListSource
from streamtop.ui.app import StreamtopApp
from streamtop.ui.header import HeaderInfo, header_text
from streamtop.ui.layout import LOWER_CHROME, plan_rows
from streamtop.ui.streams import sort_label
from tests.support.ui import screen_text, visible_rows

SIZES = [(80, 24), (100, 30), (160, 45), (250, 70)]
T0 = 1_790_000_000_000
KEY, GROUP = b"orders", b"billing"
URL = "redis://streams.internal.example.com:6379/0"


def _group(name: bytes, pending: int) -> GroupInfo:
    consumers = tuple(ConsumerInfo(b"worker-%d" % i, pending // 3, 1000 * i, 2000 * i) for i in range(1, 4))
    return GroupInfo(
        name=name,
        consumers=3,
        pending=pending,
        last_delivered_id=f"{T0 + 900}-0",
        entries_read=900,
        lag=Lag(LagSource.EXACT, value=100),
        consumer_list=consumers,
    )


def layout_snapshot() -> Snapshot:
    """50 streams; `orders` has 3 groups, `billing` 40 pending entries; the pages are for
    orders/billing."""
    orders = StreamInfo(
        key=KEY,
        length=1000,
        first_entry_id=f"{T0}-0",
        last_entry_id=f"{T0 + 999}-0",
        last_generated_id=f"{T0 + 999}-0",
        entries_added=1000,
        max_deleted_entry_id="0-0",
        recorded_first_entry_id=f"{T0}-0",
        groups=(_group(GROUP, 40), _group(b"audit", 0), _group(b"replay", 3)),
    )
    others = tuple(
        StreamInfo(
            key=b"tenant:%02d:events" % i,
            length=i,
            first_entry_id=f"{T0}-0",
            last_entry_id=f"{T0 + i}-0",
            last_generated_id=f"{T0 + i}-0",
        )
        for i in range(49)
    )
    pending = tuple(
        PendingEntry(f"{T0 + i}-0", b"worker-%d" % (1 + i % 3), 5000 + i, 1 + i % 7) for i in range(40)
    )
    messages = tuple(Entry(f"{T0 + 999 - i}-0", ((b"n", str(i).encode()),)) for i in range(30))
    streams = (orders, *others)
    return Snapshot(
        taken_at=T0 / 1000,
        duration_ms=2.0,
        round_trips=1,
        server=ServerInfo(name="valkey", version="9.1.2", compat_version=(7, 2, 4)),
        streams=streams,
        discovery=Discovery(patterns=("*",), keys=tuple(s.key for s in streams), taken_at=T0 / 1000),
        focus=FocusData(focus=Focus(key=KEY, group=GROUP), pending=pending, messages=messages),
    )


async def _loaded(pilot) -> StreamtopApp:
    app = pilot.app
    app.show_snapshot(layout_snapshot())
    app.select(KEY, GROUP)
    await pilot.pause()
    await pilot.pause()  # the bands are re-planned once the scrollbars are known
    assert app.selected_key == KEY and app.selected_group == GROUP
    return app


def _app() -> StreamtopApp:
    return StreamtopApp(Monitor.on(ListSource()), url=URL, read_only=True)


def rows(app: StreamtopApp) -> dict[str, int]:
    m = app.main
    return {
        "streams": visible_rows(app, m.streams.table),
        "detail": visible_rows(app, m.detail.fields),
        "groups": visible_rows(app, m.groups.table),
        "consumers": visible_rows(app, m.consumers.table),
        "pending": visible_rows(app, m.pending.table),
        "messages": visible_rows(app, m.messages.table),
    }


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.slow
async def test_every_panel_has_rows(size) -> None:
    async with _app().run_test(size=size) as pilot:
        app = await _loaded(pilot)
        shown = rows(app)
        # whole keys, at every width (a line drawn before the table measured its rows kept the
        # key column as wide as its header: "ord")
        assert "tenant:00:events " in screen_text(app)
        assert shown["messages"] == 0  # behind its tab
        await pilot.press("2")
        await pilot.pause()
        shown["messages"] = rows(app)["messages"]
        # the groups and consumers bands are sized to their 3 rows: all of them, at every size
        assert shown["groups"] == 3 and shown["consumers"] == 3, shown
        if size == (80, 24):
            assert min(shown.values()) >= 3, shown
            assert shown["detail"] >= 5, shown
        else:
            assert shown["detail"] >= 8, shown
            assert min(shown["streams"], shown["pending"], shown["messages"]) >= 5, shown
        if size[1] >= 45:  # a group is selected: its pending entries get the room, not the groups
            assert shown["pending"] > 3 * shown["groups"], shown
        if size == (250, 70):
            assert shown["streams"] >= 15 and shown["pending"] >= 25, shown


async def test_pending_gets_the_space_at_160x45() -> None:
    async with _app().run_test(size=(160, 45)) as pilot:
        app = await _loaded(pilot)
        shown = rows(app)
        assert shown["pending"] > shown["groups"] == 3, shown
        table = app.main.groups.table  # no empty rows under the three groups
        assert table.size.height <= table.header_height + 3 + int(table.show_horizontal_scrollbar)


@pytest.mark.slow  # five zooms and restores per size: 4-7 s each
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_zoom_gives_every_panel_its_rows(size) -> None:
    """`z` on the focused panel fills the screen with it; `z` again restores the layout."""
    async with _app().run_test(size=size) as pilot:
        app = await _loaded(pilot)
        m = app.main
        normal = rows(app)
        for name, table, tab in (
            ("streams", m.streams.table, None),
            ("groups", m.groups.table, None),
            ("consumers", m.consumers.table, None),
            ("pending", m.pending.table, "1"),
            ("messages", m.messages.table, "2"),
        ):
            if tab:
                await pilot.press(tab)
            table.focus()
            await pilot.press("z")
            assert m.maximized is not None, name
            zoomed = visible_rows(app, table)
            assert zoomed >= min(table.row_count, 5), (name, zoomed)
            assert zoomed >= min(table.row_count, size[1] - 6), (name, zoomed)  # nearly all of it
            assert m.header.region.height == 1 and m.header.region.y == 0  # the state stays in view
            await pilot.press("z")
            assert m.maximized is None
        await pilot.press("1")
        await pilot.pause()
        assert rows(app) == normal
        m.pending.table.focus()
        await pilot.press("z", "escape")  # esc also restores
        assert m.maximized is None


STATES = [
    HeaderInfo(
        url=URL,
        server="Valkey 9.1.2 (standalone)",
        state="live",
        poll_ms=3.0,
        round_trips=1,
        streams=50,
        read_only=True,
    ),
    HeaderInfo(
        url=URL,
        server="Valkey 9.1.2 (standalone)",
        state="stale",
        stale_age=12.0,
        error="connection refused at streams.internal.example.com:6379",
        retry_in=4.0,
        streams=50,
    ),
    HeaderInfo(
        url=URL,
        server="Valkey 9.1.2 (cluster)",
        state="not answering",
        waiting=7.0,
        stale_age=7.0,
        nodes=3,
        streams=50,
        down_nodes=("10.0.0.7:6379 (timeout)",),
    ),
    HeaderInfo(url=URL, state="paused", streams=50),
    HeaderInfo(url=URL, state="connecting"),
]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.slow
async def test_header_is_one_line_with_the_state(size) -> None:
    app = _app()
    async with app.run_test(size=size) as pilot:
        await _loaded(pilot)
        header = app.main.header
        assert "PAUSED" not in header.render().plain and " LIVE " in header.render().plain
        for info in STATES:  # the states a monitor reaches (on real servers: test_hung_server, ...)
            app.header_info = lambda info=info: info  # what the one-second tick draws, too
            app.render_header()
            await pilot.pause()
            line = header.render()
            assert header.region.height == 1 and "\n" not in line.plain
            assert line.cell_len <= size[0], line.plain
            assert f" {info.state.upper()} " in line.plain, line.plain
            if info.state == "not answering":
                assert "NOT ANSWERING for 7 s" in line.plain
            if info.error:  # what fails is never dropped, at most cut
                assert line.plain.split(f" {info.state.upper()} ")[1].strip()[:10] == info.error[:10]


def test_header_drops_the_least_important_parts_first() -> None:
    info = STATES[0]
    full = header_text(info).plain
    assert "poll 3 ms" in full and URL in full and "READ-ONLY" in full
    narrower = [header_text(info, width).plain for width in (len(full), 100, 80, 50, 30)]
    assert narrower[0] == full
    assert "poll 3 ms" not in narrower[1] and URL in narrower[1]  # the poll figures go first
    assert URL in narrower[2] and "Valkey" not in narrower[2]
    assert all(" LIVE " in line and "READ-ONLY" in line for line in narrower[:4])
    assert all(len(line) <= width for line, width in zip(narrower[1:], (100, 80, 50, 30), strict=True))


def test_plan_gives_pending_more_rows_than_groups() -> None:
    """For every terminal height and any number of groups, the pages get at least as many rows as
    the groups band, which is capped."""
    for body in range(22, 69):
        for groups in range(0, 60):
            plan = plan_rows(body, groups, 3)
            lower_rows = body - plan.top - plan.middle - LOWER_CHROME
            middle_rows = plan.middle - 3 - (3 if plan.sparklines else 0)
            assert 1 <= middle_rows <= max(groups, 3), (body, groups, plan)
            assert lower_rows >= middle_rows, (body, groups, plan)
            assert plan.top >= 4


def test_sort_labels_say_what_they_mean() -> None:
    assert sort_label("key", False) == "key A→Z" and sort_label("key", True) == "key Z→A"
    assert sort_label("length", False) == "length 9→1" and sort_label("length", True) == "length 1→9"
    assert sort_label("idle", False) == "oldest pending 9→1"


@pytest.mark.slow
async def test_sort_title_follows_the_keys() -> None:
    async with _app().run_test(size=(160, 45)) as pilot:
        app = await _loaded(pilot)
        panel = app.main.streams
        assert "sort: key A→Z" in panel._border_title.plain
        app.main.streams.table.focus()
        await pilot.press("s")
        assert "sort: length 9→1" in panel._border_title.plain
        assert panel.table.row_keys[0] == KEY.hex()  # the longest first
        await pilot.press("S")
        assert "sort: length 1→9" in panel._border_title.plain
        assert panel.table.row_keys[-1] == KEY.hex()


class _Controller:
    """Just enough of the demo controller for the demo panel."""

    rate = 5.0

    def workers(self) -> list:
        return []

    def guide(self) -> str:
        return "the producer adds 5 events/s"


@pytest.mark.slow
async def test_demo_panel_looks_focused_only_when_it_is() -> None:
    from streamtop.ui.demo_panel import DemoPanel

    app = StreamtopApp(Monitor.on(ListSource()), url=URL, demo=_Controller())
    async with app.run_test(size=(160, 45)) as pilot:
        await _loaded(pilot)
        panel = app.main.query_one(DemoPanel)
        assert app.focused is app.main.streams.table
        focused = app.main.streams.styles.border_top[1]
        unfocused = app.main.groups.styles.border_top[1]
        assert focused != unfocused
        assert panel.styles.border_top[1] == unfocused  # it used to look focused all the time
        panel.query_one("#demo-workers").focus()
        await pilot.pause()
        assert panel.styles.border_top[1] == focused
        with_demo = rows(app)
        assert with_demo["pending"] >= 5 and with_demo["groups"] == 3, with_demo
