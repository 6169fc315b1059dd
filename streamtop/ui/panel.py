"""What a panel of the main screen is (docs/internals-session.md).

A panel is a widget with an id (the registry's `Command.panel` names it, `app.w(id)` finds it)
that draws the screen's one `DashboardView` in `show`, synchronously, changing only what changed.
It reads no server (no Redis call in a widget) and keeps no selection: it posts what the user did
and the screen decides. Adding one: its module, one entry in `MainScreen.panels`, its place in
`MainScreen.compose` and `streamtop.tcss`.
"""

from __future__ import annotations

from typing import Protocol

from .view import DashboardView


class Panel(Protocol):
    @property
    def id(self) -> str | None: ...

    def show(self, view: DashboardView) -> None:
        """Draw `view` (a new snapshot, or another selection)."""
        ...
