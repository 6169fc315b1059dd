"""The dashboard reads what is on screen in full (issue 17): rows scrolled into view are filled in
by the next poll, rows off screen show their summary and mark what they do not know, and the
header says how old the summaries are and what the polls cost the server."""

from __future__ import annotations

import pytest

from streamtop.ui.streams import row_key
from tests.integration.test_screen_cost import arrange
from tests.support.ui import SIZE, make_app, row
from tests.support.waiting import until

OLDEST = 6  # the streams table's "oldest pending" column


@pytest.mark.slow
async def test_rows_scrolled_into_view_get_their_details_from_the_next_poll(server, r) -> None:
    keys = arrange(r, 80)
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.streams.table
        await until(pilot, lambda: app.snapshot is not None and len(app.snapshot.streams) == 80, "streams")
        await until(pilot, lambda: not app.snapshot.stream(keys[0]).summary_only, "first rows in full")
        on_screen = {k for k in keys if row_key(k) in table.rows_in_view()}
        assert keys[0] in on_screen and keys[79] not in on_screen
        far = app.snapshot.stream(keys[79])
        assert far.summary_only
        assert row(app, "streams-table", row_key(keys[79]))[OLDEST] == "…"  # not read: neither - nor 0
        header = app.main.header.info
        assert header.summary_age is not None and header.server_load is not None

        table.scroll_end(animate=False)  # the cursor (the selection) stays on the first row
        await until(pilot, lambda: keys[79] in app.main.rows_shown, "the bottom rows reported")
        await until(pilot, lambda: not app.snapshot.stream(keys[79]).summary_only, "the bottom rows in full")
        assert app.snapshot.stream(keys[79]).oldest_pending_idle_ms is not None
        assert row(app, "streams-table", row_key(keys[79]))[OLDEST] not in ("…", "-")
        assert app.selected_key == keys[0]
