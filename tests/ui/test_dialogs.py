"""The action dialogs driven by the keyboard in a small host app, against a real Valkey 9.1.

The host app has what the dashboard gives the dialogs: `actions`, `notify`, and a handler for the
`ActionFinished` message every dialog posts.
Every test checks the server afterwards: cancel and bad input change nothing.
"""

from __future__ import annotations

import time

import pytest
from textual.widgets import Input, Static

from streamtop.ui.context import ActionContext
from streamtop.ui.dialogs import ConfirmDialog
from streamtop.ui.registry import open_dialog
from tests.support.dialogs import Host, ctx, hosted, make, shown
from tests.support.streams import fill, pel, server_state
from tests.support.ui import SIZE, is_dialog, make_app, submit, type_in
from tests.support.waiting import until

# ---- produce and burst -------------------------------------------------------------------


async def test_produce_key(host, r):
    app, pilot = host
    open_dialog(app, "produce", ctx())
    await until(pilot, lambda: app.results)
    assert app.results[0].ok and r.xlen("s") == 1


@pytest.mark.slow
async def test_burst_bad_input_then_run(host, r):
    app, pilot = host
    open_dialog(app, "burst", ctx())
    await pilot.pause()
    for bad, message in (("0", "at least 1"), ("abc", "whole number"), ("2000000", "at most 1,000,000")):
        await type_in(pilot, "count", bad)
        await pilot.press("enter")
        await pilot.pause()
        assert message in shown(app, "error")
    assert r.xlen("s") == 0 and not app.results
    await type_in(pilot, "count", "1200")
    await type_in(pilot, "maxlen", "1000")
    await pilot.press("enter")
    await until(pilot, lambda: app.results)
    assert app.results[0].added == 1200 and r.xlen("s") == 1000
    assert not is_dialog(app)


@pytest.mark.slow
async def test_burst_escape_stops_it(host, r):
    app, pilot = host
    open_dialog(app, "burst", ctx())
    await type_in(pilot, "count", "1000000")
    await pilot.press("enter")
    await until(pilot, lambda: r.xlen("s") > 0)
    await pilot.press("escape")
    await until(pilot, lambda: app.results)
    res = app.results[0]
    assert res.ok and res.cancelled and res.added == r.xlen("s") < 1_000_000


async def test_burst_cancel_before_start(host, r):
    app, pilot = host
    open_dialog(app, "burst", ctx())
    await pilot.pause()
    await pilot.press("escape")
    await pilot.pause()
    assert not is_dialog(app) and r.xlen("s") == 0 and not app.results


# ---- ack ---------------------------------------------------------------------------------


async def test_ack_nothing_selected_is_refused(host, r):
    app, pilot = host
    fill(r, n=3)
    open_dialog(app, "ack", ctx())
    await pilot.pause()
    assert "no pending entry selected" in app.notes[-1] and len(pel(r)) == 3


async def test_ack_one_runs_and_many_confirms(host, r):
    app, pilot = host
    ids = fill(r, n=5)
    open_dialog(app, "ack", ctx(selected=[ids[0]]))
    await until(pilot, lambda: app.results)
    assert app.results[0].acked_ids == [ids[0]]
    open_dialog(app, "ack", ctx(selected=ids[1:4]))
    await pilot.pause()
    assert isinstance(app.screen, ConfirmDialog)
    await pilot.press("enter")  # the focus is on Cancel: a stray enter deletes nothing
    await pilot.pause()
    assert not is_dialog(app) and len(pel(r)) == 4 and len(app.results) == 1
    open_dialog(app, "ack", ctx(selected=ids[1:4]))
    await pilot.pause()
    await pilot.press("y")
    await until(pilot, lambda: len(app.results) == 2)
    assert set(pel(r)) == {ids[4]} and r.xlen("s") == 5


# ---- claim -------------------------------------------------------------------------------


@pytest.mark.slow
async def test_claim_dialog_into_existing_and_new_consumer(host, r):
    app, pilot = host
    ids = fill(r, n=4, old=(0, 1))
    r.xgroup_createconsumer("s", "g", "c2")
    open_dialog(app, "claim", ctx(consumers=(b"c1", b"c2")))
    await pilot.pause()
    await submit(pilot, idle="soon")
    assert "must be a number of seconds" in shown(app, "error")
    await submit(pilot, idle="60", consumer="c2", cap="-1")
    assert "cap must be at least 1" in shown(app, "error") and not app.results
    await type_in(pilot, "cap", "100")
    await pilot.press("enter")
    await until(pilot, lambda: app.results)
    assert app.results[0].claimed == 2
    p = pel(r)
    assert p[ids[0]][0] == b"c2" and p[ids[2]][0] == b"c1"
    # a new name: warned first, created on the second enter
    open_dialog(app, "claim", ctx(consumers=(b"c1", b"c2"), selected=[ids[3]]))
    await pilot.pause()
    await submit(pilot, idle="0", consumer="fresh")
    assert "create it" in shown(app, "info") and len(app.results) == 1
    assert pel(r)[ids[3]][0] == b"c1"
    await pilot.press("enter")
    await until(pilot, lambda: len(app.results) == 2)
    assert pel(r)[ids[3]][0] == b"fresh" and r.xlen("s") == 4


