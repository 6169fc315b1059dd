"""A small host app for the action dialogs (what the dashboard gives them: `actions`, `notify`, and
a handler for the `ActionFinished` message every dialog posts), and helpers to drive and read one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.app import App, ComposeResult
from textual.widgets import Static

from streamtop.actions import Actions
from streamtop.pipeline.connection import ConnectionSpec, probe_server
from streamtop.ui.context import ActionContext
from streamtop.ui.dialogs import ActionFinished


class Host(App):
    def __init__(self, actions) -> None:
        super().__init__()
        self.actions = actions
        self.results = []
        self.notes = []

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_action_finished(self, message: ActionFinished) -> None:
        self.results.append(message.result)

    def notify(self, message, **kw) -> None:
        self.notes.append(str(message))
        super().notify(message, **kw)


async def make(srv, **kw) -> Actions:
    spec = ConnectionSpec(
        host=srv.host, port=srv.port, username=kw.pop("username", None), password=kw.pop("password", None)
    )
    client = spec.make_client(raw=True)
    return Actions(client, await probe_server(client), **kw)


@asynccontextmanager
async def hosted(srv, size: tuple[int, int] = (100, 40), **kw) -> AsyncIterator[tuple[Host, object]]:
    """(app, pilot): a Host on actions of `srv` (make's keywords: read_only, username, password),
    under the pilot; the actions' client is closed after (a pooled server keeps no connection)."""
    actions = await make(srv, **kw)
    app = Host(actions)
    try:
        async with app.run_test(size=size) as pilot:
            yield app, pilot
    finally:
        await actions.client.aclose()


def ctx(
    key=b"s", group=b"g", consumers=(b"c1",), selected=(), read_only=False, test_stream=True
) -> ActionContext:
    """`test_stream`: the demo's stream, where `e`/`E` do not ask (tests/ui/test_workflow_ui.py asks)."""
    return ActionContext(
        key=key,
        group=group,
        consumers=tuple(consumers),
        selected_pending=tuple(selected),
        read_only=read_only,
        test_stream=test_stream,
    )


def shown(app, widget_id: str) -> str:
    return str(app.screen.query_one(f"#{widget_id}", Static).render())
