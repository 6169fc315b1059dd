"""An in-process hub for the tests (issue 31): the real Monitor, Exporter, Hub and HTTP server on a
loopback port, polled by hand (`await hub.poll()`); `stop()` and `start()` take the HTTP side away
and bring it back on the same port (a hub killed and restarted, as its viewers see it)."""

from __future__ import annotations

from functools import partial

from streamtop.hub.api import Hub
from streamtop.options import PollOptions
from streamtop.pipeline.connection import ConnectionSpec, build_spec
from streamtop.serve.http import listen, stop
from streamtop.serve.hubapi import serve_api
from streamtop.serve.poller import Exporter, serve_monitor


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
