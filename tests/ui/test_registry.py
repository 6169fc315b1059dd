"""Every key is declared once, in streamtop.ui.registry: the README's key table, the bindings (app
and panels), the footer, the command palette, the help screen and the refusals all come from it.
No server needed: the app runs on constructed data (a session on a ListSource)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from textual.widgets import Input

from streamtop.monitor import Monitor
from streamtop.pipeline.source import ListSource
from streamtop.ui import registry
from streamtop.ui.app import StreamtopApp
from streamtop.ui.context import ActionContext
from streamtop.ui.demo_panel import DEMO_KEYS
from streamtop.ui.help import HelpScreen, help_table
from streamtop.ui.messages import MessagesPanel
from streamtop.ui.pending import PendingPanel
from streamtop.ui.registry import COMMANDS, Command, Needs, Scope
from streamtop.ui.streams import StreamsPanel
from streamtop.ui.view import Selection
from tests.support import REPO_ROOT

README = REPO_ROOT / "README.md"
SIZE = (120, 40)


def readme_key_rows() -> list[tuple[set[str], str]]:
    """(keys, description) for each row of the README's "### Keys" table."""
    section = README.read_text().split("### Keys", 1)[1].split("\n###", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) < 2 or cells[0] in ("key", "---") or set(cells[0]) <= {"-"}:
            continue
        rows.append((set(re.findall(r"`([^`]+)`", cells[0])), cells[1]))
    return rows


def listed(commands=COMMANDS) -> list[Command]:
    """The commands the README must list (the demo's F-keys are in its own section)."""
    return [c for c in commands if c.scope is not Scope.DEMO]


def bindings(binding_list) -> set[tuple[str, str]]:
    return {(key, b.action) for b in binding_list for key in b.key.split(",")}


def help_text(table) -> list[tuple[str, str, str]]:
    return [
        tuple(str(cell) for cell in row) for row in zip(*(col._cells for col in table.columns), strict=True)
    ]


# ---- the README's table against the registry, both ways ----------------------------------------


def test_every_readme_key_is_a_registry_key():
    keys = {k for c in listed() for k in c.keys}
    rows = readme_key_rows()
    assert len(rows) >= 15
    for row_keys, what in rows:
        assert row_keys, what
        assert row_keys <= keys, (row_keys - keys, what)


def test_every_registry_key_is_in_the_readme():
    in_readme = set().union(*(k for k, _ in readme_key_rows()))
    missing = {(c.name, k) for c in listed() for k in c.keys if k not in in_readme}
    assert not missing, f"add these to README.md's key table: {sorted(missing)}"


def test_readme_rows_say_what_the_registry_says():
    """A row about an action names it: its label (or the first word of its description)."""
    by_key: dict[str, list[Command]] = {}
    for c in listed():
        for k in c.keys:
            by_key.setdefault(k, []).append(c)
    for row_keys, what in readme_key_rows():
        for key in row_keys:
            if len(row_keys) > 1:  # a shared row: "next / previous panel" names no single command
                continue
            words = {w for c in by_key[key] for w in (c.label.lower(), c.description.split()[0].lower())}
            assert any(w in what.lower() for w in words), (key, what, words)


# ---- the bindings -----------------------------------------------------------------------------


def test_app_and_panel_bindings_are_the_registry():
    assert bindings(StreamtopApp.BINDINGS) == bindings(registry.app_bindings())
    for panel, cls in (("streams", StreamsPanel), ("pending", PendingPanel), ("messages", MessagesPanel)):
        assert bindings(cls.BINDINGS) == bindings(registry.panel_bindings(panel)), panel
        assert cls.BINDINGS, panel
    bound = {(c.scope, c.panel) for c in COMMANDS if c.scope in (Scope.APP, Scope.PANEL)}
    assert {p for s, p in bound if s is Scope.PANEL} == {"streams", "pending", "messages"}


def test_every_write_action_needs_a_dialog_and_every_dialog_action_writes():
    for c in COMMANDS:
        assert (c.opens is not None) == c.writes, c.name
        assert c.keys and c.label and c.description and c.group, c.name
        if c.scope is Scope.PANEL:
            assert c.panel and c.action, c.name


