"""`streamtop --attach URL`: the dashboard fed by a hub (`streamtop serve` or `web`) instead of its
own poll.

The session (AttachedMonitor) is the dashboard's Monitor with the collector replaced by the hub:
a poll waits for the hub's next document on its event stream (server-sent events), and reads the
focus pages (the selected group's pending page, the stream's messages page) from the hub, which
reads each page once per poll whatever the number of viewers. Everything the dashboard does with a
session (states, backoff, ages, history, the header) works unchanged:
- the hub's stream ends or cannot be opened: STALE, retried with the usual backoff; when the hub
  answers again, LIVE, without a restart;
- no new document for the answer timeout (the hub's poll hangs): NOT ANSWERING, as for a server;
- the hub's own poll fails (its server is down): STALE with the hub's error.

The viewer tells the hub what it has on screen (the rows' keys and the selected stream) with a
POST to /api/v1/view?viewer=ID, ID its event stream's: a hub that reads only what its viewers show
(web's own, document "reads": "viewers") reads those in full and the rest as summaries. Sent when
the screen changes and again after each (re)opened stream (a restarted hub knows nothing).

Writes never go through the hub: with the viewer's own connection options (--url, -h, -p, -a,
REDIS_URL) the actions client connects to the server directly with those credentials; without
them the dashboard is read-only and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from streamtop.errors import ConfigError
from streamtop.pipeline.connection import ConnectionSpec, retry_delay
from streamtop.pipeline.model import Focus, FocusData, Snapshot
from streamtop.pipeline.source import PollSource, WaitHook, Wants

from ..commandlog import CommandLog
from ..monitor import Monitor, State, answer_timeout
from ..options import SESSION_DEFAULTS, SessionOptions
from .document import DocumentError, HubState, focus_query, read_document, read_focus, view_body

if TYPE_CHECKING:
    import aiohttp

READ_ONLY_REASON = "attached read-only: give --url to act"
STREAM_SILENCE = 15.0  # seconds without a byte (the hub says something every 5 s): the hub is gone
REQUEST_TIMEOUT = 10.0  # seconds for the stream's head or a focus page
# the largest event (one poll's document) read; aiohttp's own line reader stops at 512 kB, which a
# hub of ~2,000 streams passes (a 100,000-stream document is some 30 MB)
MAX_DOCUMENT = 512 * 1024 * 1024


class HubTrouble(OSError):
    """The hub cannot be reached, refused the request, or sent what is not a hub's (an OSError:
    a session takes it as connection trouble, keeps its screen and retries with backoff)."""


class HubDown(HubTrouble):
    """The hub answers, but its own poll of the server does not (its document says so)."""


class HubUnreachable(HubTrouble):
    """Nothing answers at the hub's address: its message names the hub and says why, in a
    person's words ("connection refused"), not aiohttp's ("... ssl:default [Connect call ...]")."""


def attach_options(args: argparse.Namespace) -> tuple[str, str | None]:
    """--attach's checks, one place for `streamtop --attach` and `streamtop web --attach`: the hub's
    URL and its token (--token-file, else the environment); ConfigError, one line, otherwise."""
    if getattr(args, "targets", None):  # silently showing every stream instead would mislead
        raise ConfigError(
            "--attach: the streams are the hub's (give the patterns to its serve or web); "
            "filter the rows with / instead"
        )
    try:
        return check_hub_url(args.attach), hub_token(args.token_file)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def check_hub_url(url: str) -> str:
    """An http(s) URL with a host, without a trailing slash; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--attach needs an http:// or https:// URL of a streamtop hub, got {url[:60]!r}")
    return url.rstrip("/")


