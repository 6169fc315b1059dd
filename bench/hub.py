"""One poll for everyone watching (issue 31): what the server pays for one dashboard alone, and for
one hub (`streamtop serve`) with `--attached` dashboards (`streamtop --attach`, each in its own
pty) and `--pages` browser pages (`streamtop web --attach`, its pages opened as WebSockets, as the
page opens them), side by side in one run on one private Valkey 9.1.

Figures: the server's commands/s (every command but the workload's XADDs) and its CPU (INFO cpu,
% of one core) over `--window` seconds in each setup (one dashboard alone before and after the hub
setup, averaged: the machine's drift cancels out); then, in the hub setup, a change (100 entries
added to the first stream on screen, whose length then reads 47.3k) and how long after
the hub's poll that saw it each attached dashboard and page showed it (target: within one
interval). A workload adds one entry every 0.2 s to another stream in both setups.

    python bench/hub.py [--streams 8] [--attached 10] [--pages 5] [--window 20] [--interval 1]

`--screen`: the hub reads what its viewers show. Many streams (`--streams 200`), a screen showing
some of them (`--rows`: ~30 stream rows on a 160x90 terminal), `streamtop web` with its own hub
(it polls; its `--pages` are `streamtop --attach` to it, each posting its screen) against one
dashboard alone at the same size: commands/s and CPU, how many streams each reads in full, and
how long after the change each showed it (the change made on the first row on every screen).

    python bench/hub.py --screen [--streams 200] [--pages 5] [--rows 70]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import aiohttp
import psutil
from common import Row, embedded_server, populate, print_table, sync_client  # noqa: I001 (sys.path)
from ui import PtyProcess, _streamtop_bin

from streamtop.embedded import free_port
from streamtop.hub.document import read_document

MARKER = b"a:marker"  # sorts first: on every screen
MARKER_BEFORE, MARKER_ADDED = 47_200, 100  # 47.2k, then 47.3k: text no entry ID holds
SHOWN = b"47.3k"


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def server_figures(r: Any) -> tuple[int, float]:
    """(commands but XADD, CPU seconds) of the server so far."""
    stats = r.info("commandstats")
    calls = sum(v["calls"] for k, v in stats.items() if k != "cmdstat_xadd")
    cpu = r.info("cpu")
    return calls, cpu["used_cpu_user"] + cpu["used_cpu_sys"]


class Workload:
    """One XADD every 0.2 s to a stream of its own (something moves on every screen)."""

    def __init__(self, srv: Any) -> None:
        self.r = sync_client(srv)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self.r.xadd(b"bench:work", {b"n": b"1"})

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


class Watched(PtyProcess):
    """A dashboard in a pty whose output is searched for SHOWN once armed (the first time seen)."""

    def __init__(self, args: list[str], rows: int = 48) -> None:
        self.armed_at: float | None = None
        self.seen_at: float | None = None
        self._tail = b""
        super().__init__(args, rows=rows)

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            if self.armed_at is not None and self.seen_at is None and SHOWN in self._tail + data:
                self.seen_at = time.time()
            self._tail = data[-16:]
            if len(self.output) < 1 << 16:
                self.output += data


def measure(r: Any, window: float) -> dict[str, Any]:
    calls0, cpu0 = server_figures(r)
    each0 = r.info("commandstats")
    t0 = time.monotonic()
    time.sleep(window)
    calls1, cpu1 = server_figures(r)
    each1 = r.info("commandstats")
    dt = time.monotonic() - t0
    each = {
        k.removeprefix("cmdstat_"): round((v["calls"] - each0.get(k, {}).get("calls", 0)) / dt, 2)
        for k, v in each1.items()
    }
    return {
        "commands_per_s": (calls1 - calls0) / dt,
        "server_cpu_pct": 100 * (cpu1 - cpu0) / dt,
        "each_per_s": {k: v for k, v in each.items() if v},
    }


def wait_url(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def alone(srv: Any, r: Any, opts: argparse.Namespace) -> dict[str, float]:
    dash = PtyProcess(["--url", srv.url, "--interval", str(opts.interval)])
    try:
        time.sleep(opts.warmup)
        if dash.proc.poll() is not None:
            raise SystemExit(f"streamtop exited: {dash.output[-400:]!r}")
        return measure(r, opts.window)
    finally:
        dash.stop()


async def _page(http: aiohttp.ClientSession, url: str, state: dict[str, bool], seen: list[float]) -> None:
    """A page: its screen read as the browser would; the first time SHOWN arrives once armed."""
    tail, done = b"", False
    async with http.ws_connect(url) as ws:
        while True:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return
            if msg.type != aiohttp.WSMsgType.BINARY:
                continue
            if state.get("armed") and not done and SHOWN in tail + msg.data:
                seen.append(time.time())
                done = True
            tail = msg.data[-16:]


async def _session_saw(hub_url: str, armed: asyncio.Event, out: list[float]) -> None:
    """An attached session without a screen (streamtop.hub.attach): when its poll first holds the
    change. What the pty dashboards add to this is drawing the screen."""
    from streamtop.hub.attach import AttachedMonitor

    session = AttachedMonitor(hub_url, None)
    try:
        while True:
            snap = await session.poll()
            s = snap.stream(MARKER) if snap is not None else None
            if armed.is_set() and s is not None and s.length >= MARKER_BEFORE + MARKER_ADDED:
                out.append(time.time())
                return
            if session.failures:
                await asyncio.sleep(session.retry_in() or 0.1)
    finally:
        await session.close()


async def _hub_saw(events_url: str, token: str = "") -> float:
    """When the hub's event stream first carries the change."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.get(events_url, timeout=aiohttp.ClientTimeout(total=None)) as resp,
    ):
        async for line in resp.content:
            if line.startswith(b"data:"):
                _, snap = read_document(line[5:].strip())
                s = snap.stream(MARKER) if snap is not None else None
                if s is not None and s.length >= MARKER_BEFORE + MARKER_ADDED:
                    return snap.taken_at  # the hub's poll that saw it ended then (epoch)
    raise SystemExit("the hub's event stream ended")


