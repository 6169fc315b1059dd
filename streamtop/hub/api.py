"""The hub's side: each poll of a Monitor published as one document, pushed to subscribers over
server-sent events, and the focus pages read on demand, once per poll and page.

Server-sent events rather than a WebSocket: the push goes one way (the hub to its viewers; a
viewer's only request, a focus page, is an ordinary GET), SSE is plain HTTP/1.1 that the /metrics
server (serve/http.py, one asyncio loop) writes without a handshake or framing of its own, any
proxy passes it, `curl -N` reads it, and a browser's EventSource reconnects by itself.

Threads: the poller runs in its asyncio loop (the main thread), the HTTP server in its own. A poll
is encoded once (in the poller's thread) and handed to the HTTP loop, which writes the same bytes
to every subscriber. A focus page is read on the poller's loop (its clients live there), once per
(poll, page): N viewers of the same page, asking at once or one after the other, cost one read.

What it reads (issue 31's gap): a hub whose monitor is a ViewersMonitor (web's own hub: nothing
scrapes it) reads in full only what its viewers show, the rest as summaries within its budget,
as a dashboard does for its own screen (follow_screen): each viewer posts the keys it has on
screen to /api/v1/view?viewer=ID, the hub polls with the union of them as its visible rows, and a
viewer's view is forgotten when its event stream (/api/v1/events?viewer=ID) closes. serve's hub
reads everything in full: its /metrics needs every stream.

Access: bound to loopback, anyone on the machine may read; elsewhere the API answers only with
the bearer token of --token-file (and not at all without one). Entry bodies (the messages page)
are left out unless --expose-entries: the IDs are kept, the fields are not.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import hmac
import threading
from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl

from streamtop.pipeline.collector import focus_commands, focus_data, mark_without_data
from streamtop.pipeline.connection import Command, execute_raw
from streamtop.pipeline.messagepage import MessagePages
from streamtop.pipeline.model import Entry, Focus, FocusData, Snapshot
from streamtop.pipeline.parse import Reply
from streamtop.pipeline.source import Wants

from ..monitor import Monitor
from .document import (
    READS_EVERYTHING,
    READS_VIEWERS,
    HubState,
    check_viewer,
    document,
    encode,
    focus_from_query,
    focus_json,
    view_from_body,
)

API = "/api/v1/"
HEARTBEAT = 5.0  # seconds between SSE comments on a quiet stream (proxies close idle ones)
FOCUS_TIMEOUT = 10.0  # seconds a focus page's round trip may take
PAGES_KEPT = 64  # Messages pages kept across polls (read again whole once dropped)
FOCUS_CACHE = 256  # pages kept per poll (more distinct pages in one poll are read, not kept)
JSON = "application/json"
BODIES_WITHHELD = "entry bodies are not published by this hub (--expose-entries)"


def read_token(path: str) -> str:
    """The bearer token in a file (its first line, stripped); OSError/ValueError on a bad file."""
    with open(path, encoding="utf-8") as f:
        token = f.readline().strip()
    if len(token) < 16:
        raise ValueError(f"the token in {path} is shorter than 16 characters")
    return token


class ViewersMonitor(Monitor):
    """A hub's session that reads in full what its viewers show (the union of their views, set by
    the Hub), the other streams as summaries within the budget: a dashboard's follow_screen with
    the viewers' screens as its screen. No viewer: summaries only."""

    viewers_visible: frozenset[bytes] = frozenset()

    def wants(self) -> Wants:
        w = super().wants()
        return dataclasses.replace(w, visible=w.visible | self.viewers_visible, everything_visible=False)


