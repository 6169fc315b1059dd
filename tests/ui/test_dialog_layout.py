"""Dialogs size to their content, scroll when taller than the screen, and keep their buttons in
view: pilot at 80x24 on the real app (its stylesheet is where a dialog's `#body` once took the
main screen's 1fr height), the trim preview against a real Valkey 9.1."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input

from streamtop.monitor import Monitor
from streamtop.pipeline.source import ListSource
from streamtop.ui.app import StreamtopApp
from streamtop.ui.context import ActionContext
from streamtop.ui.dialogs import ConfirmDialog, TrimDialog
from streamtop.ui.registry import open_dialog
from tests.support.dialogs import make, shown
from tests.support.waiting import until

SMALL = (80, 24)


def on_top(app: App, widget: Widget) -> bool:
    """The widget is inside the screen and is what is painted at its centre (not clipped by the
    dialog, not covered by anything)."""
    region = widget.region
    if not app.screen.region.contains_region(region):
        return False
    painted, _ = app.screen.get_widget_at(region.x + region.width // 2, region.y + region.height // 2)
    return painted is widget or widget in painted.ancestors


async def test_confirm_dialog_is_as_tall_as_its_text_with_its_buttons_on_screen():
    app = StreamtopApp(Monitor.on(ListSource()))
    async with app.run_test(size=SMALL) as pilot:
        app.push_screen(ConfirmDialog("Ack 3 entries?", "they leave the pending list", "Ack"))
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen.query("#yes"))
        dialog = app.screen.query_one("#dialog")
        assert dialog.region.height <= 12 < SMALL[1] // 2 + 1, dialog.region
        for button in app.screen.query(Button):
            assert on_top(app, button), button


async def test_a_long_confirmation_scrolls_and_keeps_its_buttons():
    app = StreamtopApp(Monitor.on(ListSource()))
    body = "\n".join(f"line {i}" for i in range(60))
    async with app.run_test(size=SMALL) as pilot:
        app.push_screen(ConfirmDialog("Sure?", body, "Do it"))
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen.query("#yes"))
        assert app.screen.query_one("#dialog").region.height <= SMALL[1]
        assert app.screen.query_one("#form", VerticalScroll).max_scroll_y > 0
        for button in app.screen.query(Button):
            assert on_top(app, button), button


@pytest.mark.slow
async def test_trim_preview_taller_than_the_screen_keeps_confirm_in_view(server, r):
    r.xadd("s", {"n": "0"})
    for i in range(14):  # every group loses unread entries: one red warning line each
        r.xgroup_create("s", f"group-{i:02}", "0")
    for i in range(1, 30):
        r.xadd("s", {"n": str(i)})
    actions = await make(server)
    app = StreamtopApp(Monitor.on(ListSource()), actions=actions)
    async with app.run_test(size=SMALL) as pilot:
        open_dialog(app, "trim", ActionContext(key=b"s"))
        await until(pilot, lambda: isinstance(app.screen, TrimDialog) and app.screen.query("#threshold"))
        ok = app.screen.query_one("#ok", Button)
        assert on_top(app, ok) and app.screen.query_one("#dialog").region.height < SMALL[1]
        app.screen.query_one("#threshold", Input).value = "5"
        await pilot.press("enter")
        await until(pilot, lambda: str(ok.label) == "Confirm trim")
        await pilot.pause()
        assert "removes 25 of 30 entries" in shown(app, "info") and "group-13" in shown(app, "info")
        form = app.screen.query_one("#form", VerticalScroll)
        assert form.max_scroll_y > 0 and form.scroll_y > 0  # taller than the screen: scrolled to it
        assert on_top(app, ok) and on_top(app, app.screen.query_one("#cancel", Button))
        assert on_top(app, app.screen.query_one("#title"))
        await pilot.click(ok)
        await until(pilot, lambda: not isinstance(app.screen, TrimDialog))
    await actions.client.aclose()
    assert r.xlen("s") == 5
