"""The dashboard against a real server: what it shows is what XINFO says; keys drive it."""

from __future__ import annotations

import pytest
import redis
from textual.command import CommandList

from streamtop.embedded import ServerProcess
from streamtop.options import SessionOptions
from streamtop.ui.streams import row_key
from tests.support.ui import SIZE, make_app, plain, row
from tests.support.waiting import until, wait_for


def _arrange(r: redis.Redis) -> None:
    for i in range(7):
        r.xadd("orders", {"n": str(i)})
    r.xadd("audit", {"who": "me"})
    r.xgroup_create("orders", "billing", id="0")
    r.xgroup_create("orders", "ship", id="$")
    r.xreadgroup("billing", "c1", {"orders": ">"}, count=3)
    r.xreadgroup("billing", "c2", {"orders": ">"}, count=1)


async def test_panels_show_what_the_server_holds(server, r) -> None:
    _arrange(r)
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.selected_key == b"audit")
        app.select(b"orders", b"billing")
        await until(pilot, lambda: app.w("pending").entries, what="pending page")
        info = r.xinfo_stream("orders")
        cells = row(app, "streams-table", row_key(b"orders"))
        assert cells[0] == "orders"
        assert cells[1] == str(info["length"])
        assert cells[3] == str(info["groups"])
        groups = {g["name"]: g for g in r.xinfo_groups("orders")}
        billing = row(app, "groups-table", b"billing".hex())
        assert billing[1] == str(groups[b"billing"]["consumers"])
        assert billing[2] == str(groups[b"billing"]["pending"])
        assert billing[3] == groups[b"billing"]["last-delivered-id"].decode()
        assert billing[5] == str(groups[b"billing"]["lag"])
        assert cells[4] == str(max(g["lag"] for g in groups.values()))
        assert cells[5] == str(sum(g["pending"] for g in groups.values()))
        pel = r.xpending_range("orders", "billing", "-", "+", 100)
        assert app.w("pending-table").row_keys == [p["message_id"].decode() for p in pel]
        assert [row(app, "pending-table", p["message_id"].decode())[2] for p in pel] == [
            p["consumer"].decode() for p in pel
        ]
        consumers = {c["name"].decode(): c["pending"] for c in r.xinfo_consumers("orders", "billing")}
        assert {k: int(row(app, "consumers-table", k.encode().hex())[1]) for k in consumers} == consumers
        app.main.show_tab("messages-tab")  # the messages are read while their tab is shown
        await until(pilot, lambda: app.w("messages").entries, what="messages page")
        newest = r.xrevrange("orders", count=50)
        assert app.w("messages-table").row_keys == [e[0].decode() for e in newest]
        detail = dict(app.w("detail").rows)
        assert detail["last generated"] == info["last-generated-id"].decode()
        assert detail["entries added"] == str(info["entries-added"])
        assert "Valkey 9.1" in app.header_info().server


@pytest.mark.slow
async def test_selection_drives_lower_panels(server, r) -> None:
    _arrange(r)
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.selected_key == b"audit")
        assert app.w("groups-table").row_keys == []
        await pilot.press("down")
        await until(pilot, lambda: app.selected_key == b"orders")
        await until(pilot, lambda: app.w("groups-table").row_keys == [b"billing".hex(), b"ship".hex()])
        assert app.selected_group == b"billing"
        await until(pilot, lambda: len(app.w("pending").entries) == 4)
        await pilot.press("tab")  # groups table
        await pilot.press("down")
        await until(pilot, lambda: app.selected_group == b"ship")
        await until(
            pilot, lambda: app.w("pending").entries == () and "group ship" in app.w("pending").info_text
        )
        assert app.w("consumers-table").row_keys == []


@pytest.mark.slow
async def test_filter_and_sort(server, r) -> None:
    for name, n in (("alpha", 1), ("beta", 3), ("gamma", 2)):
        for _ in range(n):
            r.xadd(name, {"x": "1"})
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        table = app.w("streams-table")
        await until(pilot, lambda: len(table.row_keys) == 3)
        await pilot.press("slash", "a", "m")
        assert table.row_keys == [row_key(b"gamma")]
        await pilot.press("backspace", "backspace", "asterisk", "t", "a")
        assert table.row_keys == [row_key(b"beta")]
        await pilot.press("z", "z")
        assert table.row_keys == []
        assert app.w("streams-empty").display
        assert app.w("streams").empty_text == "no streams match"
        await pilot.press("escape")
        assert len(table.row_keys) == 3 and not app.w("streams-empty").display
        await pilot.press("s")  # sort by length, longest first
        assert table.row_keys == [row_key(k) for k in (b"beta", b"gamma", b"alpha")]
        await pilot.press("S")
        assert table.row_keys == [row_key(k) for k in (b"alpha", b"gamma", b"beta")]


