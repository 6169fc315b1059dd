"""Shared helpers for the UI tests: an app on a real server, and reading what its tables show."""

from __future__ import annotations

from streamtop.connection import parse_url
from streamtop.monitor import Monitor
from streamtop.options import PollOptions, SessionOptions
from streamtop.ui.app import StreamtopApp
from streamtop.ui.dialogs import ActionDialog, ConfirmDialog

SIZE = (140, 42)


def make_app(url: str, targets: tuple[str, ...] = (), **kwargs) -> StreamtopApp:
    options = SessionOptions(
        targets=targets,
        poll=PollOptions(discovery_interval=0.2),
        interval=kwargs.pop("interval", 0.1),
        follow_screen=True,  # as the dashboard's session (DashboardOptions.session)
    )
    return StreamtopApp(Monitor(parse_url(url), options), **kwargs)


def plain(cell: object) -> str:
    return getattr(cell, "plain", str(cell))


def row(app: StreamtopApp, table_id: str, key: str) -> list[str] | None:
    cells = app.w(table_id).cells(key)
    return None if cells is None else [plain(c) for c in cells]


def is_dialog(app) -> bool:
    """An action dialog or its confirmation is on screen."""
    return isinstance(app.screen, ActionDialog | ConfirmDialog)
