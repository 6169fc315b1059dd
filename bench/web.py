"""What each browser session of `streamtop web` costs: one dashboard process per page, each with its
own poll. Side by side in one run on one private Valkey 9.1 (`--streams` streams x 2 groups):
N pages open at once (WebSockets, as the page opens them; no browser), for N in `--sessions`.

Figures per N: time from opening the socket to the first stream key on screen (median of the N),
RSS of each session process and of the web server, and the server's cost while the N sessions run
for `--window` seconds (calls/s and usec/s from INFO commandstats deltas).

    python bench/web.py [--streams 100] [--sessions 1,2,4] [--window 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from typing import Any

import aiohttp
import psutil
from common import embedded_server, sync_client  # noqa: I001  (puts the repo on sys.path)

from streamtop.embedded import free_port


def commandstats(r: Any) -> tuple[int, int]:
    """(calls, usec) over every command the server ran."""
    stats = r.info("commandstats")
    return sum(v["calls"] for v in stats.values()), sum(v["usec"] for v in stats.values())


def start_web(port: int, web_port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamtop", "web", "-p", str(port), "--port", str(web_port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDISCLI_AUTH")},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/", timeout=1):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("streamtop web did not answer")


async def first_screen(ws: aiohttp.ClientWebSocketResponse, key: bytes) -> float:
    t0 = time.monotonic()
    seen = bytearray()
    while key not in seen:
        msg = await ws.receive(timeout=60)
        if msg.type == aiohttp.WSMsgType.BINARY:
            seen.extend(msg.data)
        elif msg.type != aiohttp.WSMsgType.TEXT:
            raise SystemExit(f"session ended: {msg.type}")
    return time.monotonic() - t0


async def drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Keep reading the screen, as a page does, so the session is never held up by us."""
    while not ws.closed:
        msg = await ws.receive()
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return


async def measure(srv: Any, r: Any, n: int, window: float) -> dict[str, float]:
    web_port = free_port()
    proc = start_web(srv.port, web_port)
    url = f"http://127.0.0.1:{web_port}/ws?width=160&height=50"
    try:
        async with aiohttp.ClientSession() as http:
            sockets = [await http.ws_connect(url) for _ in range(n)]
            firsts = await asyncio.gather(*(first_screen(ws, b"bench:s:0") for ws in sockets))
            drains = [asyncio.create_task(drain(ws)) for ws in sockets]
            await asyncio.sleep(2)  # past discovery and the first polls
            calls0, usec0 = commandstats(r)
            t0 = time.monotonic()
            await asyncio.sleep(window)
            calls1, usec1 = commandstats(r)
            elapsed = time.monotonic() - t0
            sessions = psutil.Process(proc.pid).children(recursive=True)
            rss = [p.memory_info().rss / 2**20 for p in sessions]
            web_rss = psutil.Process(proc.pid).memory_info().rss / 2**20
            for ws in sockets:
                await ws.close()
            for task in drains:
                task.cancel()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return {
        "sessions": n,
        "first_screen_ms": statistics.median(firsts) * 1000,
        "session_rss_mb": statistics.median(rss),
        "web_rss_mb": web_rss,
        "calls_per_s": (calls1 - calls0) / elapsed,
        "usec_per_s": (usec1 - usec0) / elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--sessions", default="1,2,4")
    ap.add_argument("--window", type=float, default=5.0)
    opts = ap.parse_args()
    with embedded_server() as srv:
        r = sync_client(srv)
        pipe = r.pipeline(transaction=False)
        for i in range(opts.streams):
            key = f"bench:s:{i}"
            pipe.xadd(key, {"sensor_id": "s1", "temp": "0.5"})
            pipe.xgroup_create(key, "g1", "0")
            pipe.xgroup_create(key, "g2", "$")
        pipe.execute()
        rows = [asyncio.run(measure(srv, r, int(n), opts.window)) for n in opts.sessions.split(",")]
    print(f"streamtop web, {opts.streams} streams x 2 groups, Valkey 9.1, {opts.window:g} s window per row")
    heads = ("pages", "first screen ms", "RSS/session MB", "web RSS MB", "calls/s", "usec/s")
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, (5, 15, 14, 10, 8, 8), strict=True)))
    for row in rows:
        print(
            f"{row['sessions']:>5} {row['first_screen_ms']:>15.0f} {row['session_rss_mb']:>14.0f} "
            f"{row['web_rss_mb']:>10.0f} {row['calls_per_s']:>8.0f} {row['usec_per_s']:>8.0f}"
        )


if __name__ == "__main__":
    main()
