"""Shared helpers for the UI tests: an app on a real server, and reading what its tables show."""

from __future__ import annotations

import html
import re

from textual.app import App
from textual.errors import NoWidget
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Input

from streamtop.monitor import Monitor
from streamtop.options import PollOptions, SessionOptions
from streamtop.pipeline.connection import parse_url
from streamtop.ui.app import StreamtopApp
from streamtop.ui.dialogs import ActionDialog, ConfirmDialog
from streamtop.ui.keyed_table import KeyedTable

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


async def type_in(pilot, widget_id: str, text: str) -> None:
    """Clear an input and type into it, key by key."""
    await pilot.pause()
    inp = pilot.app.screen.query_one(f"#{widget_id}", Input)
    inp.focus()
    await pilot.pause()
    inp.value = ""
    if text:
        await pilot.press(*text)


async def submit(pilot, **typed: str) -> None:
    """Type each value into its input (by id, in order), press enter and let the dialog answer."""
    for widget_id, text in typed.items():
        await type_in(pilot, widget_id, text)
    await pilot.press("enter")
    await pilot.pause()


def screen_text(app: App) -> str:
    """What is on the screen, line by line, from the app's own SVG screenshot."""
    svg = app.export_screenshot()
    lines: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        lines.setdefault(float(m.group(2)), []).append((float(m.group(1)), html.unescape(m.group(3))))
    return "\n".join("".join(t for _, t in sorted(parts)) for _, parts in sorted(lines.items())).replace(
        "\xa0", " "
    )


def visible_rows(app: App, widget: Widget) -> int:
    """Data rows of a table that are on screen (Static: lines on screen)."""
    try:
        shown = app.screen.find_widget(widget).visible_region
    except NoWidget:
        return 0
    if not isinstance(widget, KeyedTable):
        return shown.height
    content = widget.scrollable_content_region  # without the scrollbars
    body = Region(
        content.x,
        content.y + widget.header_height,
        content.width,
        max(0, content.height - widget.header_height),
    )
    return min(body.intersection(shown).height, widget.row_count)
