"""The dead-letter dialog's target: a keystroke after tabbing to it adds to the name instead of
replacing it, and a target that does not exist is announced ("a new stream will be created")
before anything is written; a key of another type is refused in the dialog."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from streamtop.ui.dialogs import ConfirmDialog
from streamtop.ui.registry import open_dialog
from tests.support.dialogs import ctx, shown
from tests.support.streams import fill
from tests.support.ui import type_in
from tests.support.waiting import until


def body(app) -> str:
    return str(app.screen.query_one("#body", Static).render())


async def test_tab_then_type_keeps_the_target(host, r):
    app, pilot = host
    fill(r, n=2)
    open_dialog(app, "dead_letter", ctx())
    await pilot.pause()
    await pilot.press("tab")
    await until(pilot, lambda: app.focused is app.screen.query_one("#dlq", Input))
    await pilot.press("2")
    assert app.screen.query_one("#dlq", Input).value == "s:dlq2"
    await pilot.press("escape")
    open_dialog(app, "redrive", ctx(key=b"s:dlq"))  # its source DLQ, focused first
    await until(pilot, lambda: app.screen.query("#dlq"), "the redrive dialog")
    await until(pilot, lambda: app.focused is app.screen.query_one("#dlq", Input))
    await pilot.press("2")
    assert app.screen.query_one("#dlq", Input).value == "s:dlq2"


@pytest.mark.slow
async def test_a_new_target_is_announced_and_an_existing_one_is_not(host, r):
    app, pilot = host
    ids = fill(r, n=3)
    open_dialog(app, "dead_letter", ctx(selected=ids[:1]))
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
    assert "s:dlq does not exist: a new stream will be created" in body(app)
    assert not r.exists("s:dlq")
    await pilot.press("y")
    await until(pilot, lambda: app.results)
    assert r.xlen("s:dlq") == 1
    open_dialog(app, "dead_letter", ctx(selected=ids[1:2]))
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the second confirmation")
    assert "new stream" not in body(app)
    await pilot.press("n")


@pytest.mark.slow
async def test_a_target_of_another_type_is_refused(host, r):
    app, pilot = host
    ids = fill(r, n=1)
    r.set("taken", "x")
    open_dialog(app, "dead_letter", ctx(selected=ids))
    await pilot.pause()
    await type_in(pilot, "dlq", "taken")
    await pilot.press("enter")
    await until(pilot, lambda: "holds a string" in shown(app, "error"), "the refusal")
    assert r.get("taken") == b"x"


@pytest.mark.slow
async def test_redrive_to_a_new_stream_is_announced_in_the_dry_run(host, r):
    """The redrive dialog's target field: the dry run (the first enter) says the stream will be
    created; nothing is written until the second enter and the confirmation."""
    app, pilot = host
    ids = fill(r, n=2)
    assert (await app.actions.dead_letter(b"s", b"g", ids=ids)).ok
    open_dialog(app, "redrive", ctx(key=b"s:dlq"))
    await type_in(pilot, "to", "fresh")
    await pilot.press("enter")
    await until(pilot, lambda: "'fresh' does not exist: a new stream will be created" in shown(app, "info"))
    assert not r.exists("fresh") and r.xlen("s:dlq") == 2
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
    await pilot.press("y")
    await until(pilot, lambda: app.results)
    assert app.results[0].ok and r.xlen("fresh") == 2 and r.xlen("s:dlq") == 0
