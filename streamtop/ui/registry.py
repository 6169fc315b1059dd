"""Every key and action of the dashboard, declared once.

The App's and the panels' BINDINGS, the footer, the command palette, the help screen and the
refusals ("read-only mode: trim (t) refused", "ack (a): select a consumer group first") are all
generated from COMMANDS; tests/ui/test_registry.py checks README.md's key table against it both ways.

Adding an action (docs/internals-actions.md): its family's function in streamtop/actions, a dialog
module in ui/dialogs/ with an opener (an `ActionDialog` subclass's `open`, or a function), a command
module in streamtop/commands/, and one line in `Actions` and one `ActionEntry` in
streamtop/actions/core.py (its key, what it needs selected, its dialog and its subcommand): the
registry makes its `Command` from that entry. Nothing else lists keys.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from textual.app import App
from textual.binding import Binding, BindingType

from ..actions import Actions
from ..actions.core import ACTIONS, ActionEntry, Needs
from . import dialogs
from .context import ActionContext
from .demo_panel import DEMO_KEYS
from .dialogs import DialogOpener, host_actions
from .dialogs.shared import refuse


class Scope(Enum):
    """Who binds a key."""

    APP = "app"  # the App: works wherever the focus is (unless the focused widget takes the key)
    PANEL = "panel"  # one panel (`Command.panel`, its widget id): works while it has the focus
    TEXTUAL = "textual"  # Textual's own key (focus moves, a table's enter, the palette): listed only
    DEMO = "demo"  # the demo panel's F-keys (ui/demo_panel.py binds them): listed in the demo


@dataclass(frozen=True, slots=True)
class Command:
    """One thing a person can do. `keys` are written as shown (`?`, `]`, `esc`, `ctrl+q`)."""

    name: str
    keys: tuple[str, ...]
    label: str  # short: the footer, the head of the palette entry, the refusals
    description: str  # what it does: the help screen and the palette
    group: str  # the help screen's section
    action: str = ""  # the Textual action a key runs; empty for a dialog: act('<name>')
    opens: DialogOpener | None = None  # an action's dialog (or flow), opened by open_dialog
    scope: Scope = Scope.APP
    panel: str = ""  # the panel's widget id, for Scope.PANEL
    needs: Needs = Needs.NOTHING
    writes: bool = False  # changes the server: refused in read-only mode
    footer: bool = False
    priority: bool = False  # also while an input has the focus (the quit keys)
    aliases: tuple[str, ...] = ()  # more keys for the binding, not listed (`=` for `+`)
    row: str = ""  # commands of one group with the same row share a line of the help
    palette: bool = True
    help: bool = True

    @property
    def binding_action(self) -> str:
        return self.action or f"act('{self.name}')"

    @property
    def key_text(self) -> str:
        return " / ".join(self.keys)

    def binding(self) -> Binding:
        return Binding(
            ",".join(key_name(k) for k in (*self.keys, *self.aliases)),
            self.binding_action,
            self.label,
            show=self.footer,
            key_display=self.keys[0],
            priority=self.priority,
            tooltip=self.description,
        )


# a key as written in the table -> Textual's key name
KEY_NAMES = {
    "?": "question_mark",
    "+": "plus",
    "=": "equals_sign",
    "-": "minus",
    "/": "slash",
    "]": "right_square_bracket",
    "[": "left_square_bracket",
    "esc": "escape",
}


def key_name(key: str) -> str:
    return KEY_NAMES.get(key, key)


def dialog_opener(path: str) -> DialogOpener:
    """An ActionEntry's `dialog` ("module:attribute" in streamtop.ui.dialogs) as its opener."""
    module, _, attribute = path.partition(":")
    found: Any = importlib.import_module(f"{dialogs.__name__}.{module}")
    for part in attribute.split("."):
        found = getattr(found, part)
    opener: DialogOpener = found
    return opener


def action_command(entry: ActionEntry) -> Command:
    """An action of the table (streamtop.actions.core.ACTIONS) as the dashboard's command."""
    return Command(
        entry.name,
        entry.keys,
        entry.label,
        entry.description,
        "Actions",
        opens=dialog_opener(entry.dialog),
        needs=entry.needs,
        writes=entry.writes,
        footer=entry.footer,
    )


_T, _P = Scope.TEXTUAL, Scope.PANEL

