"""An in-process hub for the tests (issue 31): the real Monitor, Exporter, Hub and HTTP server on a
loopback port, polled by hand (`await hub.poll()`); `stop()` and `start()` take the HTTP side away
and bring it back on the same port (a hub killed and restarted, as its viewers see it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING

from streamtop.hub.api import Hub
from streamtop.hub.attach import AttachedMonitor
from streamtop.options import PollOptions, SessionOptions
from streamtop.pipeline.connection import ConnectionSpec, build_spec
from streamtop.serve.http import listen, stop
from streamtop.serve.hubapi import serve_api
from streamtop.serve.poller import Exporter, serve_monitor
from streamtop.ui.app import StreamtopApp
from tests.support.ui import SIZE
from tests.support.waiting import until

if TYPE_CHECKING:
    from textual.pilot import Pilot

FAST = SessionOptions(interval=0.2, follow_screen=True)  # an attached session's options in the tests


class HubServed:
    def __init__(
        self,
        spec: ConnectionSpec,
        interval: float = 0.2,
        *,
        expose_entries: bool = False,
        token: str | None = None,
        loopback: bool = True,
        targets: tuple[str, ...] = (),
    ) -> None:
        self.monitor = serve_monitor(spec, targets, PollOptions(), interval)
        self.exporter = Exporter(self.monitor, spec.db, log=lambda line: None)
        self.hub = Hub(
            self.monitor,
            interval,
            spec.display_url(),
            expose_entries=expose_entries,
            token=token,
            loopback=loopback,
        )
        self.exporter.after_poll.append(self.hub.publish)
        self.port = 0
        self.start()

    @classmethod
    def on(cls, srv, **kw) -> HubServed:
        return cls(build_spec(url=srv.url), **kw)

    def start(self) -> None:
        self.httpd, self.thread = listen(
            self.port, "127.0.0.1", self.exporter, (), partial(serve_api, self.hub)
        )
        self.port = self.httpd.server_port
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop(self.httpd, self.thread)

    async def poll(self):
        return await self.exporter.poll_once()

    async def close(self) -> None:
        self.stop()
        await self.monitor.close()


@asynccontextmanager
async def live_attached(
    hub: HubServed, options: SessionOptions = FAST
) -> AsyncIterator[tuple[StreamtopApp, Pilot]]:
    """A dashboard attached to `hub` (after the hub's first poll) without a connection of its own,
    once it is live; the hub is closed after the block."""
    try:
        await hub.poll()
        app = StreamtopApp(AttachedMonitor(hub.url, None, options))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.header_info().state == "live", "live")
            yield app, pilot
    finally:
        await hub.close()
