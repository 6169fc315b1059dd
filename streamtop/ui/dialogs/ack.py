"""Ack: the marked pending entries, or the one under the cursor when nothing is marked (one entry
at once, more after a confirmation); and `A`: every pending entry whose data is gone, after a
count and a confirmation."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App

from ..context import ActionContext
from .confirm import ConfirmDialog
from .shared import ActionFinished, host_actions, name_of, run_action


def open_ack(app: App[Any], context: ActionContext) -> None:
    """The registry's opener for `a` (it checked that entries are marked or one is under the cursor)."""
    actions, key, group = host_actions(app), context.stream_key(), context.group_name()
    ids = context.pending_targets
    if actions is None or not ids:
        return
    used = context.selected_pending

    def run() -> None:
        run_action(app, lambda: actions.ack(key, group, ids), used_marks=used)

    if len(ids) == 1:
        run()
        return

    def answered(yes: bool | None) -> None:
        if yes:
            run()
        else:
            app.notify("ack: cancelled, nothing changed", markup=False)

    body = Text.assemble(
        f"Ack {len(ids)} entries in group ",
        name_of(group),
        ": they leave its pending list.",
        style="bold red",
    )
    app.push_screen(ConfirmDialog(f"Ack {len(ids)} entries?", body, "Ack"), answered)


def open_ack_without_data(app: App[Any], context: ActionContext) -> None:
    """The registry's opener for `A`: how many pending entries have no data, then a confirmation."""
    actions, key, group = host_actions(app), context.stream_key(), context.group_name()
    if actions is None:
        return

    async def flow() -> None:
        pre = await actions.without_data_preview(key, group)
        if not pre.ok or not pre.count:
            app.post_message(ActionFinished(pre))
            return
        body = Text.assemble(
            Text(pre.message, "bold red"),
            ": they can never be processed (no consumer "
            "gets their fields). Ack them, so they leave the pending list?",
        )

        def answered(yes: bool | None) -> None:
            if yes:
                run_action(app, lambda: actions.ack_without_data(key, group))
            else:
                app.notify("ack without data: cancelled, nothing changed", markup=False)

        app.push_screen(ConfirmDialog(f"Ack {pre.count:,} entries without data?", body, "Ack"), answered)

    app.run_worker(flow(), group="action")
