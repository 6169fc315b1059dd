"""The dashboard's workflows (issue 13) driven by the keyboard on real servers: claim from a chosen
consumer and claim-all reaching every entry once (also in the demo), `a` on the cursor row, marks
cleared after use, entries without data marked and acked with `A`, redrive from a dialog, and the
messages tab following the tail."""

from __future__ import annotations

import pytest

from streamtop.pipeline.connection import ConnectionSpec
from streamtop.ui.context import ActionContext
from streamtop.ui.dialogs import ConfirmDialog
from streamtop.ui.registry import open_dialog
from tests.support.dialogs import shown
from tests.support.streams import OLD_MS, crashed, pel
from tests.support.ui import SIZE, is_dialog, make_app, plain, type_in
from tests.support.waiting import until

HOST_SIZE = (110, 44)  # the `host` fixture (tests/ui/conftest.py)


def group_ctx(r, **kw) -> ActionContext:
    """What the dashboard hands the dialogs: consumers most recently active first."""
    rows = sorted(r.xinfo_consumers("s", "g"), key=lambda c: c["idle"])
    return ActionContext(key=b"s", group=b"g", consumers=tuple(c["name"] for c in rows), **kw)


@pytest.mark.slow
async def test_claim_dialog_takes_what_the_chosen_consumer_holds(host, r):
    app, pilot = host
    c1 = crashed(r)
    open_dialog(app, "claim", group_ctx(r, stuck_ms=OLD_MS // 2))
    await type_in(pilot, "source", "c1")
    await type_in(pilot, "consumer", "c3")
    await pilot.press("enter")
    await until(pilot, lambda: app.results)
    res = app.results[0]
    assert res.ok and res.message.startswith("claimed 190 from 'c1' into 'c3'"), res.message
    p = pel(r)
    assert all(p[i] == (b"c3", 2) for i in c1)


@pytest.mark.slow
async def test_demo_crash_then_claim_reaches_every_entry(server, r, host):
    """The demo with retries off: c1 fails 190 events and crashes; `c` with its defaults (every
    stuck entry, cap 10,000) moves all 190 into the live consumer in one run, each delivered twice."""
    from streamtop.demo.workload import GROUP, STREAM, DemoController
    from tests.support.waiting import wait_for

    app, pilot = host
    ctl = DemoController(
        ConnectionSpec(host=server.host, port=server.port),
        seed=3,
        rate=1.0,
        consumers=1,
        retry_every=None,
        stuck_ms=300,
        work_seconds=0.0,
        fail_above=0.5,
    )
    ctl.pause_producer()
    ctl.start()
    try:
        ids = [
            r.xadd(STREAM, {"sensor_id": "sensor1", "temp": "0.8", "humidity": "0.5"}).decode()
            for _ in range(190)
        ]
        wait_for(lambda: r.xpending(STREAM, GROUP)["pending"] == 190, "c1 to fail all 190")
        ctl.crash_consumer("c1")
        wait_for(lambda: ctl.consumers["c1"].state == "crashed", "c1 to crash")
        ctl.add_consumer("c2")
        wait_for(lambda: any(c["name"] == b"c2" for c in r.xinfo_consumers(STREAM, GROUP)), "c2 to read")
        wait_for(
            lambda: all(
                row["time_since_delivered"] > 300 for row in r.xpending_range(STREAM, GROUP, "-", "+", 1000)
            ),
            "entries stuck",
        )
        open_dialog(
            app,
            "claim",
            ActionContext(key=STREAM.encode(), group=GROUP.encode(), consumers=(b"c2", b"c1"), stuck_ms=300),
        )
        await pilot.press("enter")
        await until(pilot, lambda: app.results, timeout=60)
    finally:
        ctl.stop()
    res = app.results[0]
    assert res.ok and res.claimed == 190 and res.owners == {b"c1": 190}, res.message
    rows = {row["message_id"].decode(): row for row in r.xpending_range(STREAM, GROUP, "-", "+", 1000)}
    assert all(rows[i]["consumer"] == b"c2" and rows[i]["times_delivered"] == 2 for i in ids)


async def test_ack_without_data_key_counts_then_acks(host, r):
    app, pilot = host
    for i in range(1, 11):
        r.xadd("s", {"n": str(i)}, id=f"{i}-0")
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c1", {"s": ">"})
    r.xtrim("s", maxlen=7, approximate=False)
    open_dialog(app, "ack_without_data", group_ctx(r))
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen.query("#body"))
    assert "3 pending entries of 'g' have no data" in shown(app, "body") and len(pel(r)) == 10
    await pilot.press("y")
    await until(pilot, lambda: app.results)
    assert app.results[0].acked == 3 and set(pel(r)) == {f"{i}-0" for i in range(4, 11)}


async def test_redrive_dialog_dry_run_then_move(host, r):
    app, pilot = host
    for i in range(3):
        r.xadd("s", {"n": str(i)})
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c1", {"s": ">"})
    assert (await app.actions.dead_letter(b"s", b"g", min_deliveries=1)).ok
    open_dialog(app, "redrive", ActionContext(key=b"s:dlq"))
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: "would redrive 3 entries from 's:dlq': 3 to 's'" in shown(app, "info"))
    assert r.xlen("s:dlq") == 3
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await until(pilot, lambda: app.results)
    assert app.results[0].ok and r.xlen("s:dlq") == 0 and r.xlen("s") == 6