async def test_claim_into_group_without_consumers(host, r):
    app, pilot = host
    r.xadd("s", {"a": "1"})
    r.xgroup_create("s", "g", "0")
    open_dialog(app, "claim", ctx(consumers=()))
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    assert "has no consumers" in shown(app, "error")
    await pilot.press("escape")
    await pilot.pause()
    assert not is_dialog(app) and r.xinfo_groups("s")[0]["consumers"] == 0 and not app.results


# ---- trim --------------------------------------------------------------------------------


@pytest.mark.slow
async def test_trim_dialog_previews_then_trims_exactly_that(host, r):
    app, pilot = host
    fill(r, n=20, read=10)
    open_dialog(app, "trim", ctx())
    await pilot.pause()
    await submit(pilot, threshold="-2")
    assert "MAXLEN cannot be negative" in shown(app, "error")
    await type_in(pilot, "threshold", "100")
    await pilot.press("enter")
    await until(pilot, lambda: "nothing to trim" in shown(app, "info"))
    await type_in(pilot, "threshold", "8")
    await pilot.press("enter")
    await until(pilot, lambda: "removes" in shown(app, "info"))
    info = shown(app, "info")
    assert "12 of 20 entries" in info and "10 still pending" in info and "2 not yet read" in info
    assert r.xlen("s") == 20
    await pilot.press("enter")
    await until(pilot, lambda: app.results)
    assert app.results[0].removed == 12 and r.xlen("s") == 8


@pytest.mark.slow
async def test_trim_dialog_minid_bad_id_and_cancel(host, r):
    app, pilot = host
    ids = fill(r, n=5)
    open_dialog(app, "trim", ctx())
    await pilot.pause()
    await pilot.press("shift+tab", "down", "enter")  # the strategy radio set: MINID
    await submit(pilot, threshold="yesterday")
    assert "MINID 'yesterday' is not a stream ID" in shown(app, "error")
    await type_in(pilot, "threshold", ids[2])
    await pilot.press("enter")
    await until(pilot, lambda: "removes" in shown(app, "info"))
    assert "2 of 5 entries" in shown(app, "info")
    await pilot.press("escape")
    await pilot.pause()
    assert not is_dialog(app) and r.xlen("s") == 5 and not app.results


# ---- group operations ----------------------------------------------------------------------


@pytest.mark.slow
async def test_group_create_busygroup_setid(host, r):
    app, pilot = host
    ids = fill(r, n=3)
    open_dialog(app, "group", ctx())
    await pilot.pause()
    await pilot.press("enter")  # first option: create
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    assert "group name is empty" in shown(app, "error")
    await type_in(pilot, "name", "g")
    await pilot.press("enter")
    await until(pilot, lambda: app.results)
    assert "group 'g' already exists on 's'" in shown(app, "error") and is_dialog(app)
    await type_in(pilot, "name", "g2")
    await type_in(pilot, "start", "0")
    await pilot.press("enter")
    await until(pilot, lambda: len(app.results) == 2)
    assert {g["name"] for g in r.xinfo_groups("s")} == {b"g", b"g2"}
    open_dialog(app, "group", ctx())
    await pilot.pause()
    await pilot.press("down", "enter")  # set ID
    await pilot.pause()
    await type_in(pilot, "id", ids[0])
    await pilot.press("enter")
    await until(pilot, lambda: len(app.results) == 3)
    g = {g["name"]: g for g in r.xinfo_groups("s")}[b"g"]
    assert g["last-delivered-id"].decode() == ids[0]


@pytest.mark.slow
async def test_delete_consumer_warns_and_confirms(host, r):
    app, pilot = host
    fill(r, n=3)
    open_dialog(app, "group", ctx())
    await pilot.pause()
    await pilot.press("down", "down", "enter")
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    assert "3 pending entries" in str(app.screen.query_one("#body", Static).render())
    await pilot.press("n")
    await pilot.pause()
    assert r.xinfo_groups("s")[0]["consumers"] == 1
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await until(pilot, lambda: app.results)
    assert app.results[0].pending_dropped == 3 and r.xinfo_groups("s")[0]["consumers"] == 0


