"""The full consumer name (issue 18): the tables shorten long names in the middle, so the consumer
under the cursor is shown whole on the consumers panel's bottom border, and `enter` on a consumer or
on a pending entry opens the consumer in full (escaped as data, with its counts)."""

from __future__ import annotations

import pytest

from streamtop.ui.consumer_screen import ConsumerScreen
from tests.support.ui import SIZE, make_app, plain, row
from tests.support.waiting import until

LONG = b"taskiq-worker-7eca2a56-b8f4-4b22-8410-cab3a82e6f10-host-[red]x\x1b"
SHORT = b"c1"


@pytest.mark.slow
async def test_enter_on_a_consumer_or_a_pending_entry_shows_its_full_name(server, r):
    r.xgroup_create("s", "g", id="0", mkstream=True)
    for name in (SHORT, LONG):
        r.xadd("s", {"n": "1"})
        r.xreadgroup("g", name, {"s": ">"}, count=1)
    entry_id = r.xpending_range("s", "g", "-", "+", 10, consumername=LONG)[0]["message_id"].decode()
    app = make_app(server.url, ("s",))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.stream(b"s"))
        app.select(b"s", b"g")
        await until(pilot, lambda: row(app, "consumers-table", LONG.hex()), "the consumer rows")
        await until(pilot, lambda: row(app, "pending-table", entry_id), "the pending rows")
        panel, table = app.main.consumers, app.main.consumers.table
        full = "taskiq-worker-7eca2a56-b8f4-4b22-8410-cab3a82e6f10-host-[red]x\\x1b"
        assert "…" in row(app, "consumers-table", LONG.hex())[0]  # shortened in the table

        table.focus()
        table.move_cursor(row=table.row_keys.index(SHORT.hex()))
        await pilot.pause()
        assert panel.full_name.plain == ""  # c1 is whole in the table already
        table.move_cursor(row=table.row_keys.index(LONG.hex()))
        await until(pilot, lambda: panel.full_name.plain == full, "the full name on the border")

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConsumerScreen), "the consumer screen")
        body = plain(app.screen.body)
        assert full in body and "pending 1" in body and "pending entry" not in body
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConsumerScreen))
        assert app.focused is table  # back where it was

        pending = app.main.pending.table
        app.main.lower.active = "pending-tab"
        pending.focus()
        pending.move_cursor(row=pending.row_keys.index(entry_id))
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConsumerScreen), "the screen from the entry")
        body = plain(app.screen.body)
        assert full in body and f"pending entry {entry_id}: idle" in body and "delivered 1 times" in body


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_long_names_leave_the_pending_tables_numbers_on_screen(server, r, size):
    """The pending table's consumer column takes what the other columns leave (a uuid whole when
    there is room), so idle, deliveries and state stay visible from 80 columns up."""
    r.xgroup_create("s", "g", id="0", mkstream=True)
    for _ in range(3):
        r.xadd("s", {"n": "1"})
    r.xreadgroup("g", LONG, {"s": ">"}, count=3)
    app = make_app(server.url, ("s",))
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.stream(b"s"))
        app.select(b"s", b"g")
        table = app.main.pending.table

        def fits() -> bool:
            widths = [c.get_render_width(table) for c in table.columns.values()]
            return len(table.row_keys) == 3 and sum(widths) <= table.scrollable_content_region.width

        await until(pilot, fits, "every column of the pending table on screen")
        cell = row(app, "pending-table", table.row_keys[0])[2]
        assert "…" in cell and cell.startswith("taskiq-worker") and cell.endswith("x\\x1b")


KEY = b"orders.events.eu-west-1.tenant-7eca2a56-b8f4-4b22-8410-cab3a82e6f10"
GROUP = b"billing-service-7eca2a56-b8f4-4b22-8410-cab3a82e6f10"


def columns_on_screen(table) -> list[str]:
    """The labels of the leading columns that fit in the table's width."""
    room, shown = table.scrollable_content_region.width, []
    for column in table.columns.values():
        room -= column.get_render_width(table)
        if room < 0:
            break
        shown.append(column.label.plain)
    return shown


@pytest.mark.slow
@pytest.mark.parametrize(
    ("size", "streams_upto", "groups_upto"),
    [
        ((80, 24), "groups", "pending"),
        ((100, 30), "pending", "last delivered"),
        ((160, 45), "health", "time lag"),
    ],
)
async def test_long_keys_and_group_names_give_way_to_the_numbers(server, r, size, streams_upto, groups_upto):
    """A long key or group name loses its middle to what the numbers leave (it was cut at 48 and 32
    cells at the end, pushing the counts off the table at 80 and 100 columns)."""
    r.xgroup_create(KEY, GROUP, id="0", mkstream=True)
    r.xadd(KEY, {"n": "1"})
    app = make_app(server.url)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.stream(KEY))
        app.select(KEY, GROUP)
        await until(pilot, lambda: row(app, "groups-table", GROUP.hex()), "the group row")
        for table_id, upto in (("streams-table", streams_upto), ("groups-table", groups_upto)):
            table = app.w(table_id)
            await until(pilot, lambda t=table, u=upto: u in columns_on_screen(t), f"{table_id} up to {upto}")
        key_cell = row(app, "streams-table", KEY.hex())[0]
        assert "…" in key_cell and key_cell.startswith("orders") and key_cell.endswith("6f10")
        group_cell = row(app, "groups-table", GROUP.hex())[0]
        assert "…" in group_cell and group_cell.startswith("billin") and group_cell.endswith("6f10")
