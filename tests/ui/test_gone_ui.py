"""Gone consumers in the dashboard: greyed with the reason, last in the claim dialog's order, and
deleted from the group menu after a confirmation (a real server; the one-minute threshold is
shortened so no test waits a minute). Gone on the evidence the dashboard's poll has (issue 25):
entries waited for the group, undelivered, after the consumer's last attempt."""

from __future__ import annotations

import pytest

from streamtop.pipeline import liveness
from streamtop.ui.dialogs import ConfirmDialog
from streamtop.ui.dialogs.group import GroupMenu, open_group_menu
from tests.support.dialogs import ctx, hosted
from tests.support.ui import SIZE, make_app, plain, row
from tests.support.waiting import until, wait_for

GONE_AFTER = 400


@pytest.fixture
def short_threshold(monkeypatch):
    monkeypatch.setattr(liveness, "GONE_AFTER_MS", GONE_AFTER)


def idle_of(r, name: bytes) -> int:
    return next(c["idle"] for c in r.xinfo_consumers("s", "g") if c["name"] == name)


def dead_and_live(r) -> None:
    """`dead` read one entry, acked it, asked once more in vain and was killed; `live` only re-reads
    its own history (XREADGROUP ... 0: seen, takes nothing new); entries then wait, undelivered,
    which a reader blocked on the group would have been handed."""
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    entry = r.xreadgroup("g", "dead", {"s": ">"}, count=1)[0][1][0][0]
    r.xack("s", "g", entry)
    wait_for(lambda: idle_of(r, b"dead") > 5, "a later millisecond")
    r.xreadgroup("g", "dead", {"s": ">"}, count=1)  # nothing to read
    r.xreadgroup("g", "live", {"s": "0"})
    wait_for(lambda: idle_of(r, b"dead") > GONE_AFTER, "dead idles")
    r.xadd("s", {"n": "2"})
    r.xreadgroup("g", "live", {"s": "0"})


@pytest.mark.slow
async def test_gone_consumer_is_greyed_and_never_the_claim_default(server, r, short_threshold):
    dead_and_live(r)
    app = make_app(server.url, ("s",))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.stream(b"s"))
        app.select(b"s", b"g")

        def state(name: bytes) -> str | None:
            cells = row(app, "consumers-table", name.hex())
            return None if cells is None else cells[-1]

        def shown() -> bool:
            r.xreadgroup("g", "live", {"s": "0"})  # the live worker keeps asking
            return (state(b"dead") or "").startswith("gone: entries wait") and state(b"live") == ""

        await until(pilot, shown, "dead greyed as gone, live not")
        # the live one first, though `dead` may read as less idle at some poll (issue 18)
        assert app.action_context().consumers[0] == b"live"


@pytest.mark.slow
async def test_delete_gone_from_the_group_menu(server, r, short_threshold):
    dead_and_live(r)
    async with hosted(server, size=(80, 24)) as (app, pilot):
        open_group_menu(app, ctx(consumers=(b"dead", b"live")))
        await until(pilot, lambda: isinstance(app.screen, GroupMenu))
        app.screen.dismiss("delgone")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        body = plain(app.screen.query_one("#body").render())
        assert "\n  dead  " in body and "\n  live  " not in body
        await pilot.press("y")
        await until(pilot, lambda: app.results, "the result")
    assert app.results[0].ok and app.results[0].deleted == [b"dead"]
    assert [c["name"] for c in r.xinfo_consumers("s", "g")] == [b"live"]


async def test_long_consumer_names_leave_the_numbers_on_screen(server, r):
    """taskiq's uuid consumers at 160x45: pending, idle and inactive stay visible (issue 18)."""
    names = [b"7eca2a56-b8f4-4b22-8410-cab3a82e6f1%d" % n for n in range(3)]
    r.xgroup_create("s", "g", id="0", mkstream=True)
    for name in names:
        r.xadd("s", {"n": "1"})
        r.xreadgroup("g", name, {"s": ">"}, count=1)
    app = make_app(server.url, ("s",))
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.stream(b"s"))
        app.select(b"s", b"g")
        await until(pilot, lambda: all(row(app, "consumers-table", n.hex()) for n in names), "rows")
        await pilot.pause()
        table = app.main.consumers.table
        first = row(app, "consumers-table", names[0].hex())
        assert first is not None and first[0].startswith("7eca2a") and first[0].endswith("6f10")  # both ends
        widths = [c.get_render_width(table) for c in list(table.columns.values())[:4]]
        assert sum(widths) <= table.size.width, (widths, table.size.width)