@pytest.mark.slow
async def test_dashboard_ack_cursor_row_marks_cleared_and_deleted_entries_marked(server, r):
    for i in range(1, 9):
        r.xadd("s", {"n": str(i)}, id=f"{i}-0")
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c1", {"s": ">"})
    r.xtrim("s", maxlen=6, approximate=False)  # 1-0 and 2-0: pending without data
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.actions is not None)
        app.select(b"s", b"g")
        pending = app.w("pending")
        await until(pilot, lambda: len(pending.entries) == 8, what="the pending page")
        await until(pilot, lambda: "without data: 2 trimmed away" in pending.info_text)
        assert "deleted" in plain(pending.table.cells("1-0")[5])
        assert "deleted" not in plain(pending.table.cells("3-0")[5])
        app.w("pending-table").focus()
        await pilot.pause()
        await pilot.press("a")  # nothing marked: the row under the cursor, 1-0, without a question
        await until(pilot, lambda: "1-0" not in pel(r), what="the cursor row acked")
        assert len(pel(r)) == 7 and not is_dialog(app)
        await until(pilot, lambda: len(pending.entries) == 7)
        pending.table.move_cursor(row=0)
        await pilot.press("x", "x")  # 2-0 and 3-0 marked
        assert app.selected_pending_ids() == ("2-0", "3-0")
        await pilot.press("c")
        await until(pilot, lambda: is_dialog(app))
        await type_in(pilot, "idle", "0")
        await type_in(pilot, "consumer", "c1")
        await pilot.press("enter")
        await until(pilot, lambda: not is_dialog(app), what="the claim")
        assert app.main.selection.marked == frozenset(), "the marks the claim consumed are cleared"


@pytest.mark.slow
async def test_messages_follow_the_tail_and_count_new_when_away(server, r):
    for i in range(60):
        r.xadd("s", {"n": str(i)})
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        app.select(b"s")
        await pilot.press("2")
        messages = app.w("messages")
        await until(pilot, lambda: len(messages.entries) == 50)
        for round_ in range(3):
            newest = r.xadd("s", {"n": f"new{round_}"}).decode()
            await until(pilot, lambda n=newest: messages.table.cursor_key == n, what="the newest row")
        assert messages.following
        messages.table.focus()
        messages.table.move_cursor(row=5)
        away = messages.table.cursor_key
        for i in range(4):
            r.xadd("s", {"n": f"later{i}"})
        await until(pilot, lambda: messages.new_since == 4, what="4 new")
        assert messages.table.cursor_key == away and not messages.following
        info = str(app.w("messages-info").render())
        assert "4 new" in info
        await pilot.press("[")
        last = r.xadd("s", {"n": "back"}).decode()
        await until(pilot, lambda: messages.table.cursor_key == last, what="following again")
