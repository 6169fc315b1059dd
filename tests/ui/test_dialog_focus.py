"""Keys typed right after a dialog closes reach the panel that had the focus, never the hidden
stream filter (issue 18): cancelled, refused in the dialog, or done; and also when the main screen
lost its focus while the dialog was open (its widget hidden by a tab switch, or Textual dropping
the focus), where Textual's auto focus used to hand the keys to the hidden filter."""

from __future__ import annotations

import pytest
from textual.screen import ModalScreen

from streamtop.ui.dialogs.confirm import ConfirmDialog
from tests.support.streams import fill
from tests.support.ui import SIZE, make_app
from tests.support.waiting import until

ASKED = "(the confirmation is up)"  # a step of the keys below: wait for it


async def pending_page(pilot, app):
    """The app on stream s, group g, its three pending entries shown: the pending table."""
    await until(pilot, lambda: app.snapshot is not None and app.snapshot.stream(b"s"))
    app.select(b"s", b"g")
    await until(pilot, lambda: len(app.w("pending").entries) == 3, "the pending page")
    return app.w("pending-table")


def lose_focus(app, how: str) -> None:
    """What takes the focus off the main screen while a dialog covers it."""
    if how == "dropped":
        app.main.set_focus(None)
    elif how == "tab switched":
        app.main.lower.active = "messages-tab"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["kept", "dropped", "tab switched"])
async def test_keys_after_a_dialog_go_to_the_focused_panel(server, r, how):
    fill(r, n=3)
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        table = await pending_page(pilot, app)
        table.focus()
        for action, keys in (
            ("claim", ["escape"]),
            ("dead_letter", ["enter", ASKED, "n", "escape"]),
            ("trim", ["escape"]),
            ("burst", ["escape"]),
        ):
            app.open_action(action)
            await until(pilot, lambda: app.screen is not app.main, f"the {action} dialog")
            lose_focus(app, how)
            for key in keys:
                if key is ASKED:  # its count runs in a worker: `n` typed before it ends is text
                    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
                elif app.screen is not app.main:
                    await pilot.press(key)
            await until(pilot, lambda: app.screen is app.main, f"the {action} dialog closed")
            marked = set(app.main.selection.marked)
            await pilot.press("x")  # at once: mark (the pending table's key)
            assert app.focused is table, (action, app.focused)
            assert set(app.main.selection.marked) ^ marked, action
            assert not app.w("filter").display and app.w("filter").value == ""
            assert app.main.lower.active == "pending-tab"


async def test_a_focus_moved_just_before_a_dialog_comes_back_after_it(server, r):
    """The focus moved to the pending table, a dialog opened over it, the tab switched away and
    the dialog closed, all before the app handled one message (keys typed fast on a loaded
    machine): the focus came back to the streams table, where it was before the move, since the
    screen learnt of the move from a DescendantFocus message still on its way (the cause of this
    module's flake under -n 2: `x` then marked nothing)."""
    fill(r, n=3)
    app = make_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        table = await pending_page(pilot, app)
        assert app.focused is app.w("streams-table")
        app.main.set_focus(table)  # what table.focus() does, a moment later
        app.push_screen(ModalScreen())
        app.main.lower.active = "messages-tab"
        app.pop_screen()
        await pilot.pause()
        assert app.focused is table and app.main.lower.active == "pending-tab"