COMMANDS: tuple[Command, ...] = (
    # navigation
    Command(
        "next_panel",
        ("tab",),
        "Next panel",
        "next panel",
        "Navigation",
        scope=_T,
        row="panels",
        palette=False,
    ),
    Command(
        "previous_panel",
        ("shift+tab",),
        "Previous panel",
        "previous panel",
        "Navigation",
        scope=_T,
        row="panels",
        palette=False,
    ),
    Command(
        "move",
        ("up", "down", "pgup", "pgdn"),
        "Move",
        "move in a table (a mouse click selects a row)",
        "Navigation",
        scope=_T,
        palette=False,
    ),
    Command(
        "drill_in",
        ("enter",),
        "Drill in",
        "drill in: stream → groups → pending; message → full entry",
        "Navigation",
        scope=_T,
        palette=False,
    ),
    Command(
        "back",
        ("esc",),
        "Back",
        "back to the streams panel; there, clear the filter",
        "Navigation",
        action="back",
        palette=False,
    ),
    Command(
        "zoom",
        ("z",),
        "Zoom",
        "the focused panel fills the screen (z again or esc: back)",
        "Navigation",
        action="zoom",
        footer=True,
    ),
    Command(
        "pending_tab",
        ("1",),
        "Pending entries",
        "pending entries tab",
        "Navigation",
        action="tab('pending-tab')",
        row="tabs",
    ),
    Command(
        "messages_tab",
        ("2",),
        "Messages",
        "messages tab",
        "Navigation",
        action="tab('messages-tab')",
        row="tabs",
    ),
    # the streams panel
    Command(
        "filter",
        ("/",),
        "Filter",
        "filter streams by substring or glob (*, ?, [...])",
        "Streams",
        action="filter",
        scope=_P,
        panel="streams",
        footer=True,
    ),
    Command(
        "clear_filter",
        ("esc",),
        "Clear filter",
        "clear the streams filter",
        "Streams",
        action="clear_filter",
        scope=_P,
        panel="streams",
        help=False,
    ),
    Command(
        "sort",
        ("s",),
        "Sort",
        "sort by the next column (or click a header)",
        "Streams",
        action="sort",
        scope=_P,
        panel="streams",
        footer=True,
        row="sort",
    ),
    Command(
        "reverse",
        ("S",),
        "Reverse",
        "reverse the sort",
        "Streams",
        action="reverse",
        scope=_P,
        panel="streams",
        row="sort",
    ),
    # polling
    Command(
        "poll_now", ("space",), "Poll now", "poll the server now", "Poll", action="poll_now", footer=True
    ),
    Command("pause", ("p",), "Pause", "pause / resume polling", "Poll", action="pause", footer=True),
    Command(
        "slower",
        ("+",),
        "+interval",
        "longer interval between polls",
        "Poll",
        action="slower",
        aliases=("=",),
        row="interval",
    ),
    Command("faster", ("-",), "-interval", "shorter interval", "Poll", action="faster", row="interval"),
    # the pending entries and messages panels: the selection (marks, pages) is the main screen's
    Command(
        "mark",
        ("x",),
        "Mark",
        "mark the entry under the cursor (again: unmark) and move down",
        "Pending",
        action="screen.mark",
        scope=_P,
        panel="pending",
        footer=True,
        row="mark",
    ),
    Command(
        "mark_all",
        ("X",),
        "Mark all",
        "mark every entry on the page",
        "Pending",
        action="screen.mark_all",
        scope=_P,
        panel="pending",
        row="mark",
    ),
    Command(
        "pending_next_page",
        ("]",),
        "Next page",
        "next page of pending entries",
        "Pending",
        action="screen.pending_page('next')",
        scope=_P,
        panel="pending",
        footer=True,
        row="pages",
    ),
    Command(
        "pending_first_page",
        ("[",),
        "First page",
        "first page",
        "Pending",
        action="screen.pending_page('first')",
        scope=_P,
        panel="pending",
        row="pages",
    ),
    Command(
        "messages_older",
        ("]",),
        "Older",
        "older messages (next page)",
        "Messages",
        action="screen.messages_page('next')",
        scope=_P,
        panel="messages",
        footer=True,
        row="pages",
    ),
    Command(
        "messages_newest",
        ("[",),
        "Newest",
        "newest messages",
        "Messages",
        action="screen.messages_page('first')",
        scope=_P,
        panel="messages",
        row="pages",
    ),
    # actions: they change the server (streamtop.actions.core.ACTIONS declares them)
    *(action_command(entry) for entry in ACTIONS),
    # the app
    Command(
        "palette",
        ("ctrl+p",),
        "Command palette",
        "command palette: search every command",
        "App",
        scope=_T,
        palette=False,
    ),
    Command("help", ("?",), "Help", "every key (this screen)", "App", action="help", footer=True),
    Command("quit", ("q",), "Quit", "quit", "App", action="quit", footer=True, row="quit", palette=False),
    Command(
        "quit_anywhere",
        ("ctrl+q", "ctrl+c"),
        "Quit",
        "quit",
        "App",
        action="quit",
        priority=True,
        row="quit",
        palette=False,
    ),
    # the demo's workload keys (bound by the demo panel, listed when the demo runs)
    *(
        Command(
            f"demo_{action}",
            (key.upper(),),
            "Demo",
            what,
            "Demo",
            action=f"demo('{action}')",
            scope=Scope.DEMO,
        )
        for key, action, what in DEMO_KEYS
    ),
)


