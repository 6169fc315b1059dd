"""Shared helpers for the UI tests: an app on a real server, and waiting for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable

from streamtop.connection import parse_url
from streamtop.monitor import Monitor
from streamtop.options import PollOptions
from streamtop.ui.app import StreamtopApp

SIZE = (140, 42)


def make_app(url: str, targets: tuple[str, ...] = (), **kwargs) -> StreamtopApp:
    monitor = Monitor(parse_url(url), targets, options=PollOptions(discovery_interval=0.2))
    kwargs.setdefault("interval", 0.1)
    return StreamtopApp(monitor, **kwargs)


async def until(pilot, cond: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Let the app run until `cond()` holds (fails the test after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached: {what or cond}")
        await pilot.pause(0.05)


def plain(cell: object) -> str:
    return getattr(cell, "plain", str(cell))


def row(app: StreamtopApp, table_id: str, key: str) -> list[str] | None:
    cells = app.w(table_id).cells(key)
    return None if cells is None else [plain(c) for c in cells]