@pytest.mark.slow
async def test_pause_interval_and_live_changes(server, r) -> None:
    r.xadd("first", {"x": "1"})
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        table = app.w("streams-table")
        await until(pilot, lambda: table.row_keys == [row_key(b"first")])
        r.xadd("second", {"x": "1"})
        await until(pilot, lambda: row_key(b"second") in table.row_keys, what="new stream shown")
        r.delete("first")
        await until(pilot, lambda: row_key(b"first") not in table.row_keys, what="deleted stream gone")
        await pilot.press("p")
        assert app.monitor.paused and app.header_info().state == "paused"
        # paused: the loop waits without a deadline (only a wake polls), nothing is due to wake it
        await until(pilot, lambda: app.loop_waiting and app._focus_timer is None)
        assert app.loop_delay is None
        polls = app.monitor.polls
        for _ in range(3):  # let timers and messages run: still no poll
            await pilot.pause(app.interval)
        assert app.monitor.polls == polls and app.loop_waiting and app.loop_delay is None
        await pilot.press("space")  # one poll while paused
        await until(pilot, lambda: app.monitor.polls == polls + 1)
        await pilot.press("p")
        await until(pilot, lambda: app.monitor.polls > polls + 2)
        before = app.interval
        await pilot.press("plus")
        assert app.interval > before and f"every {app.interval:g}s" in plain(app.w("header").render())
        await pilot.press("minus", "minus")
        assert app.interval == before == 0.1  # the floor


@pytest.mark.slow
async def test_cursor_moves_are_debounced_into_one_poll(server, r) -> None:
    for name in ("a", "b", "c", "d", "e"):
        r.xadd(name, {"x": "1"})
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.w("streams-table").row_keys) == 5)
        await pilot.press("p")  # no interval polls: only what the cursor asks for
        await until(pilot, lambda: app.loop_waiting and app._focus_timer is None)
        app.focus_debounce = 60.0  # the test fires the debounced poll itself
        polls, first = app.monitor.polls, app.selected_key
        await pilot.press("down", "down", "down")
        assert app.selected_key != first
        assert app.monitor.polls == polls and not app._wake.is_set()  # no poll per key press
        assert app._focus_timer is not None
        app._focus_timer.stop()
        app._focus_poll()
        await until(pilot, lambda: app.monitor.polls == polls + 1 and app.loop_waiting)
        assert app.monitor.focus.key == app.selected_key
        assert app.snapshot.focus.focus.key == app.selected_key


@pytest.mark.slow
async def test_header_goes_stale_and_live_again(own_server) -> None:
    redis.Redis(port=own_server.port).xadd("k", {"f": "v"})
    app = make_app(own_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.header_info().state == "live")
        port = own_server.port
        own_server.stop()
        await until(pilot, lambda: app.header_info().state in ("stale", "reconnecting"))
        # the open connection first reports "closed by server"; the reconnect attempts "refused"
        await until(pilot, lambda: "connection refused" in plain(app.w("header").render()), timeout=15)
        text = plain(app.w("header").render())
        assert "STALE" in text or "RECONNECTING" in text
        assert f"connection refused at 127.0.0.1:{port}" in text
        assert app.w("streams-table").row_keys == [row_key(b"k")]  # the last snapshot stays
        srv = ServerProcess(own_server.binary, port=port).start()
        try:
            redis.Redis(port=port).xadd("after", {"f": "v"})
            await until(pilot, lambda: app.header_info().state == "live", timeout=15)
            await until(pilot, lambda: app.w("streams-table").row_keys == [row_key(b"after")])
        finally:
            srv.cleanup()


@pytest.mark.slow
async def test_opens_when_server_is_down_and_help_and_quit() -> None:
    from streamtop.embedded import free_port

    app = make_app(f"redis://127.0.0.1:{free_port()}/0")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.monitor.failures >= 1)
        text = plain(app.w("header").render())
        assert "connection refused at 127.0.0.1" in text and "retrying in" in text
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert type(app.screen).__name__ == "MainScreen"
        await pilot.press("q")
    assert app.return_code == 0