def test_names_are_unique_and_keys_do_not_clash_within_a_scope():
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    seen: dict[tuple[Scope, str, str], str] = {}
    for c in COMMANDS:
        if c.scope is Scope.TEXTUAL:
            continue
        for key in (*c.keys, *c.aliases):
            where = (c.scope, c.panel, key)
            assert where not in seen, (c.name, seen.get(where))
            seen[where] = c.name


# ---- the refusals -----------------------------------------------------------------------------


def test_read_only_refusal_is_one_message_naming_the_key():
    ctx = ActionContext(key=b"s", group=b"g", selected_pending=("1-0",), read_only=True)
    writes = [c for c in COMMANDS if c.writes]
    assert {c.name for c in writes} == {
        "produce",
        "burst",
        "ack",
        "ack_without_data",
        "claim",
        "trim",
        "group",
        "dead_letter",
        "redrive",
    }
    for c in writes:
        message = registry.refusal(c, ctx, None)
        what = f"{c.label.lower()} ({c.keys[0]})"
        assert message == f"read-only mode: {what} refused (started with --read-only)"
    assert all(registry.refusal(c, ctx, None) is None for c in COMMANDS if not c.writes)


@pytest.mark.parametrize(
    ("needs", "context", "says"),
    [
        (Needs.STREAM, ActionContext(), "select a stream first"),
        (Needs.GROUP, ActionContext(key=b"s"), "select a consumer group first"),
        (Needs.MARKED, ActionContext(key=b"s", group=b"g"), "no pending entry selected"),
    ],
)
def test_what_an_action_needs_is_checked_before_its_dialog(needs, context, says):
    command = Command("x", ("z",), "Fake", "a fake action", "Actions", needs=needs)
    message = registry.refusal(command, context, None)
    assert message is not None and message.startswith(f"fake (z): {says}"), message
    everything = ActionContext(key=b"s", group=b"g", selected_pending=("1-0",))
    assert registry.refusal(command, everything, None) is None


# ---- one new entry shows up everywhere ----------------------------------------------------------


def fake_command(opened: list[ActionContext]) -> Command:
    return Command(
        "frobnicate",
        ("Z",),
        "Frobnicate",
        "frobnicate the selected stream",
        "Actions",
        opens=lambda app, context: opened.append(context),
        needs=Needs.STREAM,
        footer=True,
    )


