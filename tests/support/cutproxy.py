"""A TCP proxy between a client and a real server that cuts the connection once, at the n-th time
a given command goes through: `before` it reaches the server (the commands ahead of it in the same
write still do), or `after` the server ran it (its reply is thrown away). A real dropped connection,
no mock.

The cut is deterministic: the proxy half-closes the server side and reads until the server closes,
so every command the server got has run before the client even sees the drop. Later connections
(the client reconnecting to re-read) pass through untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from streamtop.actions import Actions
from streamtop.pipeline.connection import ConnectionSpec, probe_server


def marker(command: str) -> bytes:
    """How a command name starts on the wire (RESP bulk string), as redis-py sends it."""
    name = command.upper().encode()
    return b"$%d\r\n%s\r\n" % (len(name), name)


class CutProxy:
    def __init__(
        self,
        port: int,
        command: str,
        n: int = 1,
        when: str = "after",
        hook: Callable[[], Any] | None = None,
        refuse_after: bool = False,
    ) -> None:
        """`hook`: instead of cutting, call it (another client changes the server, say) just before
        the n-th command is forwarded. `refuse_after`: after the cut, every new connection is
        closed at once (the server "stays unreachable", so the client cannot re-read)."""
        assert when in ("before", "after")
        self.port, self.mark, self.n, self.when, self.hook = port, marker(command), n, when, hook
        self.seen = 0
        self.refuse_after = refuse_after
        self.dropped = False
        self.server: asyncio.AbstractServer | None = None
        self.tasks: set[asyncio.Task] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def __aenter__(self) -> int:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _serve(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        if self.dropped and self.refuse_after:
            c_writer.close()
            return
        s_reader, s_writer = await asyncio.open_connection("127.0.0.1", self.port)
        cutting = asyncio.Event()
        server_gone = asyncio.Event()

        async def upstream() -> None:
            while data := await c_reader.read(65536):
                if not self.dropped:
                    upper = data.upper()
                    at, cut_at = 0, None
                    while (i := upper.find(self.mark, at)) >= 0:
                        self.seen += 1
                        at = i + len(self.mark)
                        if self.seen == self.n:
                            cut_at = i
                            break
                    if cut_at is not None and self.hook is not None:
                        self.dropped = True
                        self.hook()
                    elif cut_at is not None:
                        self.dropped = True
                        cutting.set()
                        s_writer.write(data[:cut_at] if self.when == "before" else data)
                        await s_writer.drain()
                        s_writer.write_eof()  # the server runs what it got, then closes
                        await server_gone.wait()
                        return
                s_writer.write(data)
                await s_writer.drain()

        async def downstream() -> None:
            while data := await s_reader.read(65536):
                if not cutting.is_set():
                    c_writer.write(data)
                    await c_writer.drain()
            server_gone.set()

        tasks = [asyncio.ensure_future(upstream()), asyncio.ensure_future(downstream())]
        self.tasks.update(tasks)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if cutting.is_set():
                await server_gone.wait()
        except (ConnectionError, OSError):
            pass
        finally:
            for t in tasks:
                t.cancel()
            c_writer.close()
            s_writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for t in self.tasks:
            t.cancel()


@asynccontextmanager
async def actions_cut(
    srv, command: str, n: int = 1, when: str = "after", **kw: Any
) -> AsyncIterator[tuple[Actions, CutProxy]]:
    """(Actions whose connection goes through a CutProxy cut at the n-th `command`, the proxy); the
    client and the proxy are closed on the way out."""
    proxy = CutProxy(srv.port, command, n, when, **kw)
    port = await proxy.start()
    client = ConnectionSpec(host="127.0.0.1", port=port).make_client(raw=True)
    try:
        yield Actions(client, await probe_server(client)), proxy
    finally:
        await client.aclose()
        await proxy.close()
