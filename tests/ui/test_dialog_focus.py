"""Keys typed right after a dialog closes reach the panel that had the focus, never the hidden
stream filter (issue 18): cancelled, refused in the dialog, or done; and also when the main screen
lost its focus while the dialog was open (its widget hidden by a tab switch, or Textual dropping
the focus), where Textual's auto focus used to hand the keys to the hidden filter."""

from __future__ import annotations

import pytest

from tests.support.streams import fill
from tests.support.ui import SIZE, make_app
from tests.support.waiting import until


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
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.stream(b"s"))
        app.select(b"s", b"g")
        await until(pilot, lambda: len(app.w("pending").entries) == 3, "the pending page")
        table = app.w("pending-table")
        table.focus()
        for action, keys in (
            ("claim", ["escape"]),
            ("dead_letter", ["enter", "n", "escape"]),
            ("trim", ["escape"]),
            ("burst", ["escape"]),
        ):
            app.open_action(action)
            await until(pilot, lambda: app.screen is not app.main, f"the {action} dialog")
            lose_focus(app, how)
            for key in keys:
                if app.screen is not app.main:
                    await pilot.press(key)
            await until(pilot, lambda: app.screen is app.main, f"the {action} dialog closed")
            marked = set(app.main.selection.marked)
            await pilot.press("x")  # at once: mark (the pending table's key)
            assert app.focused is table, (action, app.focused)
            assert set(app.main.selection.marked) ^ marked, action
            assert not app.w("filter").display and app.w("filter").value == ""
            assert app.main.lower.active == "pending-tab"
