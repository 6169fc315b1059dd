"""The HTTP side of `streamtop web`: textual-serve's Server with a guard in front of it.

textual-serve serves any Host and lets any page open its WebSocket, and that socket types keys
into a dashboard. So: a server bound to loopback answers loopback names only (a foreign Host is DNS
rebinding), the WebSocket must come from a page of this server (a WebSocket is not bound by the
same-origin policy), no other site may frame the page (clickjacking into `--allow-writes` keys), at
most `max_sessions` dashboards run at once (each is a process of ~50 MB; they share one poll), and the
page fetches nothing from outside (textual-serve's template asks Google for a font). On exit every
page's socket is closed first, so no dashboard outlives the server.

A page that goes away takes its dashboard with it (issue 24): textual-serve stopped reading the
process's output when the socket closed and only asked it to quit, so a dashboard whose output had
filled its pipe stayed blocked forever, no longer counted by --max-sessions. Here the session ends
when its process has exited (asked to quit, then killed), and is counted until then; the terminal
size a page asks for is capped (a 4000x2000 screen made a 161 MB process).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from streamtop.pipeline.connection import host_port

if TYPE_CHECKING:
    from aiohttp.typedefs import Middleware
    from textual_serve.app_service import AppService
    from textual_serve.server import Server

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAX_WIDTH, MAX_HEIGHT = 500, 200  # cells: twice the largest terminal the docs promise (250x70)
QUIT_GRACE = 3.0  # seconds a dashboard has to quit by itself once its page is gone, then SIGKILL
_HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*https?://[^>]*>\s*", re.IGNORECASE)


def is_loopback(address: str) -> bool:
    if address.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def host_of(netloc: str) -> str:
    """The host part of a Host header or a URL's netloc, lower case, without port or brackets."""
    try:
        return (urlsplit(f"//{netloc}").hostname or "").lower()
    except ValueError:  # an unbalanced bracket, a bad port: no host we serve
        return ""


@dataclass(frozen=True)
class WebSettings:
    bind: str
    port: int
    public_url: str | None  # None: the page's URLs follow the Host each browser asked for
    allow_writes: bool
    max_sessions: int

    @property
    def where(self) -> str:
        return self.public_url or f"http://{host_port(self.bind or '0.0.0.0', self.port)}"


class Guard:
    """Which Host headers and WebSocket origins this server answers.

    Bound to loopback, only loopback names (and the public URL's host) are served: a page on another
    site that points its own name at 127.0.0.1 (DNS rebinding) gets 403. The WebSocket, which
    carries key presses, must come from a page of this server: its Origin must be the Host asked
    for or the public URL. A request without Origin is not a browser's page, and is let through.
    """

    def __init__(self, bind: str, public_url: str | None) -> None:
        public = urlsplit(public_url) if public_url else None
        self.public_origin = f"{public.scheme}://{public.netloc}".lower() if public else None
        # None: any Host (a wildcard bind without --public-url: the machine's names are not known,
        # so a rebinding page can reach it; the bind warning says so)
        self.hosts: frozenset[str] | None = None
        wildcard = bind in WILDCARDS
        if not wildcard or public is not None:
            names = set(LOOPBACK_NAMES) if wildcard or is_loopback(bind) else set()
            if not wildcard:
                names.add(bind.strip("[]").lower())
            if public is not None and public.hostname:
                names.add(public.hostname.lower())
            self.hosts = frozenset(names)

    def refusal(self, host: str, path: str, origin: str | None) -> str | None:
        if not _HOST_HEADER.fullmatch(host):  # it is written into the page (the socket's URL)
            return f"Host {host[:80]!r} is not a host name"
        if self.hosts is not None and host_of(host) not in self.hosts:
            return f"Host {host[:80]!r} is not served here"
        if path == "/ws" and origin is not None:
            origin = origin.lower()
            if origin != self.public_origin and urlsplit(origin).netloc != host.lower():
                return f"a page of {origin[:80]!r} may not open the dashboard"
        return None


def terminal_size(width: object, height: object) -> tuple[int, int]:
    """The size a page asks for, as whole cells within 1..MAX: a bad value is the default 80x24."""

    def cells(value: object, default: int, top: int) -> int:
        if not isinstance(value, str | bytes | int | float):  # JSON's null, a list, a map
            return default
        try:
            n = int(value)
        except (TypeError, ValueError):
            return default
        return min(max(n, 1), top)

    return cells(width, 80, MAX_WIDTH), cells(height, 24, MAX_HEIGHT)


async def end_session(app_service: AppService) -> None:
    """The page is gone: ask its dashboard to quit, and kill it when it does not within
    QUIT_GRACE (blocked writing into a pipe nobody reads, say); return once it has exited."""
    process = getattr(app_service, "_process", None)
    # a write into a closed pipe, the grace run out: the kill below decides
    with contextlib.suppress(Exception):
        await asyncio.wait_for(app_service.stop(), QUIT_GRACE)
    task = getattr(app_service, "_task", None)
    if task is not None and not task.done():
        task.cancel()
    if process is None:
        return
    try:
        await asyncio.wait_for(process.wait(), QUIT_GRACE)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()  # `exec`: the shell is the dashboard, so this is the dashboard
        await process.wait()


def page_without_external_links(templates: Path) -> str:
    """textual-serve's page, less its <link>s to other hosts (a font from Google): the dashboard
    draws with the browser's monospace font, and opening it tells no third party. It says why a
    session ended (CLOSE_REASON)."""
    page = _EXTERNAL_LINK.sub("", (templates / "app_index.html").read_text(encoding="utf-8"))
    return page.replace("</head>", CLOSE_REASON + "</head>", 1)


