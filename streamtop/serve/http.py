"""The /metrics HTTP server: the last poll's page, sent by one asyncio loop in its own thread.

A request for the page first asks the exporter for it (`demand()`: a poll when the page is old,
one for all the scrapers that arrive meanwhile, waited for at most SCRAPE_WAIT seconds).

Ours rather than prometheus_client.start_http_server: its WSGI app writes the exposition again on
every scrape (0.8 s at 1,000 streams; here a page is written once per poll and every scrape sends
those bytes, gzipped once when a scraper asks for gzip, as Prometheus does), and its server keeps
socketserver's listen backlog of 5, so 50 scrapers connecting at once had their SYNs dropped and
retried after a second. The backlog here is 128; nothing is logged per request.

Hardened as `streamtop web` is (issue 24):
- a Host that is not this server's is refused (bound to loopback, only loopback names): a page
  on another site that points its own name at 127.0.0.1 (DNS rebinding) would otherwise read
  every stream name through the visitor's browser;
- one thread, whatever the clients: a thread per connection made 300 threads for 300 slow
  clients. Each connection is a coroutine; at most MAX_CONNECTIONS are open (more are closed at
  once), a request must arrive whole within REQUEST_TIMEOUT (headers only, at most MAX_HEAD
  bytes), an idle kept-alive connection is closed after the same, and a reply must be taken
  within SEND_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ipaddress
import socket
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from ..webserver import Guard
from .exposition import CONTENT_TYPE

BACKLOG = 128  # connections the kernel queues before accept: many scrapers at once
REQUEST_TIMEOUT = 10.0  # seconds a request (line and headers) has to arrive whole; idle keep-alive
SEND_TIMEOUT = 30.0  # seconds a reply may wait for a client that does not read it
MAX_HEAD = 16 * 1024  # bytes of request line and headers
MAX_CONNECTIONS = 512  # open at once; beyond, a new connection is closed at once


class PageLike(Protocol):
    body: bytes

    def gzipped(self) -> bytes: ...


class Source(Protocol):
    """What the server asks for each scrape (poller.Exporter): `demand()` first (None: take the
    page now; a future: wait for it, at most SCRAPE_WAIT seconds), then `page()`."""

    def page(self) -> PageLike: ...

    def demand(self) -> concurrent.futures.Future[None] | None: ...


# seconds a scrape waits for the poll it asked for: less than Prometheus' default scrape_timeout (10 s),
# or a scrape of a hung server is dropped by the scraper (no streamtop_up 0, no last success time)
SCRAPE_WAIT = 8.0
SCRAPE_TIMEOUT_HEADER = "x-prometheus-scrape-timeout-seconds"  # what Prometheus says it waits


def scrape_wait(headers: dict[str, str]) -> float:
    """How long this scrape may wait for a poll: SCRAPE_WAIT, or less when the scraper says it
    waits less (80% of its timeout: the page must still be sent)."""
    try:
        told = float(headers.get(SCRAPE_TIMEOUT_HEADER, ""))
    except ValueError:
        return SCRAPE_WAIT
    return min(SCRAPE_WAIT, 0.8 * told) if told > 0 and told == told else SCRAPE_WAIT


async def fresh_page(source: Source, wait: float = SCRAPE_WAIT) -> PageLike:
    """The page, after the poll this scrape asked for when the page was old (see poller), waited
    for at most `wait` seconds."""
    waiter = source.demand()
    if waiter is not None:
        with contextlib.suppress(TimeoutError, concurrent.futures.CancelledError):
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(waiter)), wait)
    return source.page()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    keep: bool  # the connection may stay open after the reply


def parse_head(head: bytes) -> Request | None:
    """A request line and headers (bytes up to the blank line); None when malformed."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep = connection != "close" and (version != "HTTP/1.0" or connection == "keep-alive")
    path, _, query = target.partition("?")
    return Request(method, path, query, headers, keep)


def refusal(guard: Guard | None, request: Request) -> bytes | None:
    """403 for a Host the guard does not serve (or a page of another site: Origin), 405 for a
    method other than GET and HEAD."""
    host = request.headers.get("host")
    origin = request.headers.get("origin")
    problem = guard.refusal(host, "/ws" if origin else request.path, origin) if guard and host else None
    if problem is not None:
        return _reply("403 Forbidden", f"streamtop serve: {problem}\n".encode())
    if request.method not in ("GET", "HEAD"):
        return _reply("405 Method Not Allowed", b"GET only\n")
    return None


def response(
    source: Source, guard: Guard | None, head: bytes, page: PageLike | None = None
) -> tuple[Reply, bool]:
    """The reply to one request head (bytes up to the blank line), and whether the connection
    may stay open: GET anything but /favicon.ico is the page (`page`, else the current one; gzip
    when the scraper accepts it); a Host the guard does not serve gets 403."""
    request = parse_head(head)
    if request is None:
        return (_reply("400 Bad Request", b"bad request\n"), b""), False
    refused = refusal(guard, request)
    if refused is not None:
        return (refused, b""), False
    return metrics_reply(source, request, page)


def wants_page(guard: Guard | None, request: Request) -> bool:
    """The request is a scrape of the page (only that asks the exporter for a poll)."""
    return request.path != "/favicon.ico" and refusal(guard, request) is None