class Hub:
    """What serve's and web's poller publish, and what the HTTP thread hands out."""

    def __init__(
        self,
        monitor: Monitor,
        interval: float,
        url: str,
        *,
        expose_entries: bool = False,
        token: str | None = None,
        loopback: bool = True,
    ) -> None:
        self.monitor = monitor
        self.interval = interval
        self.url = url
        self.expose_entries = expose_entries
        self.token = token
        self.loopback = loopback
        self.seq = 0
        self.state = HubState(interval=interval, url=url, entries_exposed=expose_entries)
        self.snapshot: Snapshot | None = None
        # the current document, encoded when first asked (None: not yet): a serve nobody views
        # never encodes one (at 2,000 streams ~1 s of CPU and a 17 MB peak per poll, issue 29)
        self._body: bytes | None = None
        self.poll_loop: asyncio.AbstractEventLoop | None = None  # the poller's (set by publish)
        self.http_loop: asyncio.AbstractEventLoop | None = None  # the HTTP server's
        self._subscribers: set[asyncio.Queue[bytes]] = set()
        self._lock = threading.Lock()
        self._focus: dict[Focus, asyncio.Future[bytes]] = {}  # this poll's pages (HTTP loop only)
        self._focus_seq = 0
        self.focus_reads = 0  # focus pages read from the server (tests, bench)
        # the Messages pages asked lately (the poller's loop only)
        self._pages: dict[Focus, tuple[MessagePages, asyncio.Lock]] = {}
        # serve's pacing (scrape-paced polls): a viewer attached holds the interval's clock for as
        # long as its event stream is open (`hold()` returns the release); a GET of the snapshot
        # is a one-off demand, as a scrape is
        self.hold: Callable[[], Callable[[], None]] | None = None
        self.demand: Callable[[], object] | None = None
        # the viewers' screens (HTTP loop only): open event streams per viewer id, and its view
        self.follows_viewers = isinstance(monitor, ViewersMonitor)
        self._streams: dict[str, int] = {}
        self._views: dict[str, frozenset[bytes]] = {}
        self.wake: asyncio.Event | None = None  # set (on the poll loop) when a view adds keys
        self.views_taken = 0  # views accepted (tests)

    # the poller's side -----------------------------------------------------------------------

    def publish(self) -> None:
        """After each poll of the monitor (good or failed): a new document for every viewer."""
        m = self.monitor
        with contextlib.suppress(RuntimeError):
            self.poll_loop = asyncio.get_running_loop()
        snap = m.last
        self.seq += 1
        state = HubState(
            seq=self.seq,
            state=m.state.value,
            error=m.error,
            last_good_at=snap.taken_at if snap is not None and m.last_good_at is not None else None,
            stale_since=m.stale_since,
            interval=self.interval,
            url=self.url,
            entries_exposed=self.expose_entries,
            reads=READS_VIEWERS if self.follows_viewers else READS_EVERYTHING,
        )
        if snap is not None and snap.focus is not None:  # the hub's own screen is none of theirs
            snap = dataclasses.replace(snap, focus=None)
        # encoded here (the poller's thread) only when a viewer waits for it; else when first asked
        body = encode(document(state, snap)) if self._subscribers else None
        with self._lock:
            self.state, self.snapshot, self._body = state, snap, body
        loop = self.http_loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._fan_out, body)

    async def read_focus(self, focus: Focus, snap: Snapshot | None) -> FocusData:
        """One focus page from the server, on the poller's loop (its clients live there)."""
        client = self.monitor.action_client
        if client is None or snap is None:
            return FocusData(focus=focus, error="the hub is not connected to the server")
        self.focus_reads += 1
        # the Messages page as a direct dashboard reads it (issue 29): whole once, then only the
        # entries added, values over 64 kB cut; one MessagePages per page asked, the latest kept
        kept = self._pages.pop(focus, None)
        pages, lock = kept if kept is not None else (MessagePages(), asyncio.Lock())
        self._pages[focus] = (pages, lock)
        while len(self._pages) > PAGES_KEPT:
            self._pages.pop(next(iter(self._pages)))
        stream = next((s for s in snap.streams if s.key == focus.key), None)
        if stream is None:  # the hub's targets bound what its viewers read (a stream of its poll)
            return FocusData(focus=focus, error="not a stream this hub polls")
        async with lock:  # commands() and result() of one page go in pairs
            commands = focus_commands(focus, messages=False) + pages.commands(focus)
            replies = await execute_raw(client, commands, FOCUS_TIMEOUT)
            data = focus_data(focus, replies, pages, stream)
        if data.focus.group is not None and data.error is None:

            async def run(commands: Sequence[Command]) -> list[Reply]:
                return await execute_raw(client, commands, FOCUS_TIMEOUT)

            data, _ = await mark_without_data(data, snap.streams, run)
        if not self.expose_entries and data.messages:
            data = dataclasses.replace(
                data, messages=tuple(Entry(e.id, withheld=True) for e in data.messages)
            )
        return data

    # the HTTP side ---------------------------------------------------------------------------

    def _fan_out(self, body: bytes | None) -> None:
        self._focus.clear()  # a new poll: pages are read again when asked
        if self._subscribers and body is None:  # a viewer came after the poll looked
            body = self.current()
        for q in list(self._subscribers):
            assert body is not None
            if q.full():  # a slow viewer gets the newest poll, not a backlog
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()
            q.put_nowait(body)

    def refusal(self, headers: dict[str, str]) -> tuple[str, str] | None:
        """(status, reason) when the request may not read the API."""
        if self.token is None:
            if self.loopback:
                return None
            return "403 Forbidden", "the hub API on a non-loopback address needs --token-file"
        got = headers.get("authorization", "")
        scheme, _, credentials = got.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return "401 Unauthorized", "a bearer token is required (the one in the hub's --token-file)"
        # as bytes: compare_digest raises on a str with non-ASCII characters (a traceback, no answer)
        sent = credentials.strip().encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(sent, self.token.encode("utf-8", "surrogateescape")):
            return "401 Unauthorized", "wrong bearer token (not the one in the hub's --token-file)"
        return None

    async def focus_page(self, query: str) -> tuple[str, bytes]:
        """(status, body) of /api/v1/focus?..."""
        try:
            focus = focus_from_query(dict(parse_qsl(query, keep_blank_values=True)))
        except ValueError as exc:
            return "400 Bad Request", f"bad focus: {exc}\n".encode()
        with self._lock:
            snap, seq = self.snapshot, self.seq
        if seq != self._focus_seq:
            self._focus.clear()
            self._focus_seq = seq
        fut = self._focus.get(focus)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            if len(self._focus) < FOCUS_CACHE:
                self._focus[focus] = fut
            asyncio.ensure_future(self._read_into(fut, focus, snap, seq))
        return "200 OK", await asyncio.shield(fut)

    async def _read_into(
        self, fut: asyncio.Future[bytes], focus: Focus, snap: Snapshot | None, seq: int
    ) -> None:
        loop = self.poll_loop
        try:
            if loop is None or loop.is_closed():
                data = FocusData(focus=focus, error="the hub has not polled yet")
            else:
                cf: concurrent.futures.Future[FocusData] = asyncio.run_coroutine_threadsafe(
                    self.read_focus(focus, snap), loop
                )
                data = await asyncio.wrap_future(cf)
        except Exception as exc:  # the server went away meanwhile: the page says so
            data = FocusData(focus=focus, error=f"{type(exc).__name__}: {exc}")
        if not fut.done():
            fut.set_result(encode(focus_json(data, seq)))

    # the viewers' screens (on the HTTP loop) ------------------------------------------------------

    def open_viewer(self, viewer: str) -> None:
        """An event stream of `viewer` opened (before its head is sent: a view posted as soon as
        the viewer has the head is taken)."""
        self._streams[viewer] = self._streams.get(viewer, 0) + 1

    def close_viewer(self, viewer: str) -> None:
        """An event stream of `viewer` closed: its view is forgotten with its last one."""
        left = self._streams.get(viewer, 0) - 1
        if left > 0:
            self._streams[viewer] = left
            return
        self._streams.pop(viewer, None)
        if self._views.pop(viewer, None):
            self._apply_views()

    def take_view(self, query: str, body: bytes) -> tuple[str, bytes]:
        """(status, body) of POST /api/v1/view?viewer=ID: the keys that viewer has on screen."""
        try:
            viewer = check_viewer(dict(parse_qsl(query)).get("viewer"))
            keys = view_from_body(body)
        except ValueError as exc:
            return "400 Bad Request", f"bad view: {exc}\n".encode()
        if viewer not in self._streams:
            return "409 Conflict", b"no event stream of this viewer is open (/api/v1/events?viewer=ID)\n"
        self.views_taken += 1
        if self._views.get(viewer, frozenset()) != keys:
            self._views[viewer] = keys
            self._apply_views()
        reads = READS_VIEWERS if self.follows_viewers else READS_EVERYTHING
        return "200 OK", encode({"reads": reads, "keys": len(keys)})

    @property
    def viewers_visible(self) -> frozenset[bytes]:
        """The union of the viewers' views."""
        return frozenset().union(*self._views.values())

    def _apply_views(self) -> None:
        monitor = self.monitor
        if not isinstance(monitor, ViewersMonitor):
            return
        union = self.viewers_visible
        added = not union <= monitor.viewers_visible
        monitor.viewers_visible = union  # one assignment: the poller reads it at its next poll
        loop, wake = self.poll_loop, self.wake
        if added and wake is not None and loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # rows came into view: poll now, as a dashboard does
                loop.call_soon_threadsafe(wake.set)

    def subscribe(self) -> asyncio.Queue[bytes]:
        """A viewer's queue of documents, the current one in it already (on the HTTP loop)."""
        self.http_loop = asyncio.get_running_loop()
        q: asyncio.Queue[bytes] = asyncio.Queue(maxsize=2)
        q.put_nowait(self.current())
        self._subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[bytes]) -> None:
        self._subscribers.discard(q)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def current(self) -> bytes:
        """The current poll's document, encoded once (on first asking) for every reader."""
        with self._lock:
            if self._body is None:
                self._body = encode(document(self.state, self.snapshot))
            return self._body

    @property
    def body(self) -> bytes:
        return self.current()


async def poll_forever(hub: Hub, stop: asyncio.Event) -> None:
    """`streamtop web`'s poller: poll every interval (after a failure, when the backoff says;
    longer when the server budget stretches it), publishing each poll, until `stop`."""
    import time

    monitor = hub.monitor
    hub.poll_loop = asyncio.get_running_loop()
    wake = hub.wake = asyncio.Event()
    while not stop.is_set():
        started = time.monotonic()
        wake.clear()
        try:
            await monitor.poll()
        finally:
            hub.publish()
        retry = monitor.retry_in()
        period = monitor.poll_delay()
        delay = retry if retry is not None else period - (time.monotonic() - started)
        if delay <= 0:
            continue
        waits = {asyncio.ensure_future(stop.wait())}
        if retry is None:  # rows came into view: the next poll now (not during a backoff)
            waits.add(asyncio.ensure_future(wake.wait()))
        await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        if wake.is_set() and not stop.is_set() and retry is None:
            # not sooner than a quarter interval after the last poll began: viewers scrolling
            # fast cost at most four polls an interval (and the budget still holds)
            await asyncio.sleep(max(0.0, started + period / 4 - time.monotonic()))