class HubSource:
    """A hub's polls as a PollSource (streamtop.pipeline.source): `poll()` waits for the hub's next
    document (or a new focus) and returns its snapshot with the focus pages read through the hub;
    the hub unreachable, its stream ended, or its own server down raise HubTrouble."""

    def __init__(self, hub_url: str, token: str | None = None) -> None:
        self.hub_url = check_hub_url(hub_url)
        self.token = token
        self.hub: HubState | None = None
        self.hub_snapshot: Snapshot | None = None  # the hub's last good poll, without focus
        self.fresh = False  # the last poll() carried a new poll of the hub (not a focus alone)
        self.focus: Focus | None = None  # the pages asked of the hub (without `visible`)
        self.screen_focus: Focus | None = None  # the focus as the screen gave it
        self.documents = 0  # documents received (tests, bench)
        self.viewer = secrets.token_urlsafe(12)  # this viewer's id at the hub (its view's owner)
        self.view: frozenset[bytes] = frozenset()  # the keys on screen
        self.view_sent: frozenset[bytes] | None = None  # what the hub has of them (None: nothing)
        self.views_sent = 0  # views the hub took (tests)
        self._views_unsupported = False  # an older hub (404): it reads everything anyway
        self._view_task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._reader: asyncio.Task[None] | None = None
        self._latest: bytes | None = None  # a document not yet applied
        self._broken: BaseException | None = None
        self._wake = asyncio.Event()
        self._focus_dirty = False
        self._focus_cache: tuple[int, Focus, FocusData] | None = None

    # the PollSource protocol ---------------------------------------------------------------------

    def want(self, wants: Wants, on_wait: WaitHook | None = None) -> None:
        """What the screen shows: only its focus matters here (discovery, budget and cadence are
        the hub's; a round trip to the hub is not one to the server: `on_wait` is not told)."""
        self.set_focus(wants.focus)

    def set_focus(self, focus: Focus | None) -> None:
        """The screen's focus: its pages are asked of the hub, its visible rows (and the
        selected stream) are posted to the hub as this viewer's view."""
        self.screen_focus = focus
        page = dataclasses.replace(focus, visible=frozenset()) if focus is not None else None
        if page != self.focus:
            self.focus = page
            self._focus_dirty = True
            self._wake.set()
        view = focus.visible | {focus.key} if focus is not None else frozenset()
        if view != self.view:
            self.view = view
            self._sync_view()

    def _sync_view(self) -> None:
        """Post the view when the hub does not have it (one post at a time; the newest wins)."""
        if self._views_unsupported or self.view == self.view_sent or self._reader is None:
            return
        if self._view_task is not None and not self._view_task.done():
            return  # its end posts again if the view changed meanwhile
        try:
            self._view_task = asyncio.get_running_loop().create_task(self._post_view())
        except RuntimeError:  # no loop yet: the next poll sends it
            return

    async def _post_view(self) -> None:
        import aiohttp

        view = self.view
        try:
            http = await self._session()
            async with http.post(
                f"{self.hub_url}/api/v1/view?viewer={self.viewer}",
                data=view_body(view),
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            ) as resp:
                await resp.read()
                if resp.status == 200:
                    self.view_sent = view
                    self.views_sent += 1
                elif resp.status in (404, 405):  # a hub before views: it reads every stream
                    self._views_unsupported = True
                    return
                else:  # 409: our stream is not open (yet, or any more): sent again when it is
                    return
        except (aiohttp.ClientError, OSError, TimeoutError):
            return  # the event stream says what is wrong; sent again after it reopens
        if self.view != view:
            self._view_task = None
            self._sync_view()

    def request_discovery(self) -> None:
        """Discovery is the hub's."""

    async def aclose(self) -> None:
        await self.drop()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def poll(self) -> Snapshot:
        """The hub's next poll (or the current one with a new focus); HubTrouble when the hub
        cannot say, HubDown when it says its server is down."""
        self.fresh = False
        if self._reader is None or self._reader.done():
            await self._open()
        self._sync_view()
        while self._latest is None and not self._focus_dirty and self._broken is None:
            self._wake.clear()
            await self._wake.wait()
        if self._latest is not None:
            raw, self._latest = self._latest, None
            try:
                hub, snap = read_document(raw)
            except DocumentError as exc:
                raise HubTrouble(str(exc)) from None
            self.fresh = snap is not None and snap is not self.hub_snapshot
            self.hub = hub
            if snap is not None:
                self.hub_snapshot = snap
        elif self._broken is not None:
            broken, self._broken = self._broken, None
            raise broken
        self._focus_dirty = False
        base = self.hub_snapshot
        if self.hub is not None and self.hub.state not in ("live", "paused"):
            raise HubDown(f"at the hub: {self.hub.error or self.hub.state}")
        if base is None:
            raise HubDown("the hub has not polled its server yet")
        focus, screen = self.focus, self.screen_focus  # this page's, whatever comes meanwhile
        data = await self._read_focus(focus, self.hub.seq if self.hub else 0) if focus else None
        if focus is not None and data is not None and screen is not None:  # as the screen asked it
            data = dataclasses.replace(data, focus=dataclasses.replace(focus, visible=screen.visible))
        return dataclasses.replace(base, focus=data)

    @property
    def down(self) -> bool:
        """The hub answers (its stream is open) but says its server is down."""
        return self.hub is not None and self.hub.state not in ("live", "paused") and self._reader is not None

    def header_url(self, now: float) -> str:
        """What the header names: the hub's server, "via" the hub, and how old its poll is."""
        server = self.hub.url if self.hub is not None and self.hub.url else "?"
        age = ""
        if self.hub_snapshot is not None:
            age = f", its poll {max(0.0, now - self.hub_snapshot.taken_at):.1f} s old"
        return f"{server} via {self.hub_url}{age}"

    def period(self) -> float:
        """Seconds between the hub's polls, as its documents say (stretched by its budget)."""
        period = self.hub.interval if self.hub is not None else 0.0
        cost = self.hub_snapshot.cost if self.hub_snapshot is not None else None
        if cost is not None and cost.stretched:
            period = max(period, cost.visible_period)
        return period

    # the hub -----------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def _session(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(headers=self._headers())
        return self._http

    async def _open(self) -> None:
        """Open the hub's event stream; its first event is the hub's current document."""
        import aiohttp

        http = await self._session()
        try:
            resp = await http.get(
                f"{self.hub_url}/api/v1/events?viewer={self.viewer}",
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=REQUEST_TIMEOUT, sock_read=STREAM_SILENCE
                ),
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _trouble(exc, self.hub_url) from None
        if resp.status != 200 or resp.content_type != "text/event-stream":
            text = (await resp.read())[:200].decode("utf-8", "replace").strip()
            resp.release()
            if not text.startswith("streamtop"):  # the hub's own refusals start with its name
                raise HubTrouble(
                    f"not a streamtop hub: {self.hub_url}/api/v1/events answered HTTP {resp.status}"
                    f" ({resp.content_type})"
                )
            raise HubTrouble(f"HTTP {resp.status}: {text}")
        self._broken = None
        self.view_sent = None  # a new stream: the hub may know nothing of us (restarted)
        self._reader = asyncio.ensure_future(self._read(resp))

    async def _read(self, resp: aiohttp.ClientResponse) -> None:
        """Keep the latest document of the stream; on its end, say why and wake the poll."""
        data: list[bytes] = []
        try:
            async for raw in _lines(resp.content):
                line = raw.rstrip(b"\r")
                if line.startswith(b"data:"):
                    data.append(line[5:].lstrip(b" "))
                elif not line and data:
                    self._latest = b"\n".join(data)
                    self.documents += 1
                    data = []
                    self._wake.set()
            self._broken = HubTrouble("the hub closed its event stream")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._broken = HubTrouble(_reason(exc))
        finally:
            resp.release()
            self._wake.set()

    async def _read_focus(self, focus: Focus, seq: int) -> FocusData:
        import aiohttp

        cached = self._focus_cache
        if cached is not None and cached[0] == seq and cached[1] == focus:
            return cached[2]
        http = await self._session()
        url = f"{self.hub_url}/api/v1/focus?{urlencode(focus_query(focus))}"
        try:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)) as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise HubTrouble(f"HTTP {resp.status}: {body[:200].decode('utf-8', 'replace').strip()}")
        except HubTrouble:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _trouble(exc, self.hub_url) from None
        _, data = read_focus(body)
        data = dataclasses.replace(data, focus=focus)
        self._focus_cache = (seq, focus, data)
        return data

    async def drop(self) -> None:
        """Close the event stream; the next poll opens it again."""
        task, self._view_task = self._view_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
        self._latest = None
        self._broken = None


