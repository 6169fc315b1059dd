"""Issue 29: the Messages page's XREVRANGE runs only while its tab is shown (a selected stream with
a 10 MB entry cost 10 MB/s behind the Pending tab)."""

from __future__ import annotations

from tests.support.ui import SIZE, make_app
from tests.support.waiting import until


def xrevrange_calls(r) -> int:
    return int(r.info("commandstats").get("cmdstat_xrevrange", {}).get("calls", 0))


async def test_messages_are_read_only_while_their_tab_is_shown(server, r):
    for i in range(3):
        r.xadd("orders", {"n": i})
    r.xgroup_create("orders", "billing", id="0")
    r.xreadgroup("billing", "c1", {"orders": ">"}, count=2)
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.selected_key == b"orders")
        await until(pilot, lambda: app.w("pending").entries, what="pending page")
        r.config_resetstat()
        polls = app.monitor.polls
        await until(pilot, lambda: app.monitor.polls >= polls + 5, what="five polls")
        assert xrevrange_calls(r) == 0  # the Pending tab is shown
        await pilot.press("2")
        await until(pilot, lambda: len(app.w("messages").entries) == 3, what="messages page")
        assert xrevrange_calls(r) > 0
