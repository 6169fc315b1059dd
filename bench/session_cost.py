"""The session's own cost, before and after a change, side by side in one run (issue 27).

Two trees (this checkout and another, e.g.
`mkdir ../main-tree && git archive main | tar -x -C ../main-tree`) are measured in turns, each
in a fresh subprocess with its own `streamtop` on the path, on one embedded server:

1. poll: median ms (wall, and the event loop thread's CPU) of `Monitor.poll()` on 1,000 streams
   (the dashboard's session: what the screen shows in full, the rest as summaries; after the
   first polls have read everything);
2. apply: median ms (wall, and CPU) of `StreamtopApp.apply_snapshot()` of a real 1,000-stream
   snapshot, headless at 200x60, the app on a session that polls nothing (a ListSource;
   `StreamtopApp(None)` before).

    python bench/session_cost.py --other ../main-tree [--streams 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

POLLS = 30
APPLIES = 20


async def child(url: str, n: int) -> dict[str, float]:
    """Runs in the subprocess, on whichever streamtop is first on sys.path."""
    from streamtop.monitor import Monitor
    from streamtop.options import PollOptions
    from streamtop.pipeline.connection import parse_url
    from streamtop.pipeline.model import Focus
    from streamtop.ui.app import StreamtopApp

    poll = PollOptions(max_streams=n + 100)
    try:
        from streamtop.options import SessionOptions
        from streamtop.pipeline.source import ListSource

        m = Monitor(parse_url(url), SessionOptions(poll=poll, interval=1.0, follow_screen=True))
        app = StreamtopApp(Monitor.on(ListSource()))
    except ImportError:  # before issue 27: the options by keyword, the app without a session
        m = Monitor(parse_url(url), options=poll)  # type: ignore[arg-type]
        m.follow_screen = True  # type: ignore[misc]
        app = StreamtopApp(None)  # type: ignore[arg-type]
    try:
        for _ in range(3):  # discovery, the first full reads
            snap = await m.poll()
        assert snap is not None
        keys = [s.key for s in snap.streams]
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:40])))
        polls, poll_cpu = [], []
        for _ in range(POLLS):
            t0, c0 = time.perf_counter(), time.thread_time()
            snap = await m.poll()
            polls.append((time.perf_counter() - t0) * 1000)
            poll_cpu.append((time.thread_time() - c0) * 1000)
    finally:
        await m.close()
    assert snap is not None
    applies, apply_cpu = [], []
    async with app.run_test(size=(200, 60)) as pilot:
        app.apply_snapshot(snap)
        await pilot.pause()
        for i in range(APPLIES):
            fresh = dataclasses.replace(snap, taken_at=snap.taken_at + i + 1)
            t0, c0 = time.perf_counter(), time.thread_time()
            app.apply_snapshot(fresh)
            applies.append((time.perf_counter() - t0) * 1000)
            apply_cpu.append((time.thread_time() - c0) * 1000)
            await pilot.pause()
    import streamtop

    assert Path(streamtop.__file__).resolve().is_relative_to(Path.cwd().resolve()), streamtop.__file__
    return {
        "poll_ms": statistics.median(polls),
        "poll_cpu_ms": statistics.median(poll_cpu),
        "apply_ms": statistics.median(applies),
        "apply_cpu_ms": statistics.median(apply_cpu),
    }


def run_tree(tree: Path, url: str, n: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = (
        f"import sys; sys.path.insert(0, {str(tree)!r}); sys.path.insert(1, {str(HERE)!r}); "
        f"import asyncio, json, session_cost; "
        f"print(json.dumps(asyncio.run(session_cost.child({url!r}, {n}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tree, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{tree}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--other", type=Path, required=True, help="the tree to compare with (e.g. main)")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    # here only: common puts this checkout's streamtop first on the path (a child must not)
    from common import embedded_server, populate, sync_client

    trees = {"other": args.other.resolve(), "this": HERE.parent}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    with embedded_server() as srv:
        r = sync_client(srv)
        populate(r, 0, args.streams)
        url = f"redis://{srv.host}:{srv.port}/0"
        for _ in range(args.rounds):  # in turns, so a load change hits both alike
            for name, tree in trees.items():
                results[name].append(run_tree(tree, url, args.streams))
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"{args.streams} streams, {args.rounds} rounds, load average {' '.join(load)}")
    print(f"{'':14} {'other':>10} {'this':>10} {'change':>8}")
    summary: dict[str, Any] = {}
    for metric in ("poll_ms", "poll_cpu_ms", "apply_ms", "apply_cpu_ms"):
        a = statistics.median(x[metric] for x in results["other"])
        b = statistics.median(x[metric] for x in results["this"])
        print(f"{metric:14} {a:10.2f} {b:10.2f} {100 * (b - a) / a:+7.1f}%")
        summary[metric] = {"other": round(a, 3), "this": round(b, 3)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