async def test_cluster_flag_against_a_standalone_server_ends_the_app(server) -> None:
    from streamtop.monitor import Monitor
    from streamtop.pipeline.connection import build_spec
    from streamtop.ui.app import StreamtopApp

    app = StreamtopApp(
        Monitor(
            build_spec(url=server.url, cluster=True, env={}), SessionOptions(interval=0.1, follow_screen=True)
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.fatal is not None)
    assert app.return_code == 1
    assert "--cluster" in str(app.fatal) and "standalone" in str(app.fatal)


def test_cluster_flag_is_refused_before_the_dashboard_opens(server, capsys) -> None:
    from streamtop.cli import main

    assert main(["--cluster", "--url", server.url]) == 1
    err = capsys.readouterr().err.strip()
    assert "--cluster" in err and "standalone" in err and len(err.splitlines()) == 1


async def test_a_bug_in_a_poll_is_reported_and_polling_goes_on(server, r, monkeypatch) -> None:
    r.xadd("k", {"f": "v"})
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        calls = []

        async def broken():
            calls.append(1)
            raise KeyError("parser bug")

        monkeypatch.setattr(app.monitor.collector, "poll", broken)
        await until(pilot, lambda: len(calls) >= 3)  # it keeps polling at its interval
        assert app.bug is not None and "KeyError" in app.bug and "parser bug" in app.bug
        assert app.header_info().state == "live"  # not mistaken for a lost connection
        assert [n.message for n in app._notifications].count(app.bug) == 1  # said once


@pytest.mark.slow
async def test_actions_use_the_monitors_actions_client_and_quit_closes_all(server, r) -> None:
    r.xadd("k", {"f": "v"})
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.actions is not None and app.selected_key == b"k")
        assert app.actions.client is app.monitor.action_client is not app.monitor.client
        await pilot.press("e")  # produce one event through the actions (asked first: not the demo's)
        await until(pilot, lambda: app.screen.query("#yes"))
        await pilot.press("y")
        await until(pilot, lambda: r.xlen("k") == 2)
        await pilot.press("q")
    with redis.Redis(port=server.port) as c:  # the server notices closed connections asynchronously
        wait_for(
            lambda: not [cl for cl in c.client_list() if cl["name"] == "streamtop"],  # noqa: B023
            "the dashboard's connections to be closed",
        )


@pytest.mark.slow
async def test_command_palette_and_mouse_click(server, r) -> None:
    for key in ("a", "b", "c"):
        r.xadd(key, {"f": "v"})
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.w("streams-table").row_keys) == 3)
        assert app.selected_key == b"a"
        # a click on the third row (row 0 is the header) selects that stream
        await pilot.click("#streams-table", offset=(3, 3))
        await until(pilot, lambda: app.selected_key == b"c")
        # the command palette runs the dashboard's own commands
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        await pilot.press(*"Pause / resume")
        commands = app.screen.query_one(CommandList)
        await until(
            pilot,
            lambda: (
                commands.option_count  # the search ran and lists it first
                and "pause / resume" in str(commands.get_option_at_index(0).prompt).lower()
            ),
            "the palette's hit",
        )
        await pilot.press("enter")
        await until(pilot, lambda: app.monitor.paused)


def _idk(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


@pytest.mark.slow
async def test_pending_and_messages_pages_and_header_click_sort(server, r) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(150):
        pipe.xadd("z-big", {"n": str(i)})
    pipe.execute()
    r.xadd("a-small", {"n": "0"})
    r.xgroup_create("z-big", "g", "0")
    r.xreadgroup("g", "c1", {"z-big": ">"}, count=150)
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.w("streams-table").row_keys) == 2)
        app.select(b"z-big", b"g")
        pending = app.w("pending")
        await until(pilot, lambda: len(pending.entries) == 100)
        first_page = [e.id for e in pending.entries]
        pending.table.focus()
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: len(pending.entries) == 50)
        assert _idk(pending.entries[0].id) > _idk(first_page[-1])  # the page after, not a repeat
        assert "page 2" in pending.info_text
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: [e.id for e in pending.entries] == first_page)
        messages = app.w("messages")
        await pilot.press("2")
        messages.table.focus()
        await until(pilot, lambda: len(messages.entries) == 50)
        newest = max(map(_idk, messages.entries))  # entries: a dict by ID, newest first
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: messages.entries and max(map(_idk, messages.entries)) < newest)
        # a click on the "length" header sorts by length, longest first (as top does); a second
        # click reverses it
        table = app.w("streams-table")
        assert table.row_keys == [row_key(b"a-small"), row_key(b"z-big")]
        length_x = sum(c.get_render_width(table) for c in list(table.columns.values())[:1]) + 2
        await pilot.click("#streams-table", offset=(length_x, 0))
        await until(pilot, lambda: app.w("streams").sort_column == "length")
        await until(pilot, lambda: table.row_keys == [row_key(b"z-big"), row_key(b"a-small")])
        await pilot.click("#streams-table", offset=(length_x, 0))
        await until(pilot, lambda: table.row_keys == [row_key(b"a-small"), row_key(b"z-big")])
