"""The dashboard's own cost: applying snapshots, answering keys while polling, idle CPU, memory.

1. median time of StreamtopApp.apply_snapshot() for real 1,000-stream snapshots, headless, as the
   app's own poll loop (over a real Monitor, 1 s interval) applies them;
2. in the same session: key latency, from sending the key to its action running, half of the
   presses made while a poll is in flight; and the longest the event loop was ever blocked;
3. CPU of an idle `streamtop` process (1 s interval, 10 streams) over 30 s, in a pty, psutil;
4. RSS of a `streamtop` process watching 1,000 streams.
Skipped with a note when streamtop.ui.app / streamtop.monitor are not there yet.

    python bench/ui.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import importlib
import json
import os
import pty
import random
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import (
    PREFIX,
    PartResult,
    embedded_server,
    fmt_ms,
    median,
    populate,
    print_table,
    sync_client,
)

from streamtop.pipeline.connection import build_spec

IDLE_PREFIX = "bench:idle:"
SIZE = (200, 60)


def ui_available() -> str | None:
    """None if the dashboard can be benchmarked, else why not."""
    try:
        app = importlib.import_module("streamtop.ui.app")
        monitor = importlib.import_module("streamtop.monitor")
    except ImportError as exc:
        return f"dashboard not importable yet ({exc})"
    if not hasattr(getattr(app, "StreamtopApp", None), "apply_snapshot"):
        return "streamtop.ui.app.StreamtopApp.apply_snapshot is missing"
    if not hasattr(monitor, "Monitor"):
        return "streamtop.monitor.Monitor is missing"
    return None


async def dashboard_figures(srv: Any, n: int, presses: int) -> dict[str, Any]:
    """One headless StreamtopApp over a real Monitor polling n streams each second.

    Every apply_snapshot() the poll loop makes is timed; a heartbeat task measures how long the
    event loop is ever blocked (what a key press would wait, at worst); and keys are pressed, half
    of them while a poll is in flight, timed from sending to their action running.
    """
    from streamtop.monitor import Monitor
    from streamtop.options import PollOptions, SessionOptions
    from streamtop.ui.app import StreamtopApp

    spec = build_spec(url=srv.url, env={})
    poll = PollOptions(max_streams=n)
    options = SessionOptions(targets=(PREFIX + "*",), poll=poll, interval=1.0, follow_screen=True)
    monitor = Monitor(spec, options)
    app = StreamtopApp(monitor)
    handled: list[float] = []
    applies: list[float] = []
    rows: list[int] = []
    original_tab, original_apply = app.action_tab, app.apply_snapshot

    def action_tab(tab: str) -> None:
        handled.append(time.perf_counter())
        original_tab(tab)

    def apply_snapshot(snapshot: Any) -> None:
        t0 = time.perf_counter()
        original_apply(snapshot)
        applies.append((time.perf_counter() - t0) * 1000)
        rows.append(len(snapshot.streams))

    app.action_tab = action_tab  # type: ignore[method-assign]
    app.apply_snapshot = apply_snapshot  # type: ignore[method-assign]
    stalls: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append((time.perf_counter() - t0 - 0.01) * 1000)

    lat, during_poll = [], []
    rng = random.Random(3)
    phases: dict[str, float] = {}
    t_start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        beat = asyncio.create_task(heartbeat())
        deadline = time.monotonic() + 90
        while len(applies) < 2 and time.monotonic() < deadline:  # polled and rendered twice
            await asyncio.sleep(0.05)
        phases["first_two_polls_s"] = time.perf_counter() - t_start
        t_start = time.perf_counter()
        for i in range(presses):
            if i % 2:  # wait for a poll in flight: the worst moment to press a key
                deadline = time.monotonic() + 3
                while not monitor.polling and time.monotonic() < deadline:
                    await asyncio.sleep(0.002)
                during_poll.append(monitor.polling)
            else:
                await asyncio.sleep(rng.uniform(0.05, 1.0))
            before = len(handled)
            t0 = time.perf_counter()
            await pilot.press("2" if i % 2 else "1")
            if len(handled) > before:
                lat.append((handled[before] - t0) * 1000)
        phases["presses_s"] = time.perf_counter() - t_start
        done.set()
        await beat
        polls = monitor.polls
        t_start = time.perf_counter()
    phases["teardown_s"] = time.perf_counter() - t_start
    steady = applies[1:] or applies
    return {
        "phases": phases,
        "streams": max(rows, default=0),
        "polls": polls,
        "first_apply_ms": applies[0] if applies else float("nan"),
        "apply_ms": median(steady),
        "apply_all_ms": [round(x, 2) for x in applies],
        "presses": presses,
        "answered": len(lat),
        "key_median_ms": median(lat),
        "key_max_ms": max(lat) if lat else float("nan"),
        "key_all_ms": [round(x, 2) for x in lat],
        "presses_during_poll": sum(during_poll),
        "stall_max_ms": max(stalls, default=float("nan")),
        "stalls_over_100ms": sum(x > 100 for x in stalls),
        "stalls_top_ms": [round(x, 1) for x in sorted(stalls)[-5:]],
    }


def _streamtop_bin() -> list[str]:
    exe = Path(sys.executable).with_name("streamtop")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "streamtop"]


class PtyProcess:
    """`streamtop` in a pseudo-terminal of its own, its output drained so it never blocks."""

    def __init__(self, args: list[str], cols: int = 160, rows: int = 48) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        env.pop("TEXTUAL", None)
        self.proc = subprocess.Popen(
            _streamtop_bin() + args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            if len(self.output) < 1 << 20:
                self.output += data

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.write(self.master, b"q")
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        with contextlib.suppress(OSError):
            os.close(self.master)


def process_figures(srv: Any, idle_s: float, warm_s: float, rss_streams: int) -> dict[str, Any]:
    """Idle CPU of streamtop on 10 streams, and RSS on `rss_streams`, both processes at once."""
    import psutil

    common = ["--url", srv.url, "--interval", "1"]
    idle = PtyProcess(common + [IDLE_PREFIX + "*"])
    big = PtyProcess(common + ["--max-streams", str(rss_streams), PREFIX + "*"])
    out: dict[str, Any] = {"idle_seconds": idle_s, "warmup_seconds": warm_s}
    try:
        pi, pb = psutil.Process(idle.proc.pid), psutil.Process(big.proc.pid)
        time.sleep(warm_s)
        for p, name in ((idle, "idle"), (big, "big")):
            if p.proc.poll() is not None:
                tail = p.output[-400:].decode("utf-8", "replace")
                raise RuntimeError(f"streamtop ({name}) exited with {p.proc.returncode}: {tail}")
        c0, b0, t0 = pi.cpu_times(), pb.cpu_times(), time.monotonic()
        rss_max = 0
        while time.monotonic() - t0 < idle_s:
            time.sleep(0.5)
            rss_max = max(rss_max, pb.memory_info().rss)
        c1, b1, dt = pi.cpu_times(), pb.cpu_times(), time.monotonic() - t0
        out["idle_cpu_pct"] = 100 * ((c1.user - c0.user) + (c1.system - c0.system)) / dt
        out["idle_rss_mb"] = pi.memory_info().rss / 2**20
        out["big_cpu_pct"] = 100 * ((b1.user - b0.user) + (b1.system - b0.system)) / dt
        out["big_rss_mb"] = rss_max / 2**20
        out["big_streams"] = rss_streams
    finally:
        idle.stop()
        big.stop()
    return out


def run(
    quick: bool = False,
    streams: int = 1000,
    idle_s: float | None = None,
    presses: int | None = None,
    warm_s: float | None = None,
) -> PartResult:
    res = PartResult()
    why = ui_available()
    if why:
        res.row("ui", "all UI figures", "skipped", note=why)
        res.detail["ui"] = {"skipped": why}
        return res
    idle_s = idle_s or (8.0 if quick else 30.0)
    presses = presses or (8 if quick else 30)
    d: dict[str, Any] = {}
    with embedded_server() as srv:
        r = sync_client(srv)
        populate(r, 0, streams)
        fields = {"sensor_id": "sensor1", "temp": "0.5", "humidity": "0.5"}
        for i in range(10):
            r.xadd(f"{IDLE_PREFIX}{i}", fields)
        r.close()
        d["dashboard"] = asyncio.run(dashboard_figures(srv, streams, presses))
        d["process"] = process_figures(srv, idle_s, warm_s or (3.0 if quick else 6.0), streams)
    k, p = d["dashboard"], d["process"]
    tag = f"{k['streams']:,} streams"
    res.row(
        "ui",
        f"{tag}: apply_snapshot, median",
        fmt_ms(k["apply_ms"]),
        "< 100 ms",
        k["apply_ms"] < 100,
        note=f"first {fmt_ms(k['first_apply_ms'])}; {len(k['apply_all_ms'])} applies by the poll loop",
    )
    res.row(
        "ui",
        f"{tag} polled 1/s: key answered, worst",
        fmt_ms(k["key_max_ms"]),
        "< 100 ms",
        k["key_max_ms"] < 100 and k["answered"] == k["presses"],
        note=f"median {fmt_ms(k['key_median_ms'])}; {k['answered']}/{k['presses']} answered, "
        f"{k['presses_during_poll']} sent during a poll",
    )
    res.row(
        "ui",
        f"{tag} polled 1/s: event loop blocked, worst",
        fmt_ms(k["stall_max_ms"]),
        "< 100 ms",
        k["stall_max_ms"] < 100,
        note=f"{k['stalls_over_100ms']} stall(s) over 100 ms in {k['polls']} polls",
    )
    res.row(
        "ui",
        f"idle streamtop, 10 streams, 1 s: CPU over {p['idle_seconds']:.0f} s",
        f"{p['idle_cpu_pct']:.2f} %",
        "< 3 % of a core",
        p["idle_cpu_pct"] < 3,
        note=("--quick: shorter than the 30 s target window; " if quick else "")
        + f"RSS {p['idle_rss_mb']:.0f} MB",
    )
    res.row(
        "ui",
        f"streamtop on {p['big_streams']:,} streams: RSS",
        f"{p['big_rss_mb']:.0f} MB",
        "< 150 MB",
        p["big_rss_mb"] < 150,
        note=f"CPU {p['big_cpu_pct']:.1f} % of a core at 1 s",
    )
    res.headline.update(
        ui_streams=k["streams"],
        ui_apply_ms=round(k["apply_ms"], 2),
        ui_stall_max_ms=round(k["stall_max_ms"], 1),
        ui_key_max_ms=round(k["key_max_ms"], 1),
        ui_idle_cpu_pct=round(p["idle_cpu_pct"], 2),
        ui_rss_mb=round(p["big_rss_mb"], 1),
    )
    res.detail["ui"] = d
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--idle-seconds", type=float)
    a = ap.parse_args()
    res = run(a.quick, a.streams, a.idle_seconds)
    print_table(res.rows)
    print(json.dumps(res.headline))


if __name__ == "__main__":
    main()