@pytest.mark.slow
async def test_destroy_group_confirms(host, r):
    app, pilot = host
    fill(r, n=2)
    open_dialog(app, "group", ctx())
    await pilot.pause()
    await pilot.press("down", "down", "down", "enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("escape")
    await pilot.pause()
    assert len(r.xinfo_groups("s")) == 1
    open_dialog(app, "group", ctx())
    await pilot.pause()
    await pilot.press("down", "down", "down", "enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await until(pilot, lambda: app.results)
    assert app.results[0].ok and r.xinfo_groups("s") == [] and r.xlen("s") == 2


# ---- dead-letter ---------------------------------------------------------------------------


async def test_a_dialog_closed_while_its_check_ran_asks_nothing(host, r):
    """Dead-letter counts, then reads the target's type, then asks: escape between two of those
    steps closed the dialog, and the question came up anyway, over the main screen, for an
    action the user had left."""
    app, pilot = host
    fill(r, n=2)
    open_dialog(app, "dead_letter", ctx())
    await until(pilot, lambda: is_dialog(app) and app.screen.query(Input), "the dialog")
    dialog = app.screen
    dialog.dismiss()
    await until(pilot, lambda: not is_dialog(app), "the dialog closed")
    under = app.screen
    dialog.confirm("Dead-letter?", "move them", "Move", lambda: None)  # the check's last step
    await pilot.pause()
    assert app.screen is under


@pytest.mark.slow
async def test_dead_letter_dialog_selected_and_by_deliveries(host, r):
    app, pilot = host
    ids = fill(r, n=4)
    open_dialog(app, "dead_letter", ctx(selected=ids[:2]))
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await until(pilot, lambda: app.results)
    assert r.xlen("s:dlq") == 2 and set(pel(r)) == set(ids[2:])
    r.xclaim("s", "g", "c1", 0, [ids[3]])
    open_dialog(app, "deadletter", ctx())
    await pilot.pause()
    await submit(pilot, deliveries="none")
    assert "must be a whole number" in shown(app, "error")
    await type_in(pilot, "deliveries", "1")  # more than once: what --poison-deliveries 1 marks poison
    await type_in(pilot, "dlq", "dead")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    assert "Move 1 pending entries delivered more than 1 times" in shown(app, "body")  # the count first
    await pilot.press("y")
    await until(pilot, lambda: len(app.results) == 2)
    assert [f[b"dlq-original-id"].decode() for _, f in r.xrange("dead")] == [ids[3]]
    assert set(pel(r)) == {ids[2]} and r.xlen("s") == 4


@pytest.mark.slow
async def test_names_with_odd_bytes_keep_their_bytes(host, r):
    """A consumer or key with invalid UTF-8 and a newline is shown escaped; picking it acts on
    exactly that name, not on the bytes of its escaped label."""
    app, pilot = host
    odd, key = b"w\xff\n1", b"s\xfe"
    ids = fill(r, key=key, n=3)
    r.xgroup_createconsumer(key, "g", odd)
    # claim: the default is the first consumer shown, i.e. the odd one
    open_dialog(app, "claim", ctx(key=key, consumers=(odd, b"c1"), selected=[ids[0]]))
    await pilot.pause()
    assert app.screen.query_one("#consumer", Input).value == "w\\xff\\n1"
    await type_in(pilot, "idle", "0")
    await pilot.press("enter")
    await until(pilot, lambda: app.results)
    assert app.results[-1].ok, app.results[-1].message
    assert pel(r, key)[ids[0]][0] == odd
    assert {c["name"] for c in r.xinfo_consumers(key, "g")} == {odd, b"c1"}  # none created
    # dead-letter into the default key, derived from the odd key's bytes
    open_dialog(app, "dead_letter", ctx(key=key, consumers=(odd, b"c1"), selected=[ids[1]]))
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await until(pilot, lambda: len(app.results) == 2)
    assert app.results[-1].ok, app.results[-1].message
    assert r.xlen(key + b":dlq") == 1 and r.exists("s\\xfe:dlq") == 0
    # delete consumer: the odd one, picked by its label (pre-filled: the consumer idle longest, last)
    open_dialog(app, "group", ctx(key=key, consumers=(b"c1", odd)))
    await pilot.pause()
    await pilot.press("down", "down", "enter")
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await until(pilot, lambda: len(app.results) == 3)
    assert {c["name"] for c in r.xinfo_consumers(key, "g")} == {b"c1"}


# ---- refusals ------------------------------------------------------------------------------

NAMES = ["produce", "burst", "ack", "claim", "trim", "group", "deadletter"]


async def test_read_only_every_key_refused_and_nothing_changes(server, r):
    ids = fill(r, n=3)
    before = server_state(r)
    async with hosted(server, read_only=True) as (app, pilot):
        for name in NAMES:
            open_dialog(app, name, ctx(selected=ids[:2], read_only=True))
            await pilot.pause()
            assert not is_dialog(app), name
            assert app.notes[-1].startswith("read-only mode:") and "refused" in app.notes[-1]
    assert server_state(r) == before and not app.results


async def test_no_actions_or_no_selection(server, r):
    app = Host(None)
    async with app.run_test() as pilot:
        open_dialog(app, "trim", ctx())
        await pilot.pause()
        assert "not connected" in app.notes[-1] and not is_dialog(app)
        app.actions = await make(server)
        open_dialog(app, "claim", ctx(group=None))
        await pilot.pause()
        assert "select a consumer group first" in app.notes[-1] and not is_dialog(app)
        open_dialog(app, "trim", ctx(key=None))
        await pilot.pause()
        assert "select a stream first" in app.notes[-1]
        await app.actions.client.aclose()


@pytest.mark.slow
async def test_noperm_user_sees_it_and_the_app_keeps_running(server, r):
    ids = fill(r, n=3)
    r.execute_command("ACL", "SETUSER", "viewer", "on", ">pw", "~*", "+@all", "-@write")
    before = server_state(r)
    async with hosted(server, username="viewer", password="pw") as (app, pilot):
        open_dialog(app, "produce", ctx())
        await until(pilot, lambda: app.results)
        open_dialog(app, "ack", ctx(selected=ids[:1]))
        await until(pilot, lambda: len(app.results) == 2)
        open_dialog(app, "trim", ctx())
        await pilot.pause()
        await type_in(pilot, "threshold", "1")
        await pilot.press("enter")
        await until(pilot, lambda: "removes" in shown(app, "info"))
        await pilot.press("enter")
        await until(pilot, lambda: len(app.results) == 3)
        assert "permission denied (NOPERM)" in shown(app, "error") and is_dialog(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and not is_dialog(app)
    assert all(not res.ok and "permission denied (NOPERM)" in res.message for res in app.results)
    assert server_state(r) == before


# ---- the real dashboard: its keys reach these dialogs ------------------------------------


@pytest.mark.slow
async def test_dashboard_keys_in_read_only_mode_change_nothing(server, r):
    ids = fill(r, n=4, old=(0,))
    before = server_state(r)
    app = make_app(server.url, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.actions is not None)
        app.select(b"s", b"g")
        await pilot.pause()
        notes: list[str] = []
        for key in ("e", "E", "a", "c", "t", "g", "D"):
            await pilot.press(key)
            await pilot.pause()
            assert not is_dialog(app), key
            # read each refusal right away: a toast leaves app._notifications when it expires
            notes += [m for m in (n.message for n in app._notifications) if m not in notes]
        assert sum("read-only mode" in m for m in notes) == 7, notes
    assert server_state(r) == before and len(ids) == 4


@pytest.mark.slow
async def test_dashboard_produce_and_trim_keys(server, r):
    fill(r, n=10)
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.actions is not None)
        app.select(b"s", b"g")
        await pilot.pause()
        await pilot.press("e")  # not the demo's stream: asked once
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "It is not the demo's stream" in shown(app, "body") and r.xlen("s") == 10
        await pilot.press("y")
        await until(pilot, lambda: r.xlen("s") == 11)
        await pilot.press("e")  # ... and only once
        await until(pilot, lambda: r.xlen("s") == 12)
        assert not isinstance(app.screen, ConfirmDialog)
        await pilot.press("t")
        await until(pilot, lambda: is_dialog(app))
        await pilot.press("4", "enter")
        await until(pilot, lambda: "removes" in shown(app, "info"))
        assert "8 of 12 entries" in shown(app, "info")
        await pilot.press("enter")
        await until(pilot, lambda: not is_dialog(app))
        assert r.xlen("s") == 4


async def test_claim_defaults_follow_the_dashboard(host, r):
    """The default min idle is what the dashboard calls stuck (5 s in the demo), and the default
    target is the consumer listed first (the app lists the most recently active first)."""
    app, pilot = host
    open_dialog(
        app, "claim", ActionContext(key=b"s", group=b"g", consumers=(b"live", b"dead"), stuck_ms=5_000)
    )
    await pilot.pause()
    assert app.screen.query_one("#idle", Input).value == "5"
    assert app.screen.query_one("#consumer", Input).value == "live"
    await pilot.press("escape")


async def test_app_lists_the_most_recently_active_consumer_first(server, r):

    r.xadd("s", {"f": "v"})
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "a-crashed", {"s": ">"})  # first in the server's (alphabetical) order
    time.sleep(0.05)
    r.xgroup_createconsumer("s", "g", "z-alive")  # seen later: the smaller idle
    app = make_app(server.url, stuck_ms=5_000)
    async with app.run_test(size=SIZE) as pilot:
        app.select(b"s", b"g")
        await until(pilot, lambda: len(app.action_context().consumers) == 2)
        context = app.action_context()
        assert context.consumers == (b"z-alive", b"a-crashed") and context.stuck_ms == 5_000
