"""Health off screen reaches the header (issue 17): a stopped group on a stream far below the
visible rows is counted from its summary, and the groups a summary cannot judge are counted as
such, never dropped from the header in silence."""

from __future__ import annotations

from streamtop.ui.streams import row_key
from tests.support.streams import pending_streams
from tests.support.ui import SIZE, make_app, row
from tests.support.waiting import until

HEALTH = 7  # the streams table's health column


async def test_an_offscreen_stopped_group_is_in_the_header_and_the_unjudged_are_counted(server, r) -> None:
    keys = pending_streams(r, 60)  # group g with a consumer holding 3 pending entries, in each
    r.xgroup_create(keys[59], "nobody", id="0")  # no consumers, 3 entries to read: stopped
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.streams.table
        await until(pilot, lambda: app.snapshot is not None and len(app.snapshot.streams) == 60, "streams")
        assert row_key(keys[59]) not in table.rows_in_view()
        await until(pilot, lambda: app.snapshot.stream(keys[59]).summary_only, "the last row a summary")
        await until(pilot, lambda: app.main.header.info.health != (), "health counts")
        counts = dict(app.main.header.info.health)
        assert counts["stopped"] == 1
        # every off-screen group whose consumers hold entries: not judged, and said so
        off_screen = sum(1 for k in keys if app.snapshot.stream(k).summary_only)
        assert counts["not judged"] == off_screen
        line = app.main.header.render().plain
        assert f"1 group stopped; off screen: {off_screen} not judged" in line
        assert row(app, "streams-table", row_key(keys[59]))[HEALTH] == "stopped"
