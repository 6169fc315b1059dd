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

Writes never go through the hub: with the viewer's own connection options (--url, -h, -p, -a,
REDIS_URL) the actions client connects to the server directly with those credentials; without
them the dashboard is read-only and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from ..connection import ConnectionSpec, retry_delay
from ..model import Focus, FocusData, Snapshot
from ..monitor import Monitor, State, answer_timeout
from ..options import POLL_DEFAULTS, PollOptions
from .document import DocumentError, HubState, focus_query, read_document, read_focus

if TYPE_CHECKING:
    import aiohttp

READ_ONLY_REASON = "attached read-only: give --url to act"
STREAM_SILENCE = 15.0  # seconds without a byte (the hub says something every 5 s): the hub is gone
REQUEST_TIMEOUT = 10.0  # seconds for the stream's head or a focus page


class HubTrouble(Exception):
    """The hub cannot be reached, refused the request, or sent what is not a hub's."""


def check_hub_url(url: str) -> str:
    """An http(s) URL with a host, without a trailing slash; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--attach needs an http:// or https:// URL of a streamtop hub, got {url[:60]!r}")
    return url.rstrip("/")


class AttachedMonitor(Monitor):
    """A Monitor whose polls come from a hub. `spec`: the viewer's own connection, used only by
    the actions (None: read-only, READ_ONLY_REASON)."""

    def __init__(
        self,
        hub_url: str,
        spec: ConnectionSpec | None,
        targets: tuple[str, ...] = (),
        *,
        token: str | None = None,
        options: PollOptions = POLL_DEFAULTS,
        read_only: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hub: HubState | None = None
        self.hub_snapshot: Snapshot | None = None  # the hub's last good poll, without focus
        self._timeout = 0.0
        super().__init__(
            spec or ConnectionSpec(),
            targets,
            options=options,
            read_only=read_only or spec is None,
            clock=clock,
        )
        self.hub_url = check_hub_url(hub_url)
        self.token = token
        self.writable = spec is not None
        self.read_only_reason = READ_ONLY_REASON if spec is None else "started with --read-only"
        self.documents = 0  # documents received (tests, bench)
        self._http: aiohttp.ClientSession | None = None
        self._reader: asyncio.Task[None] | None = None
        self._latest: bytes | None = None  # a document not yet applied
        self._broken: BaseException | None = None
        self._wake = asyncio.Event()
        self._focus_dirty = False
        self._focus_cache: tuple[int, Focus, FocusData] | None = None

    # what the dashboard reads -----------------------------------------------------------------

    @property
    def answer_timeout(self) -> float:
        """The dashboard's rule, on the hub's period: a document overdue that long is NOT ANSWERING."""
        period = self.hub.interval if self.hub is not None else 0.0
        cost = self.hub_snapshot.cost if self.hub_snapshot is not None else None
        if cost is not None and cost.stretched:
            period = max(period, cost.visible_period)
        return max(self._timeout, answer_timeout(period) + 1.0)

    @answer_timeout.setter
    def answer_timeout(self, value: float) -> None:
        self._timeout = value

    @property
    def hub_down(self) -> bool:
        """The hub answers, but its own poll of the server does not (its document says)."""
        return self.hub is not None and self.hub.state not in ("live", "paused") and self._reader is not None

    @property
    def state(self) -> State:
        """While the hub's server is down, the hub's state (stale, reconnecting...), not ours:
        waiting for its next document is not reconnecting."""
        if self.hub_down and self.hub is not None and self.failures:
            if self.hub.state == State.NOT_ANSWERING.value:
                return State.NOT_ANSWERING
            return State.STALE if self.last is not None else State.CONNECTING
        return super().state

    def not_answering_for(self) -> float | None:
        if self.hub_down:  # the hub's documents come at its backoff: not overdue
            return None
        return super().not_answering_for()

    def header_url(self) -> str:
        """What the header names: the hub's server, "via" the hub, and how old its poll is."""
        server = self.hub.url if self.hub is not None and self.hub.url else "?"
        age = ""
        if self.hub_snapshot is not None:
            age = f", its poll {max(0.0, self.clock() - self.hub_snapshot.taken_at):.1f} s old"
        return f"{server} via {self.hub_url}{age}"

    def poll_delay(self, interval: float) -> float:
        """No waiting between polls: a poll waits for the hub's next document itself."""
        return 0.0

    def set_focus(self, focus: Focus | None) -> None:
        self.focus = focus
        self._focus_dirty = True
        self._wake.set()

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
                f"{self.hub_url}/api/v1/events",
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=REQUEST_TIMEOUT, sock_read=STREAM_SILENCE
                ),
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise HubTrouble(_reason(exc)) from None
        if resp.status != 200:
            text = (await resp.text()).strip()[:200]
            resp.release()
            raise HubTrouble(f"HTTP {resp.status}: {text}")
        self._broken = None
        self._reader = asyncio.ensure_future(self._read(resp))

    async def _read(self, resp: aiohttp.ClientResponse) -> None:
        """Keep the latest document of the stream; on its end, say why and wake the poll."""
        data: list[bytes] = []
        try:
            async for raw in resp.content:
                line = raw.rstrip(b"\r\n")
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
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise HubTrouble(_reason(exc)) from None
        _, data = read_focus(body)
        data = dataclasses.replace(data, focus=focus)  # `visible` is not the hub's business
        self._focus_cache = (seq, focus, data)
        return data

    # polling -------------------------------------------------------------------------------------

    async def _poll(self) -> Snapshot | None:
        new = False
        try:
            if self._reader is None or self._reader.done():
                await self._open()
            while self._latest is None and not self._focus_dirty and self._broken is None:
                self._wake.clear()
                await self._wake.wait()
            if self._latest is not None:
                raw, self._latest = self._latest, None
                hub, snap = read_document(raw)
                new = snap is not None and snap is not self.hub_snapshot
                self.hub = hub
                if snap is not None:
                    self.hub_snapshot = snap
            elif self._broken is not None:
                raise self._broken
            self._focus_dirty = False
            base = self.hub_snapshot
            if base is None:  # the hub has not polled its server successfully yet
                return self._hub_not_live()
            focus = self.focus
            data = await self._read_focus(focus, self.hub.seq if self.hub else 0) if focus else None
            snap = dataclasses.replace(base, focus=data)
        except (HubTrouble, DocumentError) as exc:
            await self._hub_failed(exc)
            return self.last
        finally:
            self.polling = False
            self.poll_started = self.poll_cpu_started = self.trip = None
            self.trips_reported = False
        if new:
            await self.history.update_in_steps(base)
        if self.writable and self.action_client is None:
            await self._replace_action_client(base.server)
        self.last = snap
        self.polls += 1 if new else 0
        if self.hub is not None and self.hub.state not in ("live", "paused"):
            return self._hub_not_live()
        self.last_good_at = self.clock()
        self.stale_since = self.error = self.retry_at = None
        self.failures = 0
        return snap

    def _hub_not_live(self) -> Snapshot | None:
        """The hub is up, its server is not (as the hub's document says): stale with its error,
        and the next poll waits for the hub's next document."""
        hub = self.hub
        now = self.clock()
        self.error = (
            f"at the hub: {hub.error}" if hub is not None and hub.error else "the hub has not polled yet"
        )
        if self.stale_since is None:
            self.stale_since = hub.stale_since if hub is not None and hub.stale_since else now
        if hub is not None and hub.last_good_at is not None:
            self.last_good_at = hub.last_good_at
        self.failures = max(1, self.failures)
        self.retry_at = now  # no backoff of ours: the hub's next document says
        return self.last

    async def _hub_failed(self, exc: BaseException) -> None:
        now = self.clock()
        self.error = f"hub {self.hub_url}: {exc}"
        if self.stale_since is None:
            self.stale_since = now
        self.failures += 1
        self.retry_at = now + retry_delay(self.failures)
        await self._drop_stream()

    async def _drop_stream(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
        self._latest = None
        self._broken = None

    async def reset_connection(self) -> None:
        await self._drop_stream()

    def request_discovery(self) -> None:
        """Discovery is the hub's."""

    async def close(self) -> None:
        await self._drop_stream()
        if self._http is not None:
            await self._http.close()
            self._http = None
        await super().close()


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:200] + "..."


def attached_session(
    args: Any, spec: ConnectionSpec | None, options: Any, token: str | None
) -> AttachedMonitor:
    """The session of `streamtop --attach URL` (streamtop.dashboard)."""
    session = AttachedMonitor(
        args.attach, spec, options.targets, token=token, options=options.poll, read_only=options.read_only
    )
    session.history.window = options.window_ms / 1000
    return session


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