def too_many(max_sessions: int) -> bytes:
    """The close reason of a session over --max-sessions (at most 123 bytes, as WebSocket allows)."""
    return f"{max_sessions} sessions open already (--max-sessions): close one or try later".encode()[:123]


# textual-serve's page says "Session ended." whatever the reason: the reason the server closed the
# socket with (too many sessions, the server stopped) is written into that message
CLOSE_REASON = """<script>
(function () {
  const Native = window.WebSocket;
  function Socket(url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    socket.addEventListener("close", function (event) {
      const message = document.querySelector(".closed-dialog .message");
      if (message && event.reason) { message.textContent = "Session ended: " + event.reason; }
    });
    return socket;
  }
  Socket.prototype = Native.prototype;
  Object.assign(Socket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Socket;
})();
</script>
"""


class _Sized:
    """The app service as textual-serve's message loop sees it: a resize is capped too."""

    def __init__(self, service: AppService) -> None:
        self._service = service

    def __getattr__(self, name: str) -> object:
        return getattr(self._service, name)

    async def set_terminal_size(self, width: object, height: object) -> None:
        await self._service.set_terminal_size(*terminal_size(width, height))


def _guard_middleware(settings: WebSettings) -> Middleware:
    """The aiohttp middleware in front of every request: the Host/Origin guard (403 with why), the
    security headers, and at most `max_sessions` pages at once (one more is told so and closed)."""
    from aiohttp import WSCloseCode, web

    guard = Guard(settings.bind, settings.public_url)
    sessions = 0  # WebSocket handlers running: each is one dashboard process

    @web.middleware
    async def guarded(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        nonlocal sessions
        problem = guard.refusal(request.host, request.path, request.headers.get("Origin"))
        if problem is not None:
            raise web.HTTPForbidden(text=f"streamtop web: {problem}\n", headers=SECURITY_HEADERS)
        if request.path != "/ws":
            response = await handler(request)
            response.headers.update(SECURITY_HEADERS)
            return response
        if sessions >= settings.max_sessions:  # said on the page (a refused handshake says nothing)
            refused = web.WebSocketResponse()
            await refused.prepare(request)
            await refused.close(code=WSCloseCode.TRY_AGAIN_LATER, message=too_many(settings.max_sessions))
            return refused
        sessions += 1
        try:
            return await handler(request)
        finally:
            sessions -= 1

    return guarded


def make_server(
    command: str,
    settings: WebSettings,
    background: Callable[[asyncio.Event], Awaitable[None]] | None = None,
) -> Server:
    """A textual-serve Server that runs `command` for each browser session, behind the guard;
    `background`: a coroutine run in the server's loop until it stops (the web's poller)."""
    import aiohttp_jinja2
    import jinja2
    from aiohttp import web
    from textual_serve.server import Server

    guarded = _guard_middleware(settings)

    class WebServer(Server):
        def __init__(self) -> None:
            super().__init__(
                command,
                host=settings.bind,
                port=settings.port,
                title="streamtop",
                public_url=settings.public_url,
            )
            self.sockets: set[web.WebSocketResponse] = set()  # one per open page

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            page = page_without_external_links(Path(self.templates_path))
            aiohttp_jinja2.setup(app, loader=jinja2.DictLoader({"app_index.html": page}))
            app.middlewares.append(guarded)
            return app

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            if settings.public_url is None:  # set and read with no await between: race-free
                self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            """textual-serve's, with the size capped and the session ended by its process's exit."""
            from textual_serve.app_service import AppService

            websocket = web.WebSocketResponse(heartbeat=15)
            width, height = terminal_size(request.query.get("width", 80), request.query.get("height", 24))
            app_service: AppService | None = None
            try:
                await websocket.prepare(request)
                app_service = AppService(
                    self.command,
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=websocket.close,  # type: ignore[arg-type]  # as textual-serve passes it
                    download_manager=self.download_manager,
                    debug=self.debug,
                )
                await app_service.start(width, height)
                await self._process_messages(websocket, app_service)
            except asyncio.CancelledError:
                await websocket.close()
            except Exception:
                logging.getLogger("textual-serve").exception("streamtop web: a session failed")
            finally:
                if app_service is not None:
                    await asyncio.shield(end_session(app_service))
            return websocket

        async def _process_messages(self, websocket: web.WebSocketResponse, app_service: AppService) -> None:
            self.sockets.add(websocket)
            try:
                await super()._process_messages(websocket, _Sized(app_service))  # type: ignore[arg-type]
            finally:
                self.sockets.discard(websocket)

        async def on_startup(self, app: web.Application) -> None:
            if background is not None:
                self.stopping = asyncio.Event()
                self.background = asyncio.ensure_future(background(self.stopping))
            mode = "read-write" if settings.allow_writes else "read-only"
            print(f"streamtop web: the dashboard ({mode}) on {settings.where}; ctrl+c to stop", flush=True)

        async def on_shutdown(self, app: web.Application) -> None:
            """Close every page's socket before aiohttp waits for its handlers (60 s by default):
            each handler then tells its dashboard to quit, so ctrl+c or SIGTERM leaves none."""
            closing = [ws.close(message=b"streamtop web stopped") for ws in list(self.sockets)]
            await asyncio.gather(*closing, return_exceptions=True)
            task = getattr(self, "background", None)
            if task is not None:
                self.stopping.set()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, QUIT_GRACE)

    return WebServer()
