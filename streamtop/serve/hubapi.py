"""The hub's routes (streamtop.hub.api) on serve's HTTP server (http.py): /api/v1/snapshot (the
last poll's document), /api/v1/events (server-sent events: the document of every new poll, and a comment
every HEARTBEAT seconds), /api/v1/focus?... (a focus page of this poll)."""

from __future__ import annotations

import asyncio
import contextlib

from ..hub.api import API, HEARTBEAT, JSON, Hub
from ..webserver import Guard
from .http import SEND_TIMEOUT, Request, _reply, refusal


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await asyncio.wait_for(writer.drain(), SEND_TIMEOUT)


async def serve_api(
    hub: Hub, guard: Guard, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    """Answer one API request; whether the connection may stay open (an event stream's never:
    it ends when the viewer or the hub goes)."""
    refused = refusal(guard, request)
    if refused is None and (problem := hub.refusal(request.headers)) is not None:
        refused = _reply(problem[0], f"streamtop hub: {problem[1]}\n".encode())
    if refused is not None:
        await _send(writer, refused)
        return False
    head_only = request.method == "HEAD"
    route = request.path.removeprefix(API)
    if route == "snapshot":
        if hub.demand is not None:
            hub.demand()
        await _send(writer, _reply("200 OK", hub.current(), JSON, head_only=head_only))
        return request.keep
    if route == "focus":
        status, body = await hub.focus_page(request.query)
        await _send(writer, _reply(status, body, JSON if status.startswith("200") else "text/plain"))
        return request.keep
    if route == "events" and not head_only:
        await events(hub, reader, writer)
        return False
    await _send(
        writer, _reply("404 Not Found", b"not found: /api/v1/snapshot, /api/v1/events, /api/v1/focus\n")
    )
    return request.keep


async def events(hub: Hub, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The event stream of one viewer, until it goes (its end of the connection closes: seen at
    once, so a hold on serve's clock does not outlive the viewer) or the hub stops."""
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
    )
    await _send(writer, head.encode("latin-1") + f"retry: {round(hub.interval * 1000)}\n\n".encode())
    q = hub.subscribe()
    release = hub.hold() if hub.hold is not None else None
    gone = asyncio.ensure_future(reader.read(1))  # a viewer sends nothing more: EOF is its end
    try:
        while not gone.done():
            got = asyncio.ensure_future(q.get())
            done, _ = await asyncio.wait({got, gone}, timeout=HEARTBEAT, return_when=asyncio.FIRST_COMPLETED)
            if got not in done:
                got.cancel()
                if not done:
                    await _send(writer, b": still here\n\n")
                continue
            await _send(writer, b"event: poll\ndata: " + got.result() + b"\n\n")
    finally:
        gone.cancel()
        hub.unsubscribe(q)
        if release is not None:
            release()
        with contextlib.suppress(Exception):
            writer.close()
