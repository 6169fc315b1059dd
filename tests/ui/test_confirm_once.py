"""A confirmation answered by two keys in one tick (enter then escape on a busy dashboard, issue
28): the dialog is dismissed once, the answer runs once, the dialog under it stays, no crash."""

from __future__ import annotations

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

from streamtop.ui.dialogs import ConfirmDialog
from streamtop.ui.registry import open_dialog
from tests.support.dialogs import ctx
from tests.support.streams import fill, server_state
from tests.support.waiting import until

CHARS = {"enter": "\r", "escape": "\x1b", "y": "y", "n": "n"}
PAIRS = [("enter", "escape"), ("escape", "enter"), ("y", "escape"), ("y", "n"), ("enter", "y")]


def same_tick(app: App, *keys: str) -> None:
    """The keys as the terminal driver delivers them, all before the app handles the first."""
    assert app._driver is not None
    for key in keys:
        event = events.Key(key, CHARS[key])
        event.set_sender(app)
        app._driver.send_message(event)


class Under(ModalScreen[None]):
    """Stands for the action dialog a confirmation opens over."""

    def compose(self) -> ComposeResult:
        yield Static("under")


class Bare(App):
    def __init__(self) -> None:
        super().__init__()
        self.answers: list[bool | None] = []

    def compose(self) -> ComposeResult:
        yield Static("main")


@pytest.mark.parametrize("keys", PAIRS)
async def test_two_keys_in_one_tick_answer_once(keys):
    app = Bare()
    async with app.run_test() as pilot:
        app.push_screen(Under())
        await pilot.pause()
        app.push_screen(ConfirmDialog("Destroy?", "body", "Destroy"), app.answers.append)
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.focused is not None)
        same_tick(app, *keys)
        await until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
        for _ in range(5):
            await pilot.pause()
        assert isinstance(app.screen, Under)  # the dialog under it was not popped too
        assert len(app.answers) == 1
        first = keys[0]
        # enter presses the focused Cancel: only y says yes
        assert app.answers == [first == "y"]


@pytest.mark.parametrize("under", [True, False])
@pytest.mark.parametrize("buttons", [("yes", "no"), ("yes", "yes"), ("no", "yes")])
async def test_two_clicks_in_one_tick_answer_once(under, buttons):
    """Both buttons' Pressed messages are queued before the first is handled (a double click, or a
    click racing a key on a busy dashboard): one answer, the first; no screen popped twice (over
    the main screen that was ScreenStackError "Can't pop screen", and the app exited)."""
    from textual.widgets import Button

    app = Bare()
    async with app.run_test() as pilot:
        if under:
            app.push_screen(Under())
            await pilot.pause()
        dialog = ConfirmDialog("Ack 3 entries?", "body", "Ack")
        app.push_screen(dialog, app.answers.append)
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.focused is not None)
        for button in buttons:
            dialog.query_one(f"#{button}", Button).press()
        await until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
        for _ in range(5):
            await pilot.pause()
        assert app.answers == [buttons[0] == "yes"]
        assert len(app.screen_stack) == (2 if under else 1)


@pytest.mark.slow
@pytest.mark.parametrize("keys", [("enter", "escape"), ("y", "escape")])
async def test_every_confirming_dialog_survives_two_keys_in_one_tick(host, r, keys):
    """The dialogs that ask before they change: add test events to a stream that is not the
    demo's, ack of several entries, dead-letter, group destroy. Cancel: nothing changes; yes: done
    once; the app keeps running."""
    app, pilot = host
    ids = fill(r, n=6)
    flows = [  # (command, its context, keys that reach the confirmation)
        ("produce", ctx(test_stream=False), ()),
        ("ack", ctx(selected=ids[2:5]), ()),
        ("dead_letter", ctx(selected=ids[:2]), ("enter",)),
        ("group", ctx(), ("down", "down", "down", "enter")),
    ]
    for command, context, reach in flows:
        before = server_state(r)
        results = len(app.results)
        open_dialog(app, command, context)
        await pilot.pause()
        if reach:
            await pilot.press(*reach)
        await until(
            pilot,
            lambda: isinstance(app.screen, ConfirmDialog) and app.focused is not None,
            f"{command} to confirm",
        )
        same_tick(app, *keys)
        await until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
        if keys[0] == "y":
            await until(pilot, lambda n=results: len(app.results) > n, f"{command} to finish")
            assert app.results[-1].ok, app.results[-1].message
        for _ in range(5):
            await pilot.pause()
        assert len(app.results) == results + (keys[0] == "y"), command
        if keys[0] != "y":
            assert server_state(r) == before, command
        while len(app.screen_stack) > 1:  # the action dialog, when escape did not close it
            app.pop_screen()
        await pilot.pause()
    if keys[0] == "y":
        assert r.xlen("s") == 7 and r.xlen("s:dlq") == 2 and r.xinfo_groups("s") == []
