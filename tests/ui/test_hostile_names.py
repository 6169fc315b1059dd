"""Names are data, never markup: hostile keys, group and consumer names and field values, on a
real Valkey 9.1, through every panel, dialog, notification and the entry screen, and `status`.

A name with Rich/Textual markup (`!crash[/]` made every dashboard exit with a MarkupError), ANSI
or OSC escapes, control bytes, invalid UTF-8, bidi controls, 10 kB, emoji or RTL text must not
crash anything, must appear literally (brackets and all, escapes shown as `\\x1b`), and must put
no raw control character on the screen or in the status output.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import redis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import Input, Label, Static

from streamtop import cli
from streamtop.pipeline.model import label
from streamtop.pipeline.render import middle_name_text, name_text, text
from streamtop.ui.app import StreamtopApp
from streamtop.ui.consumers import OTHER_COLUMNS
from streamtop.ui.demo_panel import DemoPanel
from streamtop.ui.dialogs import (
    ActionDialog,
    BurstDialog,
    ClaimDialog,
    ConfirmDialog,
    ConsumerDeleteDialog,
    DeadLetterDialog,
    GroupCreateDialog,
    GroupMenu,
    GroupSetIdDialog,
    TrimDialog,
)
from streamtop.ui.entry_screen import EntryScreen
from streamtop.ui.header import HeaderInfo, header_text
from streamtop.ui.help import HelpScreen
from tests.support.ui import SIZE, make_app, plain, row, screen_text
from tests.support.waiting import until

MARKUP = [
    b"[red]x[/red]",
    b"[/]",
    b"!crash[/]",
    b"[link=http://x]y[/link]",
    b"[@click=app.quit]z[/]",
    b"[b]bold",
    b"$var [$accent]",
]
ESCAPES = [
    b"\x1b[31mred\x1b[0m",
    b"\x1b]8;;http://x\x07link\x1b]8;;\x07",
    b"\x9b2J",
    "\u009b2J csi".encode(),
    b"ctl\x00\x07\x08\r\n\t|",
    b"\x7fdel",
]
BYTES = [
    b"\xff\xfe",
    b"ok\xc3(",
    b"N" * 10_000,
    "🌡🔥 sensor".encode(),
    "שלום עולם".encode(),
    "abc\u202edcba".encode(),
    "a\u200bb".encode(),
]
HOSTILE = MARKUP + ESCAPES + BYTES
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def content(widget) -> str:
    return str(widget.render())


def visible(name: bytes, limit: int, n: int = 12) -> str:
    """The head of what a name looks like on screen (a panel may cut the rest)."""
    return name_text(name, limit).plain[:n]


def arrange(r: redis.Redis, key: bytes, group: bytes, consumer: bytes, field: bytes, value: bytes) -> None:
    for i in range(3):
        r.xadd(key, {field: value, b"n": str(i).encode()})
    r.xgroup_create(key, group, id="0")
    r.xreadgroup(group, consumer, {key: ">"}, count=2)  # two pending, one unread


def up(app: App, kind: type, probe: str = "#title"):
    """A condition: a screen of `kind` is on top and composed (its `probe` widget is there)."""
    return lambda: isinstance(app.screen, kind) and bool(app.screen.query(probe))


def notes(app: App) -> list:
    return list(app._notifications)


async def close_dialog(pilot, app: App) -> None:
    await pilot.press("escape")
    await until(
        pilot,
        lambda: not isinstance(app.screen, ActionDialog | ConfirmDialog | GroupMenu),
        what="dialog closed",
    )


async def open_and_check(pilot, app: StreamtopApp, action: str, kind: type, expected: str) -> None:
    app.open_action(action)
    await until(pilot, up(app, kind), what=f"{action} dialog")
    title = content(app.screen.query_one("#title", Label))
    assert expected in title, (action, title)
    assert not RAW_CONTROLS.search(title)


async def visit_everything(
    app: StreamtopApp,
    pilot,
    r: redis.Redis,
    key: bytes,
    group: bytes,
    consumer: bytes,
    field: bytes,
    value: bytes,
) -> None:
    await until(
        pilot, lambda: app.snapshot is not None and app.snapshot.stream(key) is not None, what="stream polled"
    )
    app.select(key, group)
    await until(pilot, lambda: len(app.w("pending").entries) == 2, what="pending page")
    app.w("lower").active = "messages-tab"  # the messages are read while their tab is shown
    await until(pilot, lambda: app.w("messages").entries, what="messages page")
    entry_id = app.w("messages-table").row_keys[0]
    preview = row(app, "messages-table", entry_id)[2]
    app.w("lower").active = "pending-tab"

    # panels: the cells and titles hold the escaped name, cut where the panel cuts it
    # names lose their middle, to what each table leaves after the numbers
    assert row(app, "streams-table", key.hex())[0] == middle_name_text(key, app.w("streams").name_width).plain
    assert dict(app.w("detail").rows)["key"] == name_text(key, 200).plain
    assert (
        row(app, "groups-table", group.hex())[0] == middle_name_text(group, app.w("groups").name_width).plain
    )
    assert app.w("groups")._border_title.plain == "Groups of " + name_text(key, 40).plain
    # consumer names lose their middle, to what the panel leaves after the numbers
    width = max(12, min(40, app.w("consumers-table").size.width - OTHER_COLUMNS))
    assert row(app, "consumers-table", consumer.hex())[0] == middle_name_text(consumer, width).plain
    assert app.w("consumers")._border_title.plain == "Consumers of " + name_text(group, 30).plain
    assert content(app.w("lag-label")) == "lag of " + name_text(group, 30).plain
    pending_id = app.w("pending-table").row_keys[0]
    width = app.w("pending").name_width  # what the table leaves after the other columns
    assert row(app, "pending-table", pending_id)[2] == middle_name_text(consumer, width).plain
    assert "group " + name_text(group).plain in app.w("pending").info_text
    assert preview.startswith(name_text(field, 24).plain + "=")
    screen = screen_text(app)
    assert not RAW_CONTROLS.search(screen)
    for name, limit in ((key, 48), (group, 32), (consumer, 32)):
        assert visible(name, limit) in screen, (name[:40], screen)

    # the entry screen: the value whole (up to its limit), escaped, lines kept as lines
    app.w("lower").active = "messages-tab"
    app.w("messages-table").focus()
    await pilot.press("enter")
    await until(pilot, up(app, EntryScreen, "#entry-body"), what="entry screen")
    body = content(app.screen.query_one("#entry-body", Static))
    assert name_text(key, 80).plain in body and name_text(field, 80).plain in body
    if len(value) <= 4096:  # text keeps its lines; a value that is no UTF-8 shows as binary, escaped
        lines, binary = text(value, keep_newlines=True).plain.strip(), text(value).plain.strip()
        assert lines in body or (binary in body and "(binary" in body), (value, body)
    assert not RAW_CONTROLS.search(body)
    await pilot.press("escape")
    await until(pilot, lambda: not isinstance(app.screen, EntryScreen), what="entry screen closed")

    # mark both pending entries for ack / claim / dead-letter
    app.w("lower").active = "pending-tab"
    app.w("pending-table").focus()
    app.w("pending-table").move_cursor(row=0)
    await pilot.press("X")
    await until(pilot, lambda: len(app.selected_pending_ids()) == 2, what="entries marked")

    where = name_text(key).plain
    # test events into a stream that is not the demo's: asked once, the name escaped in the question
    app.open_action("burst")
    await until(pilot, up(app, ConfirmDialog, "#body"), what="test events question")
    question = content(app.screen.query_one("#body", Static))
    assert name_text(key, 60).plain in question and not RAW_CONTROLS.search(question)
    await pilot.press("y")
    await until(pilot, up(app, BurstDialog), what="burst dialog after the question")
    await close_dialog(pilot, app)
    await open_and_check(pilot, app, "burst", BurstDialog, where)
    assert name_text(group).plain in content(app.screen.query_one("#title", Label))
    await close_dialog(pilot, app)

    await open_and_check(pilot, app, "claim", ClaimDialog, where)
    hint = " ".join(content(w) for w in app.screen.query(Label))
    assert name_text(consumer, 40).plain in hint
    assert app.screen.query_one("#consumer", Input).value == label(consumer)
    await close_dialog(pilot, app)

    await open_and_check(pilot, app, "trim", TrimDialog, where)
    app.screen.query_one("#threshold", Input).value = "0"
    await pilot.press("enter")
    await until(
        pilot, lambda: "removes" in content(app.screen.query_one("#info", Static)), what="trim preview"
    )
    assert ("'" + label(group))[:40] in content(app.screen.query_one("#info", Static))  # unread warning
    await close_dialog(pilot, app)

    app.open_action("dead_letter")
    await until(pilot, up(app, DeadLetterDialog), what="dead-letter dialog")
    await pilot.press("enter")
    await until(pilot, up(app, ConfirmDialog), what="dead-letter confirm")
    body = content(app.screen.query_one("#body", Static))
    assert name_text(group).plain in body and name_text(key).plain in body
    await pilot.press("n")
    await until(pilot, up(app, DeadLetterDialog))
    assert "cancelled" in content(app.screen.query_one("#info", Static))
    await close_dialog(pilot, app)

    app.open_action("ack")
    await until(pilot, up(app, ConfirmDialog), what="ack confirm")
    assert name_text(group).plain in content(app.screen.query_one("#body", Static))
    await pilot.press("n")
    await until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))

    for op, kind in (
        ("create", GroupCreateDialog),
        ("setid", GroupSetIdDialog),
        ("delconsumer", ConsumerDeleteDialog),
        ("destroy", ConfirmDialog),
    ):
        app.open_action("group")
        await until(pilot, up(app, GroupMenu), what="group menu")
        assert where in content(app.screen.query_one("#title", Label))
        app.screen.dismiss(op)
        await until(pilot, up(app, kind), what=f"group {op}")
        title = content(app.screen.query_one("#title", Label))
        assert not RAW_CONTROLS.search(title)
        if op == "destroy":
            assert name_text(group).plain in title
            await pilot.press("n")
            continue
        if op == "delconsumer":  # its preview, then a confirmation naming the consumer
            hint = " ".join(content(w) for w in app.screen.query(Label))
            assert name_text(consumer, 40).plain in hint
            await pilot.press("enter")
            await until(pilot, up(app, ConfirmDialog), what="delete confirm")
            assert name_text(consumer).plain in content(app.screen.query_one("#title", Label))
            await pilot.press("n")
            await until(pilot, up(app, ConsumerDeleteDialog))
        await close_dialog(pilot, app)

    # actions that succeed and fail, with the name in their notification: plain text, never markup
    app.open_action("claim")
    await until(pilot, up(app, ClaimDialog), what="claim dialog")
    app.screen.query_one("#idle", Input).value = "0"
    await pilot.press("enter")
    await until(pilot, lambda: any("claimed 2" in n.message for n in notes(app)), what="claim note")
    app.open_action("produce")
    await until(pilot, lambda: any(n.message.startswith("added") for n in notes(app)), what="produce")
    r.delete(key)
    r.set(key, b"no longer a stream")
    app.open_action("produce")
    await until(pilot, lambda: any(n.severity == "error" for n in notes(app)), what="failure note")
    for n in notes(app):
        assert n.markup is False and not RAW_CONTROLS.search(n.message)
    failed = next(n.message for n in notes(app) if n.severity == "error")
    assert "not a stream" in failed
    assert ("'" + label(key))[:40] in failed  # the head of the name, escaped, literally
    await pilot.press("question_mark")
    await until(pilot, up(app, HelpScreen, "Static"), what="help")
    assert "] / [" in screen_text(app)  # the help's own brackets are text, too
    await pilot.press("escape")


def run_dashboard(
    srv, r: redis.Redis, key: bytes, group: bytes, consumer: bytes, field: bytes, value: bytes
) -> None:
    r.flushall()
    arrange(r, key, group, consumer, field, value)

    async def scenario() -> None:
        app = make_app(srv.url, stuck_ms=0, interval=1.0)
        async with app.run_test(size=SIZE) as pilot:
            await visit_everything(app, pilot, r, key, group, consumer, field, value)
            assert app.is_running  # nothing (no [@click=app.quit]) ended it

    asyncio.run(scenario())


names = st.sampled_from(HOSTILE) | st.binary(min_size=1, max_size=40)


@pytest.mark.slow
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=names, group=names, consumer=names, field=names, value=names)
@example(
    key=b"!crash[/]",
    group=b"[link=http://x]y[/link]",
    consumer=b"[@click=app.quit]z[/]",
    field=b"[red]x[/red]",
    value=b"\x1b]8;;http://x\x07link\x1b]8;;\x07 \x1b[31mred",
)
@example(
    key=b"N" * 10_000,
    group=b"\xff\xfe",
    consumer=b"[red]x[/red]",
    field=b"\x1b[31m",
    value="שלום 🌡\u202e\x9b2J\nline two".encode(),
)
@example(
    key="abc\u202edcba 🔥".encode(),
    group=b"ctl\x00\x07\r\n\t",
    consumer=b"C" * 10_000,
    field=b"\xff",
    value=b"V" * 10_000,
)
def test_hostile_names_through_every_panel_dialog_and_notification(
    server, r, key, group, consumer, field, value
) -> None:
    run_dashboard(server, r, key, group, consumer, field, value)


@pytest.mark.slow
async def test_every_hostile_key_at_once_in_the_streams_table(server, r) -> None:
    """All of them side by side: each row shows its own name literally, so `[red]x[/red]` and `x`
    (and `\\xff` typed and the byte 0xff) are different rows that look different."""
    keys = [*HOSTILE, b"x", b"\\xff"]
    for k in keys:
        r.xadd(k, {b"f": b"v"})
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        table = app.w("streams-table")
        await until(pilot, lambda: len(table.row_keys) == len(keys), what="every key listed")
        shown = {k: plain(table.get_row(k.hex())[0]) for k in keys}
        assert shown == {k: middle_name_text(k, app.w("streams").name_width).plain for k in keys}
        assert shown[b"[red]x[/red]"] == "[red]x[/red]" and shown[b"x"] == "x"
        assert table.get_row(b"\xff\xfe".hex())[0].spans  # the escapes are marked ...
        # ... and a typed backslash is doubled: `\xff` typed and the byte 0xff never read the same
        assert shown[b"\\xff"] == "\\\\xff" and shown[b"\xff\xfe"] == "\\xff\\xfe"
        await pilot.press("slash", *"[/]")  # the filter (a glob) is typed text in the title too
        assert "filter: [/]" in app.w("streams")._border_title.plain
        screen = screen_text(app)
        assert not RAW_CONTROLS.search(screen)
        assert app.is_running


def test_name_text_escapes_and_cuts() -> None:
    assert name_text(b"[red]x[/red]").plain == "[red]x[/red]"
    t = name_text(b"a\x1b[31m\xc2\x9b\xe2\x80\xae\xff\n")
    # U+009B is \u009b; \x9b would be the lone byte 0x9b (model.label's rule)
    assert t.plain == "a\\x1b[31m\\u009b\\u202e\\xff\\n"
    assert [t.plain[s.start : s.end] for s in t.spans] == ["\\x1b", "\\u009b", "\\u202e", "\\xff", "\\n"]
    long = name_text("é".encode() * 10_000, 20)  # cut inside a character: no stray \xc3
    assert long.plain == "é" * 19 + "…" and long.cell_len == 20
    wide = name_text("🔥".encode() * 50, 21)
    assert wide.cell_len <= 21 and wide.plain.endswith("…")
    assert text("line one\nline\x1b two", keep_newlines=True).plain == "line one\nline\\x1b two"
    assert label(b"\xc2\x9b\xe2\x80\xae") == "\\u009b\\u202e"  # the JSON form escapes the same


def test_header_shows_server_text_escaped() -> None:
    info = HeaderInfo(
        url="redis://h:1/0",
        server="[red]valkey\x1b[0m",
        state="stale",
        error="[/] refused\x1b]8;;http://x\x07",
        down_nodes=("n:1 ([b]down)",),
    )
    shown = header_text(info).plain
    assert "[red]valkey\\x1b[0m" in shown and "[/] refused\\x1b]8;;http://x\\x07" in shown
    assert "[b]down" in shown and not RAW_CONTROLS.search(shown)


class Worker:
    def __init__(self, name: str, group: str, detail: str) -> None:
        self.name, self.group, self.detail = name, group, detail
        self.role, self.state, self.processed, self.failed = "consumer", "running", 1, 0


class Controller:
    """The demo panel's controller interface, with hostile worker names and guide text."""

    rate = 5.0

    def workers(self) -> list[Worker]:
        return [Worker("[red]c1[/red]", "!crash[/]", "\x1b[31mnote"), Worker("[/]", "[@click=app.quit]g", "")]

    def guide(self) -> str:
        return "[link=http://x]try F7[/link] \x1b]8;;http://x\x07"

    def stop_consumer(self, name=None) -> str:
        raise ValueError("no consumer [red]c9[/red] to stop")


