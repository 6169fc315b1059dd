"""How soon a hung server stops being shown as LIVE: SIGSTOP of a private Valkey 9.1 under a headless
dashboard (the real StreamtopApp over a real Monitor), for several poll intervals.

Figures per interval: SIGSTOP -> header NOT ANSWERING (target: the threshold max(2 x interval, 2 s),
plus at most a few hundred ms), the key latency while hung (`?` -> help screen shown), and
SIGCONT -> header LIVE. With `--stale`, also SIGSTOP -> STALE (the poll's own 30 s timeout: before
this change that was the first sign of trouble, the header said LIVE until then).

    python bench/hung.py [--intervals 0.5,1,2] [--stale]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from typing import Any

from common import embedded_server, sync_client  # noqa: I001  (puts the repo on sys.path)

from streamtop.monitor import Monitor, State, answer_timeout
from streamtop.options import SessionOptions
from streamtop.pipeline.connection import parse_url
from streamtop.ui.app import StreamtopApp
from streamtop.ui.help import HelpScreen


async def _until(pilot: Any, cond: Any, limit: float) -> float:
    """Seconds until cond() holds, checked every 10 ms (the resolution of the figures)."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > limit:
            raise TimeoutError("condition never held")
        await pilot.pause(0.01)
    return time.monotonic() - t0


async def one(srv: Any, interval: float, stale: bool) -> dict[str, float]:
    monitor = Monitor(parse_url(srv.url), SessionOptions(interval=interval, follow_screen=True))
    app = StreamtopApp(monitor)
    header = lambda: str(app.w("header").render())  # noqa: E731
    out: dict[str, float] = {"interval": interval, "threshold": answer_timeout(interval)}
    async with app.run_test(size=(160, 50)) as pilot:
        await _until(pilot, lambda: monitor.state is State.LIVE and app.snapshot is not None, 20)
        k0 = time.monotonic()
        await pilot.press("question_mark")
        await _until(pilot, lambda: isinstance(app.screen, HelpScreen), 10)
        out["key_latency_live_ms"] = (time.monotonic() - k0) * 1000
        await pilot.press("escape")
        await _until(pilot, lambda: not isinstance(app.screen, HelpScreen), 10)
        await asyncio.sleep(interval * 1.5)  # somewhere between two polls, as a user would see it
        pid = srv.process.pid
        os.kill(pid, signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            await _until(pilot, lambda: "NOT ANSWERING" in header(), 60)
            out["stop_to_not_answering"] = time.monotonic() - t0
            k0 = time.monotonic()
            await pilot.press("question_mark")
            await _until(pilot, lambda: isinstance(app.screen, HelpScreen), 10)
            out["key_latency_ms"] = (time.monotonic() - k0) * 1000
            await pilot.press("escape")
            if stale:
                await _until(pilot, lambda: monitor.state is State.STALE or " STALE " in header(), 90)
                out["stop_to_stale"] = time.monotonic() - t0
        finally:
            os.kill(pid, signal.SIGCONT)
        c0 = time.monotonic()
        await _until(pilot, lambda: " LIVE " in header(), 60)
        out["cont_to_live"] = time.monotonic() - c0
    return out


async def run(intervals: list[float], stale: bool) -> list[dict[str, float]]:
    results = []
    with embedded_server() as srv:
        with sync_client(srv) as r:
            r.xadd("k", {"f": "v"})
            r.xgroup_create("k", "g", id="0")
            r.xreadgroup("g", "c1", {"k": ">"}, count=1)
        for interval in intervals:
            results.append(await one(srv, interval, stale))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--intervals", default="0.5,1,2")
    ap.add_argument("--stale", action="store_true", help="also wait for STALE (30 s each)")
    args = ap.parse_args()
    results = asyncio.run(run([float(x) for x in args.intervals.split(",")], args.stale))
    print(
        "| --interval | threshold | SIGSTOP -> NOT ANSWERING | key while live / hung | SIGCONT -> LIVE |"
        + (" SIGSTOP -> STALE |" if args.stale else "")
    )
    print("|---|---|---|---|---|" + ("---|" if args.stale else ""))
    for r in results:
        line = (
            f"| {r['interval']:g} s | {r['threshold']:g} s | {r['stop_to_not_answering']:.2f} s | "
            f"{r['key_latency_live_ms']:.0f} / {r['key_latency_ms']:.0f} ms | "
            f"{r['cont_to_live']:.2f} s |"
        )
        if args.stale:
            line += f" {r['stop_to_stale']:.1f} s |"
        print(line)


if __name__ == "__main__":
    main()
