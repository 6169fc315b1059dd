"""The hub's routes (streamtop.hub.api) on serve's HTTP server (http.py): /api/v1/snapshot (the
last poll's document), /api/v1/events (server-sent events: the document of every new poll, and a comment
every HEARTBEAT seconds; `?viewer=ID` names the viewer), /api/v1/focus?... (a focus page of this
poll), POST /api/v1/view?viewer=ID (the keys that viewer has on screen, while its stream is open)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from urllib.parse import parse_qsl

from ..hub.api import API, HEARTBEAT, JSON, Hub
from ..hub.document import VIEW_BODY, check_viewer
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
    route = request.path.removeprefix(API)
    posted = request.method == "POST" and route == "view"  # the one POST: the guard's checks, as a GET
    refused = refusal(guard, dataclasses.replace(request, method="GET") if posted else request)
    if refused is None and (problem := hub.refusal(request.headers)) is not None:
        refused = _reply(problem[0], f"streamtop hub: {problem[1]}\n".encode())
    if refused is not None:
        await _send(writer, refused)
        return False
    head_only = request.method == "HEAD"
    if route == "snapshot":
        if hub.demand is not None:
            hub.demand()
        await _send(writer, _reply("200 OK", hub.current(), JSON, head_only=head_only))
        return request.keep
    if route == "focus":
        status, body = await hub.focus_page(request.query)
        await _send(writer, _reply(status, body, JSON if status.startswith("200") else "text/plain"))
        return request.keep
    if route == "view":
        if not posted:
            await _send(writer, _reply("405 Method Not Allowed", b"POST a view\n"))
            return request.keep
        status, body, keep = await _view(hub, request, reader)
        await _send(writer, _reply(status, body, JSON if status.startswith("200") else "text/plain"))
        return keep
    if route == "events" and not head_only:
        try:
            viewer = dict(parse_qsl(request.query)).get("viewer")
            viewer = None if viewer is None else check_viewer(viewer)
        except ValueError as exc:
            await _send(writer, _reply("400 Bad Request", f"bad viewer: {exc}\n".encode()))
            return False
        await events(hub, reader, writer, viewer)
        return False
    routes = b"/api/v1/snapshot, /api/v1/events, /api/v1/focus, /api/v1/view"
    await _send(writer, _reply("404 Not Found", b"not found: " + routes + b"\n"))
    return request.keep


async def _view(hub: Hub, request: Request, reader: asyncio.StreamReader) -> tuple[str, bytes, bool]:
    """A viewer's view: its body read whole (Content-Length, at most VIEW_BODY bytes)."""
    try:
        length = int(request.headers.get("content-length", ""))
    except ValueError:
        return "411 Length Required", b"a view needs a Content-Length\n", False
    if not 0 <= length <= VIEW_BODY:
        return "413 Content Too Large", f"a view is at most {VIEW_BODY} bytes\n".encode(), False
    body = await asyncio.wait_for(reader.readexactly(length), SEND_TIMEOUT)
    status, reply = hub.take_view(request.query, body)
    return status, reply, request.keep


async def events(
    hub: Hub, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, viewer: str | None = None
) -> None:
    """The event stream of one viewer, until it goes (its end of the connection closes: seen at
    once, so a hold on serve's clock does not outlive the viewer) or the hub stops. A named
    viewer's view is taken while its stream is open and forgotten when it closes."""
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
    )
    if viewer is not None:
        hub.open_viewer(viewer)  # before the head: a view posted once the viewer has it is taken
    try:
        await _send(writer, head.encode("latin-1") + f"retry: {round(hub.interval * 1000)}\n\n".encode())
    except BaseException:
        if viewer is not None:
            hub.close_viewer(viewer)
        raise
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
        if viewer is not None:
            hub.close_viewer(viewer)
        if release is not None:
            release()
        with contextlib.suppress(Exception):
            writer.close()
