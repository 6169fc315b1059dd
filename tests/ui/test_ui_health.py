"""The dashboard shows each group's verdict: the health column of the streams table (the worst
group) and of the groups table, the selected group's reason line and the header's counts.

A real server with a live producer thread; the window is one second so the verdicts settle in
a few polls. What a verdict means is tested in test_health.py; here, that it reaches the screen.
"""

from __future__ import annotations

import pytest
import redis

from streamtop.ui.streams import row_key
from tests.support.threads import Worker, ask_only, produce, read_and_ack, running
from tests.support.ui import SIZE, make_app, plain, row
from tests.support.waiting import until


def arrange(r: redis.Redis) -> None:
    r.xadd("jobs", {b"n": b"0"})
    for group in ("busy", "stuck", "nobody"):
        r.xgroup_create("jobs", group, id="0")
    r.xadd("calm", {b"n": b"0"})
    r.xgroup_create("calm", "done", id="$")


def verdict_cell(app, table: str, key: str) -> str | None:
    cells = row(app, table, key)
    return None if cells is None else cells[-1]


@pytest.mark.slow
async def test_health_column_reason_line_and_header_counts(server, r) -> None:
    arrange(r)

    workers = (
        Worker(server, produce("jobs"), 0.02),
        Worker(server, read_and_ack("jobs", "busy"), 0.02),
        Worker(server, ask_only("jobs", "stuck"), 0.05),
    )
    app = make_app(server.url)
    app.history.window = 1.0
    with running(*workers):
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.snapshot is not None and len(app.snapshot.streams) == 2)
            app.select(b"jobs", b"nobody")
            groups = {g: g.encode().hex() for g in ("busy", "stuck", "nobody")}
            want = {"busy": "ok", "stuck": "stalled", "nobody": "stopped"}
            await until(
                pilot,
                lambda: {g: verdict_cell(app, "groups-table", k) for g, k in groups.items()} == want,
                what="the groups' verdicts",
            )
            assert verdict_cell(app, "streams-table", row_key(b"jobs")) == "stopped"  # the worst
            await until(
                pilot,
                lambda: verdict_cell(app, "streams-table", row_key(b"calm")) == "idle",
                what="calm to be idle",
            )
            line = plain(app.w("groups").health_line)
            assert line.startswith("stopped: ") and line.endswith("and the group has no consumers")
            state = plain(app.w("header").render())
            assert "1 group stopped, 1 stalled" in state
            app.select(b"jobs", b"busy")
            await until(
                pilot,
                lambda: plain(app.w("groups").health_line).startswith("ok: "),
                what="the reason line to follow the selection",
            )