@pytest.mark.slow
async def test_a_new_registry_entry_is_bound_listed_in_help_and_palette_and_guarded(monkeypatch):
    opened: list[ActionContext] = []
    fake = fake_command(opened)
    monkeypatch.setattr(registry, "COMMANDS", (*COMMANDS, fake))
    # the bindings are made when a class is made: a subclass built now picks the entry up
    app_class = type(
        "FakeApp",
        (StreamtopApp,),
        {"BINDINGS": registry.app_bindings(), "__module__": StreamtopApp.__module__},
    )
    app = app_class(Monitor.on(ListSource()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("Z")  # nothing selected: refused, naming the key
        await pilot.pause()
        assert any(n.message == "frobnicate (Z): select a stream first" for n in app._notifications)
        assert not opened
        app.main.selection = Selection(key=b"orders")  # no snapshot needed
        await pilot.press("Z")
        await pilot.pause()
        assert [c.key for c in opened] == [b"orders"]
        # the footer shows it
        shown = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}
        assert "Z" in shown
        # the palette describes it
        titles = {cmd.title: cmd.help for cmd in app.get_system_commands(app.screen)}
        assert titles["Frobnicate: frobnicate the selected stream"] == "key Z"
        # the help lists it
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
    assert ("Actions", "Z", "frobnicate the selected stream") in help_text(help_table())
    # a writing one is refused in read-only mode, in the same words as every other
    monkeypatch.setattr(registry, "COMMANDS", (*COMMANDS, replace(fake, writes=True)))
    app = StreamtopApp(Monitor.on(ListSource()), read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        app.main.selection = Selection(key=b"orders")  # no snapshot needed
        registry.open_dialog(app, "frobnicate", app.action_context())
        await pilot.pause()
        assert [n.message for n in app._notifications][-1].startswith("read-only mode: frobnicate (Z)")
        assert len(opened) == 1


def test_help_rows_come_from_the_registry_and_share_lines():
    rows = help_text(help_table())
    assert ("Pending", "] / [", "next page of pending entries / first page") in rows
    assert ("App", "q / ctrl+q / ctrl+c", "quit") in rows
    for c in COMMANDS:
        if c.help and c.scope is not Scope.DEMO:
            assert any(where == c.group and c.key_text in keys for where, keys, _ in rows), c.name
    lines = {(c.group, c.row or c.name) for c in COMMANDS if c.help and c.scope is not Scope.DEMO}
    assert len(rows) == len(lines)
    assert not any(where == "Demo" for where, _, _ in rows)
    demo_rows = help_text(help_table(demo=True))
    assert ("Demo", "F7", "crash consumer") in demo_rows
    read_only = help_text(help_table(read_only=True))
    assert (
        "Actions",
        "t",
        next(c.description for c in COMMANDS if c.name == "trim") + " (refused: read-only)",
    ) in read_only


def test_demo_keys_are_listed_through_the_registry_only_in_the_demo():
    titles = {title for title, _, _ in registry.palette_entries(demo=True)}
    assert "Demo: crash consumer" in titles
    assert titles - {title for title, _, _ in registry.palette_entries()} == {
        f"Demo: {what}" for _, _, what in DEMO_KEYS
    }


def test_help_drops_what_is_marked_not_for_help():
    hidden = replace(COMMANDS[0], name="hidden", keys=("F12",), help=False)
    assert not any("F12" in keys for _, keys, _ in help_text(help_table(commands=(*COMMANDS, hidden))))


# ---- the app: palette, footer, ctrl+c ----------------------------------------------------------


async def test_palette_entries_describe_the_action_and_run_it():
    app = StreamtopApp(Monitor.on(ListSource()))
    async with app.run_test(size=SIZE) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for c in COMMANDS:
            if c.palette and c.scope is not Scope.DEMO:
                entry = commands[f"{c.label}: {c.description}"]
                assert entry.help.startswith(f"key {c.key_text}")
        assert not any(t.startswith("Action:") for t in commands)
        # a panel command runs on its panel: the filter opens (called as the palette calls it)
        app.call_later(commands["Filter: filter streams by substring or glob (*, ?, [...])"].callback)
        await pilot.pause()
        assert app.w("filter").display and isinstance(app.focused, Input)
        # an app command runs on the app
        app.call_later(commands["Pause: pause / resume polling"].callback)
        await pilot.pause()
        assert app.paused


async def test_footer_shows_the_registry_footer_keys():
    app = StreamtopApp(Monitor.on(ListSource()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.focused is app.w("streams-table")
        shown = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}
        expected = {
            registry.key_name(c.keys[0])
            for c in COMMANDS
            if c.footer and (c.scope is Scope.APP or c.panel == "streams")
        }
        assert shown == expected


@pytest.mark.parametrize("typing", [False, True])
async def test_ctrl_c_quits_as_in_htop_even_while_typing(typing):
    app = StreamtopApp(Monitor.on(ListSource()))
    async with app.run_test(size=SIZE) as pilot:
        if typing:
            await pilot.press("slash")
            await pilot.pause()
            assert isinstance(app.focused, Input)
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 0


async def test_the_main_screen_draws_its_panels_tuple_and_every_panel_key_names_one():
    from textual.css.query import WrongType
    from textual.widgets import DataTable, Static

    from tests.support.sample import sample_snapshot

    app = StreamtopApp(Monitor.on(ListSource()))
    async with app.run_test(size=SIZE) as pilot:
        app.show_snapshot(sample_snapshot())
        await pilot.pause()
        panels = app.main.panels
        assert [p.id for p in panels] == ["streams", "detail", "groups", "consumers", "pending", "messages"]
        assert {c.panel for c in COMMANDS if c.scope is Scope.PANEL} <= {p.id for p in panels}
        assert app.w("streams-table", DataTable) is app.main.streams.table  # typed by what it is
        with pytest.raises(WrongType):
            app.w("streams-table", Static)
