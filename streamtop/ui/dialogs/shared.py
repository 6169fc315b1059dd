"""What every dialog shares: the message a finished action posts, how a dialog finds its host's
`Actions`, and the helpers that keep names and server messages data (escaped Text, never markup).

A dialog never calls the app: it posts `ActionFinished(result)` to it, so the same dialog works in
the dashboard and in a small host app in the tests. The only thing a dialog needs from its host is
an `actions` attribute holding the `Actions` client (see `host_actions`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App
from textual.message import Message

from streamtop.pipeline.render import name_text, text

from ...actions import ActionResult, Actions
from ..context import ActionContext

# loaded once per app by every dialog screen (an absolute path: subclasses live in other modules)
CSS_FILE = str(Path(__file__).with_name("dialogs.tcss"))

# what the registry calls to open an action: the host app and the selection at the key press
DialogOpener = Callable[[App[Any], ActionContext], None]


class ActionFinished(Message):
    """An action ran: the host says what happened (a notification) and polls to show its effect.
    `used_marks`: the marked pending entries the action consumed (the host unmarks them)."""

    def __init__(self, result: ActionResult, used_marks: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.result = result
        self.used_marks = used_marks


def host_actions(app: App[Any]) -> Actions | None:
    """The host's actions client, or None before the first connection."""
    actions = getattr(app, "actions", None)
    return actions if isinstance(actions, Actions) else None


def run_action(
    app: App[Any], work: Callable[[], Awaitable[ActionResult]], used_marks: tuple[str, ...] = ()
) -> None:
    """Run an action that needs no form (produce one, ack one, destroy after its confirmation) in a
    worker of the host; its result goes to the host as `ActionFinished`."""

    async def job() -> None:
        app.post_message(ActionFinished(await work(), used_marks))

    app.run_worker(job(), group="action")


def refuse(app: App[Any], message: str) -> None:
    """An action that cannot start: one warning line, plain text (it may carry names)."""
    app.notify(text(message).plain, severity="warning", timeout=5, markup=False)


def name_of(name: bytes | None, limit: int = 60) -> Text:
    """A name in a dialog: escaped Text, never markup (titles, prompts, previews, bodies)."""
    return name_text(name or b"", limit)


def short(message: str, limit: int = 600, style: str = "") -> Text:
    """A message from the actions layer, escaped; one made long by a long name keeps its head and
    its tail (what happened is at either end)."""
    if len(message) > limit:
        message = f"{message[: limit * 3 // 4]} … {message[-limit // 4 :]}"
    return text(message, style, keep_newlines=True)


def plain(content: str | Text) -> Text:
    """A str given to a dialog is plain text (Static and Label would parse it as markup)."""
    return content if isinstance(content, Text) else Text(content)
