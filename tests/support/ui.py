"""Shared helpers for the UI tests: an app on a real server, and reading what its tables show."""

from __future__ import annotations

from textual.widgets import Input

from streamtop.connection import parse_url
from streamtop.monitor import Monitor
from streamtop.options import PollOptions
from streamtop.ui.app import StreamtopApp
from streamtop.ui.dialogs import ActionDialog, ConfirmDialog

SIZE = (140, 42)


def make_app(url: str, targets: tuple[str, ...] = (), **kwargs) -> StreamtopApp:
    monitor = Monitor(parse_url(url), targets, options=PollOptions(discovery_interval=0.2))
    kwargs.setdefault("interval", 0.1)
    return StreamtopApp(monitor, **kwargs)


def plain(cell: object) -> str:
    return getattr(cell, "plain", str(cell))


def row(app: StreamtopApp, table_id: str, key: str) -> list[str] | None:
    cells = app.w(table_id).cells(key)
    return None if cells is None else [plain(c) for c in cells]


def is_dialog(app) -> bool:
    """An action dialog or its confirmation is on screen."""
    return isinstance(app.screen, ActionDialog | ConfirmDialog)


async def type_in(pilot, widget_id: str, text: str) -> None:
    """Clear an input and type into it, key by key."""
    await pilot.pause()
    inp = pilot.app.screen.query_one(f"#{widget_id}", Input)
    inp.focus()
    await pilot.pause()
    inp.value = ""
    if text:
        await pilot.press(*text)
