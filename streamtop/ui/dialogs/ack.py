"""Ack the marked pending entries: one entry at once, more after a confirmation."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App

from ..context import ActionContext
from .confirm import ConfirmDialog
from .shared import host_actions, name_of, run_action


def open_ack(app: App[Any], context: ActionContext) -> None:
    """The registry's opener for `a` (it checked that entries are marked)."""
    actions, key, group = host_actions(app), context.stream_key(), context.group_name()
    ids = tuple(context.selected_pending)
    if actions is None or not ids:
        return

    def run() -> None:
        run_action(app, lambda: actions.ack(key, group, ids))

    if len(ids) == 1:
        run()
        return

    def answered(yes: bool | None) -> None:
        if yes:
            run()
        else:
            app.notify("ack: cancelled, nothing changed", markup=False)

    body = Text.assemble(f"Ack {len(ids)} entries in group ", name_of(group),
                         ": they leave its pending list.", style="bold red")
    app.push_screen(ConfirmDialog(f"Ack {len(ids)} entries?", body, "Ack"), answered)