async def _lines(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """The stream's lines without their "\\n", however long (up to MAX_DOCUMENT): aiohttp's
    own line iterator refuses a line over 512 kB, one poll's document of ~2,000 streams."""
    buf = bytearray()
    scanned = 0  # bytes of buf already searched for a newline
    async for chunk in content.iter_any():
        buf += chunk
        start = 0
        while (end := buf.find(b"\n", max(start, scanned))) != -1:
            yield bytes(buf[start:end])
            start = end + 1
        del buf[:start]
        scanned = len(buf)
        if scanned > MAX_DOCUMENT:
            raise HubTrouble(f"an event of the hub over {MAX_DOCUMENT >> 20} MB")
    if buf:
        yield bytes(buf)


class AttachedMonitor(Monitor):
    """The dashboard's session with a hub as its source (HubSource). `spec`: the viewer's own
    connection, used only by the actions (None: read-only, READ_ONLY_REASON)."""

    def __init__(
        self,
        hub_url: str,
        spec: ConnectionSpec | None,
        options: SessionOptions = SESSION_DEFAULTS,
        *,
        token: str | None = None,
        command_log: CommandLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = HubSource(hub_url, token)
        read_only = options.read_only
        options = dataclasses.replace(options, read_only=read_only or spec is None)
        super().__init__(spec or ConnectionSpec(), options, command_log=command_log, clock=clock)
        self.hub_url = self.source.hub_url
        self.writable = spec is not None
        self.read_only_reason = (
            READ_ONLY_REASON if spec is None and not read_only else "started with --read-only"
        )

    @property
    def hub(self) -> HubState | None:
        return self.source.hub

    @property
    def documents(self) -> int:
        return self.source.documents

    # what the dashboard reads -----------------------------------------------------------------

    @property
    def answer_timeout(self) -> float:
        """The dashboard's rule, on the hub's period: a document overdue that long is NOT ANSWERING."""
        return max(super().answer_timeout, answer_timeout(self.source.period()) + 1.0)

    @property
    def state(self) -> State:
        """While the hub's server is down, the hub's state, not ours: waiting for its next
        document is not reconnecting."""
        if self.source.down and self.failures:
            return State.STALE if self.last is not None else State.CONNECTING
        return super().state

    def not_answering_for(self) -> float | None:
        if self.source.down:  # the hub's documents come at its backoff: not overdue
            return None
        return super().not_answering_for()

    def header_url(self) -> str:
        return self.source.header_url(self.clock())

    def poll_delay(self) -> float:
        """No waiting between polls: a poll waits for the hub's next document itself."""
        return 0.0

    def set_focus(self, focus: Focus | None) -> None:
        self.focus = focus
        self.source.set_focus(focus)

    # polling -------------------------------------------------------------------------------------

    async def _poll(self) -> Snapshot | None:
        try:
            snap = await self.source.poll()
        except HubDown as exc:
            self._hub_down(str(exc))
            return self.last
        except HubTrouble as exc:
            await self._hub_failed(exc)
            return self.last
        finally:
            self.polling = False
            self.poll_started = self.poll_cpu_started = self.trip = None
            self.trips_reported = False
        if self.source.fresh:  # a focus page alone is not a new poll for the rates
            await self.history.update_in_steps(dataclasses.replace(snap, focus=None))
        self.polls += 1  # the app draws what a poll returns (a new focus page included)
        if self.writable and self.action_client is None:
            await self._replace_action_client(snap.server)
        self.last = snap
        self.last_good_at = self.clock()
        self.stale_since = self.error = self.retry_at = None
        self.failures = 0
        return snap

    def _hub_down(self, error: str) -> None:
        """The hub is up, its server is not: stale with the hub's error; the next poll waits for
        the hub's next document (no backoff of ours)."""
        hub = self.hub
        now = self.clock()
        self.error = error
        if self.stale_since is None:
            self.stale_since = hub.stale_since if hub is not None and hub.stale_since else now
        if hub is not None and hub.last_good_at is not None:
            self.last_good_at = hub.last_good_at
        self.failures = max(1, self.failures)
        self.retry_at = now

    async def _hub_failed(self, exc: BaseException) -> None:
        now = self.clock()
        self.error = str(exc) if isinstance(exc, HubUnreachable) else f"hub {self.hub_url}: {exc}"
        if self.stale_since is None:
            self.stale_since = now
        self.failures += 1
        self.retry_at = now + retry_delay(self.failures)
        await self.source.drop()

    async def reset_connection(self) -> None:
        await self.source.drop()

    def request_discovery(self) -> None:
        """Discovery is the hub's."""

    async def close(self) -> None:
        await self.source.aclose()
        await super().close()


def _a_poll_source(source: HubSource) -> PollSource:  # mypy checks that a HubSource is one
    return source


def _trouble(exc: BaseException, hub_url: str) -> HubTrouble:
    """A request to the hub that failed, as HubTrouble; the hub's port not answering is said as
    such (HubUnreachable), with the system's words for why."""
    import aiohttp

    os_error = getattr(exc, "os_error", None) if isinstance(exc, aiohttp.ClientConnectorError) else None
    if isinstance(os_error, OSError):
        return HubUnreachable(f"cannot reach the hub at {hub_url}: {_os_words(os_error)}")
    return HubTrouble(_reason(exc))


_OS_ERROR_WORDS: dict[type[OSError], str] = {  # an error of these without a text (a TLS port reset)
    ConnectionResetError: "connection reset",
    ConnectionRefusedError: "connection refused",
    ConnectionAbortedError: "connection aborted",
    TimeoutError: "timed out",
}


def _os_words(err: OSError) -> str:
    """ "connection refused", "name or service not known": the system's words for a failed
    connect (asyncio words it "Connect call failed ('127.0.0.1', 8080)", and for a name with
    several addresses "Multiple exceptions: ...", without the errno)."""
    import os
    import socket
    import ssl

    if isinstance(err, ssl.SSLError):  # its errno is OpenSSL's, not the system's
        words = f"TLS: {getattr(err, 'verify_message', None) or err.reason or err}"
    elif isinstance(err, socket.gaierror) or not err.errno or err.errno < 0:
        text = str(err.strerror or err) or _OS_ERROR_WORDS.get(type(err), type(err).__name__)
        words = "connection refused" if "refused" in text.lower() else text
    else:
        words = os.strerror(err.errno)
    words = " ".join(words.split())[:200]
    return words[:1].lower() + words[1:]


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:200] + "..."


def attached_session(
    args: Any,
    spec: ConnectionSpec | None,
    options: Any,
    token: str | None,
    command_log: CommandLog | None = None,
) -> AttachedMonitor:
    """The session of `streamtop --attach URL` (streamtop.commands.dashboard)."""
    return AttachedMonitor(args.attach, spec, options.session(), token=token, command_log=command_log)


TOKEN_ENV = "STREAMTOP_HUB_TOKEN"


def hub_token(path: str | None) -> str | None:
    """The bearer token --attach sends: --token-file's first line, else STREAMTOP_HUB_TOKEN."""
    import os

    if path:
        try:
            with open(path, encoding="utf-8") as f:
                return f.readline().strip() or None
        except OSError as exc:
            raise ValueError(f"--token-file {path}: {exc.strerror or exc}") from None
    return os.environ.get(TOKEN_ENV) or None