def with_hub(srv: Any, r: Any, opts: argparse.Namespace) -> dict[str, Any]:
    metrics_port, web_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDISCLI_AUTH")}
    common = ["--url", srv.url, "--interval", str(opts.interval)]
    serve = subprocess.Popen(
        [*_streamtop_bin(), "serve", *common, "--metrics-port", str(metrics_port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    hub_url = f"http://127.0.0.1:{metrics_port}"
    procs: list[Watched] = []
    web = None
    try:
        wait_url(f"{hub_url}/api/v1/snapshot")
        web = subprocess.Popen(
            [*_streamtop_bin(), "web", *common, "--attach", hub_url, "--port", str(web_port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        procs = [
            Watched(["--attach", hub_url, "--interval", str(opts.interval)]) for _ in range(opts.attached)
        ]
        wait_url(f"http://127.0.0.1:{web_port}/")
        return asyncio.run(_with_pages(r, opts, hub_url, web_port, procs, serve, web))
    finally:
        for p in procs:
            p.stop()
        for proc in (web, serve):
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


async def _with_pages(
    r: Any, opts: argparse.Namespace, hub_url: str, web_port: int, procs: list[Watched], serve: Any, web: Any
) -> dict[str, Any]:
    state: dict[str, bool] = {}
    seen: list[float] = []
    url = f"http://127.0.0.1:{web_port}/ws?width=160&height=50"
    async with aiohttp.ClientSession() as http:
        pages = [asyncio.create_task(_page(http, url, state, seen)) for _ in range(opts.pages)]
        await asyncio.sleep(opts.warmup + 2)  # the pages' processes start too
        for p in procs:
            if p.proc.poll() is not None:
                raise SystemExit(f"streamtop --attach exited: {p.output[-400:]!r}")
        hub_cpu0 = [psutil.Process(x.pid).cpu_times() for x in (serve, web)]
        figures = await asyncio.to_thread(measure, r, opts.window)
        hub_cpu1 = [psutil.Process(x.pid).cpu_times() for x in (serve, web)]
        cpu = [
            100 * (b.user + b.system - a.user - a.system) / opts.window
            for a, b in zip(hub_cpu0, hub_cpu1, strict=True)
        ]
        figures["serve_cpu_pct"], figures["web_cpu_pct"] = cpu
        page_pids = psutil.Process(web.pid).children(recursive=True)
        figures["pages_running"] = len(page_pids)
        # the change: armed everywhere, then made; the end of the hub's poll that saw it (its
        # snapshot's taken_at, the same clock: one machine) is the reference
        hub_task = asyncio.create_task(_hub_saw(f"{hub_url}/api/v1/events"))
        session_armed, session_seen = asyncio.Event(), []
        sessions = [
            asyncio.create_task(_session_saw(hub_url, session_armed, session_seen))
            for _ in range(opts.attached)
        ]
        await asyncio.sleep(0.5)
        now = time.time()
        for p in procs:
            p.armed_at = now
        state["armed"] = True
        session_armed.set()
        pipe = r.pipeline(transaction=False)
        for _ in range(MARKER_ADDED):
            pipe.xadd(MARKER, {b"n": b"1"})
        pipe.execute()
        hub_at = await asyncio.wait_for(hub_task, 30)
        deadline = time.time() + 5 * opts.interval + 5
        while time.time() < deadline:
            if all(p.seen_at for p in procs) and len(seen) >= opts.pages:
                break
            await asyncio.sleep(0.05)
        for task in [*pages, *sessions]:
            task.cancel()
        lags = [p.seen_at - hub_at for p in procs if p.seen_at is not None]
        page_lags = [t - hub_at for t in seen]
        figures["sessions_max_after_hub_s"] = max((t - hub_at for t in session_seen), default=float("nan"))
        figures["sessions_showing"] = len(session_seen)
        figures["median_show_after_hub_s"] = (
            statistics.median(lags + page_lags) if lags + page_lags else float("nan")
        )
    figures["dashboards_showing"] = len(lags)
    figures["pages_showing"] = len(page_lags)
    figures["max_show_after_hub_s"] = max(lags + page_lags, default=float("nan"))
    return figures


# --screen: web's own hub (it follows its pages' screens) vs one dashboard alone -------------------


def _change(r: Any) -> float:
    """MARKER_ADDED entries added to the first row's stream; when (epoch)."""
    made = time.time()
    pipe = r.pipeline(transaction=False)
    for _ in range(MARKER_ADDED):
        pipe.xadd(MARKER, {b"n": b"1"})
    pipe.execute()
    return made


def _unchange(r: Any) -> None:
    """The marker's length back to MARKER_BEFORE (the next setup shows the change again)."""
    r.xtrim(MARKER, maxlen=MARKER_BEFORE)


def _against_alone(hub: dict[str, Any], first: dict[str, Any], again: dict[str, Any], who: str) -> list[Row]:
    """The hub's server commands/s and CPU beside one dashboard alone (the mean of its runs
    before and after the hub's), and their ratios against the 1.10x target."""
    one = {k: (first[k] + again[k]) / 2 for k in ("commands_per_s", "server_cpu_pct")}
    ratio_calls = hub["commands_per_s"] / one["commands_per_s"] if one["commands_per_s"] else float("nan")
    ratio_cpu = hub["server_cpu_pct"] / one["server_cpu_pct"] if one["server_cpu_pct"] else float("nan")
    return [
        Row(
            "alone",
            "server commands/s",
            f"{one['commands_per_s']:.1f}",
            note=f"one dashboard; before/after {first['commands_per_s']:.1f}/{again['commands_per_s']:.1f}",
        ),
        Row("hub", "server commands/s", f"{hub['commands_per_s']:.1f}", note=who),
        Row("hub", "commands/s vs alone", f"{ratio_calls:.2f}x", "<= 1.10x", ratio_calls <= 1.10),
        Row(
            "alone",
            "server CPU % of a core",
            f"{one['server_cpu_pct']:.3f}",
            note=f"before / after: {first['server_cpu_pct']:.3f} / {again['server_cpu_pct']:.3f}",
        ),
        Row("hub", "server CPU % of a core", f"{hub['server_cpu_pct']:.3f}"),
        Row(
            "hub",
            "server CPU vs alone",
            f"{ratio_cpu:.2f}x",
            "<= 1.10x",
            ratio_cpu <= 1.10,
            "INFO cpu: noisy",
        ),
    ]


def screen_alone(srv: Any, r: Any, opts: argparse.Namespace) -> dict[str, float]:
    dash = Watched(["--url", srv.url, "--interval", str(opts.interval)], rows=opts.rows)
    try:
        time.sleep(opts.warmup)
        if dash.proc.poll() is not None:
            raise SystemExit(f"streamtop exited: {dash.output[-400:]!r}")
        figures = measure(r, opts.window)
        figures["xinfo_consumers_per_s"] = figures["each_per_s"].get("xinfo|consumers", 0.0)
        dash.armed_at = time.time()
        made = _change(r)
        deadline = time.time() + 5 * opts.interval + 5
        while dash.seen_at is None and time.time() < deadline:
            time.sleep(0.05)
        figures["shown_after_s"] = dash.seen_at - made if dash.seen_at else float("nan")
        _unchange(r)
        return figures
    finally:
        dash.stop()


def _web_hub(web: Any) -> tuple[str, str] | None:
    """web's own hub (URL, token), as its pages got them (their argv and environment)."""
    for child in psutil.Process(web.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error, ValueError):
            argv = child.cmdline()
            if "--attach" in argv:
                return argv[argv.index("--attach") + 1], child.environ().get("STREAMTOP_HUB_TOKEN", "")
    return None


def screen_hub(srv: Any, r: Any, opts: argparse.Namespace) -> dict[str, Any]:
    web_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDISCLI_AUTH")}
    web = subprocess.Popen(
        [
            *_streamtop_bin(),
            "web",
            "--url",
            srv.url,
            "--interval",
            str(opts.interval),
            "--port",
            str(web_port),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_url(f"http://127.0.0.1:{web_port}/")
        return asyncio.run(_screen_pages(r, opts, web_port, web))
    finally:
        web.send_signal(signal.SIGTERM)
        try:
            web.wait(timeout=20)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()


async def _sample_details(hub: tuple[str, str], out: list[int]) -> None:
    """The hub's streams read in full, each poll (its event stream)."""
    headers = {"Authorization": f"Bearer {hub[1]}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.get(f"{hub[0]}/api/v1/events", timeout=aiohttp.ClientTimeout(total=None)) as resp,
    ):
        async for line in resp.content:
            if line.startswith(b"data:"):
                _, snap = read_document(line[5:].strip())
                if snap is not None and snap.cost is not None:
                    out.append(snap.cost.detailed)


async def _screen_pages(r: Any, opts: argparse.Namespace, web_port: int, web: Any) -> dict[str, Any]:
    state: dict[str, bool] = {}
    seen: list[float] = []
    url = f"http://127.0.0.1:{web_port}/ws?width=160&height={opts.rows}"
    async with aiohttp.ClientSession() as http:
        pages = [asyncio.create_task(_page(http, url, state, seen)) for _ in range(opts.pages)]
        await asyncio.sleep(opts.warmup + 2)  # the pages' processes start too
        hub = _web_hub(web)
        details: list[int] = []
        sampler = asyncio.create_task(_sample_details(hub, details)) if hub is not None else None
        # the pages' processes start slowly on a loaded machine (their first screens are not yet
        # their last): the window starts once the hub's full reads held still for 5 polls
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (
            len(details) >= 5 and details[-1] > 1 and len(set(details[-5:])) == 1
        ):
            await asyncio.sleep(0.2)
        figures_settle = len(details)
        details.clear()
        web_cpu0 = psutil.Process(web.pid).cpu_times()
        figures: dict[str, Any] = await asyncio.to_thread(measure, r, opts.window)
        web_cpu1 = psutil.Process(web.pid).cpu_times()
        if sampler is not None:
            sampler.cancel()
        figures["hub_detailed_samples"] = details
        figures["polls_before_settled"] = figures_settle
        figures["web_cpu_pct"] = (
            100 * (web_cpu1.user + web_cpu1.system - web_cpu0.user - web_cpu0.system) / opts.window
        )
        figures["xinfo_consumers_per_s"] = figures["each_per_s"].get("xinfo|consumers", 0.0)
        figures["pages_running"] = len(psutil.Process(web.pid).children(recursive=True))
        if hub is not None:
            req = urllib.request.Request(
                f"{hub[0]}/api/v1/snapshot", headers={"Authorization": f"Bearer {hub[1]}"}
            )
            with urllib.request.urlopen(req, timeout=10) as resp:
                hub_state, snap = read_document(resp.read())
            figures["hub_reads"] = hub_state.reads
            if snap is not None and snap.cost is not None:
                figures["hub_detailed"] = snap.cost.detailed
                figures["hub_streams"] = len(snap.streams)
                marker = snap.stream(MARKER)
                figures["hub_marker_in_full"] = marker is not None and not marker.summary_only
            hub_task = asyncio.create_task(_hub_saw(f"{hub[0]}/api/v1/events", hub[1]))
            await asyncio.sleep(0.5)
        state["armed"] = True
        made = await asyncio.to_thread(_change, r)
        deadline = time.time() + 5 * opts.interval + 5
        while len(seen) < opts.pages and time.time() < deadline:
            await asyncio.sleep(0.05)
        for task in pages:
            task.cancel()
        if hub is not None:
            figures["hub_had_it_after_s"] = await asyncio.wait_for(hub_task, 30) - made
        figures["pages_showing"] = len(seen)
        figures["max_shown_after_s"] = max((t - made for t in seen), default=float("nan"))
        figures["median_shown_after_s"] = (
            statistics.median([t - made for t in seen]) if seen else float("nan")
        )
        await asyncio.to_thread(_unchange, r)
    return figures


def alone_hub_alone(
    opts: argparse.Namespace, alone_run: Callable[..., dict], hub_run: Callable[..., dict]
) -> tuple[dict, dict, dict, str, str]:
    """On an embedded Valkey with the streams, the marker stream and the workload: alone, with
    the hub, alone again (before and after: the machine's drift cancels out); (first, hub, again,
    load average before, after)."""
    with embedded_server() as srv:
        r = sync_client(srv)
        populate(r, 0, opts.streams)
        pipe = r.pipeline(transaction=False)
        for _ in range(MARKER_BEFORE):
            pipe.xadd(MARKER, {b"n": b"1"})
        pipe.xgroup_create(MARKER, b"g", id="$")
        pipe.execute()
        work = Workload(srv)
        try:
            load_before = load()
            first = alone_run(srv, r, opts)
            hub = hub_run(srv, r, opts)
            again = alone_run(srv, r, opts)
            load_after = load()
        finally:
            work.close()
    return first, hub, again, load_before, load_after


def screen_main(opts: argparse.Namespace) -> None:
    first, hub, again, load_before, load_after = alone_hub_alone(opts, screen_alone, screen_hub)
    one = {k: (first[k] + again[k]) / 2 for k in first if k != "each_per_s"}
    who = f"web's hub + {opts.pages} pages ({hub['pages_running']} processes)"
    rows = [
        *_against_alone(hub, first, again, who),
        Row(
            "alone",
            "XINFO CONSUMERS /s",
            f"{one['xinfo_consumers_per_s']:.1f}",
            note=f"2 per stream read in full; before/after {first['xinfo_consumers_per_s']:.1f}/"
            f"{again['xinfo_consumers_per_s']:.1f}",
        ),
        Row(
            "hub",
            "XINFO CONSUMERS /s",
            f"{hub['xinfo_consumers_per_s']:.1f}",
            note=f"its last poll: {hub.get('hub_detailed', '?')} of {hub.get('hub_streams', '?')} in full "
            f"(reads {hub.get('hub_reads', '?')})",
        ),
        Row(
            "alone",
            "change shown after it was made",
            f"{one['shown_after_s']:.2f} s",
            note=f"before/after {first['shown_after_s']:.2f}/{again['shown_after_s']:.2f}",
        ),
        Row(
            "hub",
            "change in the hub's document after",
            f"{hub.get('hub_had_it_after_s', float('nan')):.2f} s",
            f"<= alone + {opts.interval:g} s",
            hub.get("hub_had_it_after_s", float("inf")) <= one["shown_after_s"] + opts.interval,
            "what every page is sent",
        ),
        Row(
            "hub",
            "change shown on the pages after",
            f"{hub['max_shown_after_s']:.2f} s (worst of {hub['pages_showing']})",
            note=f"median {hub['median_shown_after_s']:.2f} s: {opts.pages} Textual pages drawing at once",
        ),
        Row("hub", "web process CPU %", f"{hub['web_cpu_pct']:.1f}", note="its poll, hub and pages' I/O"),
    ]
    print(
        f"streamtop hub --screen: {opts.streams + 2} streams, 160x{opts.rows} screens, interval "
        f"{opts.interval:g} s, {opts.window:g} s windows, Valkey 9.1; load average {load_before} before, "
        f"{load_after} after"
    )
    print_table(rows)
    print(
        json.dumps(
            {"alone": one, "alone_runs": [first, again], "hub": hub, "load": [load_before, load_after]}
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", type=int, default=None)  # 8 (+ 2: every stream on screen); --screen: 200
    ap.add_argument("--attached", type=int, default=10)
    ap.add_argument("--pages", type=int, default=5)
    ap.add_argument("--window", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=6.0)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--screen", action="store_true", help="many streams, some on screen: web's hub vs alone")
    ap.add_argument("--rows", type=int, default=90, help="--screen: the terminal's rows (pty and pages)")
    opts = ap.parse_args()
    if opts.streams is None:
        opts.streams = 200 if opts.screen else 8
    if opts.screen:
        screen_main(opts)
        return
    first, hub, again, load_before, load_after = alone_hub_alone(opts, alone, with_hub)
    one = {k: (first[k] + again[k]) / 2 for k in first if k != "each_per_s"}
    who = f"1 hub + {opts.attached} attached + {opts.pages} pages"
    shown = hub["dashboards_showing"] == opts.attached and hub["pages_showing"] == opts.pages
    rows = [
        *_against_alone(hub, first, again, who),
        Row(
            "hub",
            "change shown after the hub's poll",
            f"{hub['max_show_after_hub_s']:.2f} s (worst of {hub['dashboards_showing']}"
            f"+{hub['pages_showing']})",
            f"<= {opts.interval:g} s, all",
            shown and hub["max_show_after_hub_s"] <= opts.interval,
        ),
        Row(
            "hub",
            "median dashboard/page showed it",
            f"{hub['median_show_after_hub_s']:.2f} s",
            note="drawing on a loaded machine",
        ),
        Row(
            "hub",
            "sessions (no screen) had it after",
            f"{hub['sessions_max_after_hub_s']:.3f} s (worst of {hub['sessions_showing']})",
            f"<= {opts.interval:g} s",
            hub["sessions_showing"] == opts.attached and hub["sessions_max_after_hub_s"] <= opts.interval,
            "the push itself",
        ),
        Row("hub", "serve / web process CPU %", f"{hub['serve_cpu_pct']:.1f} / {hub['web_cpu_pct']:.1f}"),
    ]
    print(
        f"streamtop hub: {opts.streams + 2} streams, interval {opts.interval:g} s, {opts.window:g} s "
        f"windows, Valkey 9.1; load average {load_before} before, {load_after} after"
    )
    print_table(rows)
    print(
        json.dumps(
            {
                "alone": one,
                "alone_runs": [first, again],
                "hub": hub,
                "load": [load_before, load_after],
                "opts": vars(opts),
            }
        )
    )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