def metrics_reply(source: Source, request: Request, page: PageLike | None = None) -> tuple[Reply, bool]:
    """The reply as (head, body): the page's own bytes are sent as they are, never copied behind
    a head (at 2,000 streams a 2.5 MB copy per scrape, which the allocator kept)."""
    method, path, headers, keep = request.method, request.path, request.headers, request.keep
    if path == "/favicon.ico":
        return (_reply("404 Not Found", b"not found", head_only=method == "HEAD"), b""), keep
    page = page if page is not None else source.page()
    extra = ""
    if "gzip" in headers.get("accept-encoding", ""):
        body, extra = page.gzipped(), "Content-Encoding: gzip\r\n"
    else:
        body = page.body
    head = _head("200 OK", len(body), CONTENT_TYPE, extra)
    return (head, b"" if method == "HEAD" else body), keep


PLAIN = "text/plain; charset=utf-8"
Reply = tuple[bytes, bytes]  # the head (status line and headers) and the body, sent one after the other
SEND_CHUNK = 64 * 1024  # bytes of a body handed to the transport at a time (see send)


def _head(status: str, length: int, kind: str = PLAIN, extra: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n{extra}Content-Length: {length}\r\n\r\n".encode(
        "latin-1"
    )


def _reply(status: str, body: bytes, kind: str = PLAIN, extra: str = "", head_only: bool = False) -> bytes:
    return _head(status, len(body), kind, extra) + (b"" if head_only else body)


async def send(writer: asyncio.StreamWriter, reply: Reply) -> None:
    """The head, then the body SEND_CHUNK bytes at a time, each taken by the transport before the
    next (SEND_TIMEOUT for the whole): the transport copies what the socket does not take at once
    into its own buffer, a whole page per slow scraper if handed the page in one piece."""
    head, body = reply
    async with asyncio.timeout(SEND_TIMEOUT):
        writer.write(head)
        view = memoryview(body)
        for at in range(0, len(view), SEND_CHUNK):
            writer.write(view[at : at + SEND_CHUNK])
            await writer.drain()
        await writer.drain()


# the hub's API (hubapi.serve_api on a Hub): answers a request under /api/, says whether the
# connection may stay open
Api = Callable[[Guard, Request, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


class MetricsServer:
    """An asyncio server in a daemon thread; `server_port` is the port it listens on."""

    def __init__(self, source: Source, guard: Guard, sock: socket.socket, api: Api | None = None) -> None:
        self.source, self.guard, self.sock, self.api = source, guard, sock, api
        self.server_port: int = sock.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        self.open = 0  # connections being served
        self._server: asyncio.Server | None = None
        self._started = threading.Event()

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._server = self.loop.run_until_complete(
            asyncio.start_server(self._serve, sock=self.sock, backlog=BACKLOG, limit=MAX_HEAD)
        )
        self._started.set()
        try:
            self.loop.run_forever()
        finally:
            self._server.close()
            tasks = asyncio.all_tasks(self.loop)
            for task in tasks:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self.loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.open >= MAX_CONNECTIONS:  # too many: closed now, the scraper retries
            writer.close()
            return
        self.open += 1
        stopping = False
        try:
            keep = True
            while keep:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
                request = parse_head(head[:-4])
                if self.api is not None and request is not None and request.path.startswith("/api/"):
                    keep = await self.api(self.guard, request, reader, writer)
                    continue
                page = None
                if request is not None and wants_page(self.guard, request):
                    # only a scrape of the page asks for a poll
                    page = await fresh_page(self.source, scrape_wait(request.headers))
                reply, keep = response(self.source, self.guard, head[:-4], page)
                await send(writer, reply)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # gone, too slow, too long: the connection is closed, nothing to say
        except asyncio.CancelledError:
            stopping = True  # the server stops (an event stream never ends by itself)
        finally:
            self.open -= 1
            if stopping:  # closed at once, unsent data dropped: a close that waits for a slow
                writer.transport.abort()  # reader to drain could outlive the loop, the socket open
            else:
                writer.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(writer.wait_closed(), 1.0)

    def shutdown(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)

    def server_close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def listen(
    port: int, bind: str, source: Source, allow_hosts: Iterable[str] = (), api: Api | None = None
) -> tuple[MetricsServer, threading.Thread]:
    """Serve `source`'s pages on bind:port (port 0: a free one, see server_port) from a daemon
    thread. The Host must be this server's (`allow_hosts`: more names it is reached by). An
    OSError (a port in use) is raised here, before anything runs."""
    family = socket.AF_INET6 if ipaddress.ip_address(bind).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((bind, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    guard = Guard(bind, None)
    if guard.hosts is not None:
        guard.hosts = guard.hosts | {h.strip("[]").lower() for h in allow_hosts}
    httpd = MetricsServer(source, guard, sock, api)
    thread = threading.Thread(target=httpd.run, daemon=True, name="metrics")
    thread.start()
    httpd._started.wait(10)
    return httpd, thread


def stop(httpd: MetricsServer, thread: threading.Thread) -> None:
    httpd.shutdown()
    thread.join(timeout=5)
    httpd.server_close()