class DemoHost(App):
    def compose(self) -> ComposeResult:
        yield DemoPanel(Controller())


async def test_demo_panel_names_are_text() -> None:
    app = DemoHost()
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        screen = screen_text(app)
        assert "[link=http://x]try F7[/link]" in screen and "[red]c1[/red]" in screen
        assert "!crash[/]" in screen and "\\x1b[31mnote" in screen
        assert not RAW_CONTROLS.search(screen)
        app.query_one(DemoPanel).action_stop_consumer()
        await until(pilot, lambda: notes(app), what="the notification")
        [note] = notes(app)
        assert note.message == "no consumer [red]c9[/red] to stop" and note.markup is False


def test_status_table_and_json_with_hostile_names(capsys, server, r) -> None:
    group, consumer = b"[link=http://x]g[/link]\x1b[31m", b"[@click=app.quit]c\x9b"
    for k in HOSTILE:
        r.xadd(k, {b"f": b"v"})
        r.xgroup_create(k, group, id="0")
        r.xreadgroup(group, consumer, {k: ">"}, count=1)
    code = cli.main(["status", "--url", server.url, "--max-pending", "0"])
    out, err = capsys.readouterr()
    assert code == 2 and err == ""
    assert not RAW_CONTROLS.search(out)
    joined = out.replace("\n", "")  # a 200-cell name wraps at the console's width
    for k in HOSTILE:
        assert name_text(k, 200).plain in joined
    assert name_text(group).plain in out and name_text(consumer).plain in out
    assert "[red]x[/red] group [link=http://x]g[/link]\\x1b[31m: pending 1 > 0" in out  # breach line
    assert "N" * 201 not in joined  # the 10 kB key is cut ...
    code = cli.main(["status", "--url", server.url, "--json"])
    doc = json.loads(capsys.readouterr().out)
    by_hex = {bytes.fromhex(s["key_hex"]): s for s in doc["streams"]}
    assert set(by_hex) == set(HOSTILE)
    assert by_hex[b"N" * 10_000]["key"] == "N" * 10_000  # ... and whole in the JSON
    for k, s in by_hex.items():
        assert s["key"] == label(k) and not RAW_CONTROLS.search(s["key"])
        [g] = s["groups"]
        assert g["name"] == label(group) and g["consumers"][0]["name"] == label(consumer)


def test_status_colour_output_has_only_rich_escape_codes(server, r, monkeypatch) -> None:
    """With colour forced, every ESC on the output is one Rich wrote (SGR), none from a name."""
    for k in HOSTILE:
        r.xadd(k, {b"f": b"v"})
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    from streamtop.commands import status as status_mod

    console = Console(force_terminal=True, width=200, record=True, highlight=False)
    monkeypatch.setattr(status_mod, "make_console", lambda: console)
    assert cli.main(["status", "--url", server.url]) == 0
    out = console.export_text(styles=True)
    assert "\x1b[" in out  # colour is on
    without_sgr = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert not RAW_CONTROLS.search(without_sgr)
    assert "\x1b]" not in out  # no OSC (hyperlink) sequence from a name