def _all(commands: Iterable[Command] | None) -> Iterable[Command]:
    """The given commands, else COMMANDS as it is now (a test may add one)."""
    return COMMANDS if commands is None else commands


def _normal(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def find(name: str, commands: Iterable[Command] | None = None) -> Command | None:
    """A command by name ("dead_letter", "dead-letter" and "deadletter" are one)."""
    return next((c for c in _all(commands) if _normal(c.name) == _normal(name)), None)


# ---- what is generated ----------------------------------------------------------------------


def app_bindings(commands: Iterable[Command] | None = None) -> list[BindingType]:
    """The App's BINDINGS."""
    return [c.binding() for c in _all(commands) if c.scope is Scope.APP]


def panel_bindings(panel: str, commands: Iterable[Command] | None = None) -> list[BindingType]:
    """A panel's BINDINGS (its widget id: "streams", "pending", "messages")."""
    return [c.binding() for c in _all(commands) if c.scope is Scope.PANEL and c.panel == panel]


def palette_entries(
    read_only: bool = False, demo: bool = False, commands: Iterable[Command] | None = None
) -> Iterator[tuple[str, str, Command]]:
    """(title, help, command) for the command palette: the title says what the action does, the
    help line which key does the same."""
    for c in _all(commands):
        if not c.palette or (c.scope is Scope.DEMO and not demo):
            continue
        refused = " (refused: read-only mode)" if read_only and c.writes else ""
        yield f"{c.label}: {c.description}", f"key {c.key_text}{refused}", c


def help_rows(
    read_only: bool = False, demo: bool = False, commands: Iterable[Command] | None = None
) -> list[tuple[str, str, str]]:
    """(section, keys, what they do) for the help screen; commands that share a row share a line."""
    rows: list[tuple[str, str, str]] = []
    merged: dict[tuple[str, str], int] = {}
    for c in _all(commands):
        if not c.help or (c.scope is Scope.DEMO and not demo):
            continue
        what = c.description + (" (refused: read-only)" if read_only and c.writes else "")
        at = merged.get((c.group, c.row)) if c.row else None
        if at is None:
            merged[(c.group, c.row)] = len(rows)
            rows.append((c.group, c.key_text, what))
            continue
        group, keys, before = rows[at]
        rows[at] = (group, f"{keys} / {c.key_text}", before if before == what else f"{before} / {what}")
    return rows


def refusal(command: Command, context: ActionContext, actions: Actions | None) -> str | None:
    """Why an action cannot start now (one line naming its key), or None."""
    what = f"{command.label.lower()} ({command.keys[0]})"
    if command.writes and (context.read_only or (actions is not None and actions.read_only)):
        return f"read-only mode: {what} refused (started with --read-only)"
    if command.writes and actions is None:
        return f"{what}: not connected to a server yet"
    if command.needs is not Needs.NOTHING and context.key is None:
        return f"{what}: select a stream first"
    if command.needs in (Needs.GROUP, Needs.MARKED) and context.group is None:
        return f"{what}: select a consumer group first"
    if command.needs is Needs.MARKED and not context.pending_targets:
        return (
            f"{what}: no pending entry selected (x marks the entry under the cursor, X every "
            "entry on the page)"
        )
    return None


def open_dialog(
    app: App[Any], name: str, context: ActionContext, commands: Iterable[Command] | None = None
) -> None:
    """Open an action's dialog for the selection in `context`, or say in one line why not."""
    command = find(name, commands)
    if command is None or command.opens is None:
        refuse(app, f"unknown action {name!r}")
        return
    problem = refusal(command, context, host_actions(app))
    if problem is not None:
        refuse(app, problem)
        return
    command.opens(app, context)
