"""Odd and changing data on a real server: shown sensibly, never a crash."""

from __future__ import annotations

import json

import pytest

from streamtop.pipeline.model import Entry
from streamtop.ui.entry_screen import FIELD_LIMIT, EntryScreen, entry_text, format_value
from streamtop.ui.streams import row_key
from tests.support.ui import SIZE, make_app, row
from tests.support.waiting import until


async def test_stream_deleted_emptied_retyped_while_on_screen(server, r) -> None:
    for k in ("doomed", "emptied", "retyped"):
        r.xadd(k, {"f": "v"})
    app = make_app(server.url, targets=("doomed", "emptied", "retyped"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.selected_key == b"doomed")
        app.main.show_tab("messages-tab")  # the messages are read while their tab is shown
        await until(pilot, lambda: len(app.w("messages").entries) == 1)
        r.delete("doomed")
        r.xtrim("emptied", maxlen=0)
        r.delete("retyped")
        r.set("retyped", "now a string")
        await until(pilot, lambda: row(app, "streams-table", row_key(b"doomed"))[1] == "gone")
        await until(pilot, lambda: row(app, "streams-table", row_key(b"retyped"))[1] == "error")
        await until(pilot, lambda: row(app, "streams-table", row_key(b"emptied"))[1] == "0")
        assert dict(app.w("detail").rows)["error"] == "no such key"
        assert app.w("messages").entries == {}
        app.select(b"retyped")
        await until(pilot, lambda: "WRONGTYPE" in dict(app.w("detail").rows).get("error", ""))
        app.select(b"emptied")
        await until(pilot, lambda: dict(app.w("detail").rows).get("length") == "0")


@pytest.mark.slow
async def test_group_destroyed_and_page_acked_while_selected(server, r) -> None:
    for i in range(5):
        r.xadd("jobs", {"n": str(i)})
    r.xgroup_create("jobs", "workers", id="0")
    r.xreadgroup("workers", "w1", {"jobs": ">"})
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.w("pending").entries) == 5)
        app.w("pending-table").focus()
        await pilot.press("x", "x")
        assert len(app.selected_pending_ids()) == 2
        assert "2 marked" in app.w("pending").info_text  # the count follows each mark at once
        ids = [e.id for e in app.w("pending").entries]
        r.xack("jobs", "workers", *ids)
        await until(pilot, lambda: app.w("pending").entries == ())
        assert app.selected_pending_ids() == ()
        assert app.action_context().selected_pending == ()
        r.xgroup_destroy("jobs", "workers")
        await until(pilot, lambda: app.w("groups-table").row_keys == [])
        assert app.selected_group is None
        assert "no group selected" in app.w("pending").info_text


@pytest.mark.slow
async def test_odd_keys_huge_values_and_wide_entries(server, r) -> None:
    keys = [b"with space", b"new\nline", "emoji \U0001f321".encode(), b"bad\xff\xfeutf8"]
    for k in keys:
        r.xadd(k, {b"f\xff": b"\x00\x01"})
    big = b"x" * (1 << 20)
    r.xadd("wide", {f"field{i}": str(i) for i in range(1000)})
    r.xadd("wide", {"big": big, "json": json.dumps({"a": [1, 2]})})
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        table = app.w("streams-table")
        await until(pilot, lambda: len(table.row_keys) == 5)
        labels = sorted(row(app, "streams-table", row_key(k))[0] for k in keys)
        assert labels == sorted(["with space", "new\\nline", "emoji \U0001f321", "bad\\xff\\xfeutf8"])
        app.select(b"wide")
        app.main.show_tab("messages-tab")  # the messages are read while their tab is shown
        await until(pilot, lambda: len(app.w("messages").entries) == 2)
        app.w("messages-table").focus()
        await pilot.press("enter")  # the newest: the 1 MB value and the JSON
        assert isinstance(app.screen, EntryScreen)
        body = entry_text(app.screen.key, app.screen.entry).plain
        assert "truncated: 1.0 MB in all" in body and len(body) < 10_000
        assert '"a": [\n    1,' in body
        await pilot.press("escape", "down", "enter")  # the 1,000 fields
        assert isinstance(app.screen, EntryScreen) and len(app.screen.entry.fields) == 1000
        await pilot.pause()
        await pilot.press("escape")
        assert not isinstance(app.screen, EntryScreen)


def test_value_formats() -> None:
    assert "(binary, 3 B)" in format_value(b"\x00\xff\x01").plain
    assert format_value(b"\x00\xff\x01").plain.startswith("\\x00\\xff\\x01")
    assert format_value(b'{"k": 1}').plain == '{\n  "k": 1\n}'
    assert format_value(b"{not json").plain == "{not json"
    many = Entry("1-0", tuple((b"f%d" % i, b"v") for i in range(FIELD_LIMIT + 5)))
    assert "5 more fields not shown" in entry_text(b"k", many).plain


async def test_group_whose_consumers_cannot_be_read_shows_the_error(server, r) -> None:
    """A user without XINFO CONSUMERS: the group is not shown as having no consumers."""
    r.xadd("jobs", {"n": "1"})
    r.xgroup_create("jobs", "workers", id="0")
    r.xreadgroup("workers", "w1", {"jobs": ">"})
    r.execute_command("ACL", "SETUSER", "watcher", "on", ">pw", "~*", "+@all", "-xinfo|consumers")
    app = make_app(f"redis://watcher:pw@127.0.0.1:{server.port}/0")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.selected_group == b"workers")
        await until(pilot, lambda: app.w("consumers").empty_text != "")
        consumers = app.w("consumers")
        assert "NOPERM" in consumers.empty_text.upper() and "no consumers" not in consumers.empty_text
        line = app.w("consumers-empty").content
        assert app.w("consumers-empty").display
        assert "unavailable" in line.plain and "red" in str(line.style)
        name = app.w("groups-table").cells(b"workers".hex())[0]
        assert name.plain == "workers !" and "red" in str(name.style)
        await until(pilot, lambda: "NOPERM" in app.w("pending").info_text.upper())
