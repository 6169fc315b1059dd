"""Soak: does the dashboard's memory stay flat under load and when idle?

A private Valkey 9.1; a workload process (producer at --rate events/s on one stream, 3 groups:
`fast` reads and acks everything, `batch` reads and acks every 2 s so its lag is visible, `leaky`
acks all but one entry in 200, which stay pending); the real StreamtopApp headless (App.run_test)
over a real Monitor polling every second with the stream and the `leaky` group selected (so the
pending and messages pages ride in every poll). After --minutes the workload stops and the
dashboard polls on, idle, for --idle-minutes.

Every minute: RSS (psutil), what tracemalloc traces, tracemalloc's own overhead, objects frozen
by gc.freeze(), and the top allocation sites by growth over that minute. At the end, the top
growers from minute 1 to the end of the load and over the idle phase, with their tracebacks.

    python bench/soak.py                                  # 10 + 2 minutes at 2,000 events/s
    python bench/soak.py --minutes 2 --idle-minutes 1 --rate 500      # a quick look
    python bench/soak.py --no-tracemalloc                 # RSS without tracemalloc's overhead
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import Row, embedded_server, print_table  # noqa: F401  (Row: table rows)

KEY = b"soak:events"
GROUPS = (b"fast", b"batch", b"leaky")
MAXLEN = 100_000  # the producer trims (~) so the server's memory stays bounded over the run
FIELDS = {b"sensor_id": b"sensor1", b"temp": b"0.512", b"humidity": b"0.433", b"note": b"x" * 40}
SIZE = (160, 50)
FRAMES = 8  # frames kept per allocation: more find the cause further up, and slow the app down


# the workload (its own process, so its allocations are not the dashboard's) --------------------


def workload(url: str, rate: float) -> None:
    """Producer + 3 consumer groups until SIGTERM."""
    import redis

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    r = redis.Redis.from_url(url, protocol=2)
    for g in GROUPS:
        with contextlib.suppress(redis.ResponseError):
            r.xgroup_create(KEY, g, id="0", mkstream=True)

    def produce() -> None:
        tick = 0.05
        per_tick = rate * tick
        owed = 0.0
        nxt = time.monotonic()
        while not stop.is_set():
            owed += per_tick
            n = int(owed)
            owed -= n
            if n:
                pipe = r.pipeline(transaction=False)
                for _ in range(n):
                    pipe.xadd(KEY, FIELDS, maxlen=MAXLEN, approximate=True)
                pipe.execute()
            nxt += tick
            time.sleep(max(0.0, nxt - time.monotonic()))

    def consume(group: bytes, every: float, keep_one_in: int) -> None:
        c = redis.Redis.from_url(url, protocol=2)
        seen = 0
        while not stop.is_set():
            got = c.xreadgroup(group, b"c1", {KEY: ">"}, count=5000, block=100)
            ids = [i for _, entries in got for i, _ in entries]
            acked = []
            for i in ids:
                seen += 1
                if not keep_one_in or seen % keep_one_in:
                    acked.append(i)
            if acked:
                c.xack(KEY, group, *acked)
            if every:
                stop.wait(every)

    threads = [
        threading.Thread(target=produce, daemon=True),
        threading.Thread(target=consume, args=(b"fast", 0.0, 0), daemon=True),
        threading.Thread(target=consume, args=(b"batch", 2.0, 0), daemon=True),
        threading.Thread(target=consume, args=(b"leaky", 0.0, 200), daemon=True),
    ]
    for t in threads:
        t.start()
    while not stop.is_set():
        stop.wait(0.5)
    for t in threads:
        t.join(timeout=5)


# the dashboard and its measurements ------------------------------------------------------------


def _site(stat: Any) -> str:
    frame = stat.traceback[-1]  # oldest first: the last frame is where the block was allocated
    name = frame.filename
    for marker in ("site-packages/", "/streamtop/", "/lib/python3"):
        if marker in name:
            name = name.split(marker, 1)[1]
            break
    return f"{name}:{frame.lineno}"


def growers(new: Any, old: Any, n: int = 3, group: str = "lineno") -> list[Any]:
    stats = new.compare_to(old, group)
    return [s for s in stats if s.size_diff > 0][:n]


def _fmt_growers(stats: list[Any]) -> str:
    return "; ".join(f"{_site(s)} +{s.size_diff / 1024:.0f} kB ({s.count_diff:+d})" for s in stats)


async def soak(
    url: str,
    minutes: float,
    idle_minutes: float,
    rate: float,
    dump_dir: Path | None,
    workload_proc: subprocess.Popen,
) -> dict[str, Any]:
    import psutil

    from streamtop.monitor import Monitor
    from streamtop.options import SessionOptions
    from streamtop.pipeline.connection import build_spec
    from streamtop.ui.app import StreamtopApp

    proc = psutil.Process()
    options = SessionOptions(targets=(KEY,), interval=1.0, follow_screen=True)
    app = StreamtopApp(Monitor(build_spec(url=url, env={}), options))
    monitor = app.monitor
    samples: list[dict[str, Any]] = []
    dumps: list[Path] = []
    prev_types: Counter[str] | None = None
    t_load = minutes * 60
    t_end = t_load + idle_minutes * 60
    async with app.run_test(size=SIZE):
        deadline = time.monotonic() + 30
        # two polls shown (the app keeps no count of its own: monitor.polls counts them)
        while (monitor.polls < 2 or app.snapshot is None) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        app.select(KEY, b"leaky")
        t0 = time.monotonic()
        for i, (at, phase) in enumerate(_schedule(t_load, t_end)):
            await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
            if phase == "idle" and workload_proc.poll() is None:  # the load is over: stop it
                workload_proc.send_signal(signal.SIGTERM)
                await asyncio.to_thread(workload_proc.wait, 15)
                await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
            t_snap = time.perf_counter()
            types = Counter(type(o).__name__ for o in gc.get_objects())
            row: dict[str, Any] = {
                "minute": round((time.monotonic() - t0) / 60, 1),
                "phase": phase,
                "rss_mb": proc.memory_info().rss / 2**20,
                "polls": monitor.polls,
                "frozen": gc.get_freeze_count(),
                "objects": types.total(),
                "cached_cells": sum(len(t._cell_render_cache) for t in app.screen.query("DataTable")),
                "types": _fmt_types(types, prev_types) if prev_types else "",
            }
            prev_types = types
            if dump_dir is not None:
                row["traced_mb"] = tracemalloc.get_traced_memory()[0] / 2**20
                row["tm_overhead_mb"] = tracemalloc.get_tracemalloc_memory() / 2**20
                snap = tracemalloc.take_snapshot()
                dumps.append(dump_dir / f"{i:03d}.snap")
                snap.dump(str(dumps[-1]))
                del snap
            row["sample_s"] = time.perf_counter() - t_snap
            samples.append(row)
            print(_line(row), flush=True)
        app_stats = {"polls": monitor.polls}
    if dump_dir is not None:
        tracemalloc.stop()  # the analysis below is the bench's, not the dashboard's
    return {"samples": samples, "app": app_stats, "dumps": [str(d) for d in dumps]}


def _fmt_types(new: Counter[str], old: Counter[str], n: int = 3) -> str:
    grown = sorted(((new[k] - old.get(k, 0), k) for k in new), reverse=True)[:n]
    return ", ".join(f"{k} {d:+d}" for d, k in grown if d > 0)


def analyse(detail: dict[str, Any]) -> None:
    """Top growers per minute (by line), and by traceback from minute 1 to the end of the load and
    over the idle phase: done after the run, because tracemalloc's statistics take seconds."""
    snaps = [tracemalloc.Snapshot.load(d) for d in detail["dumps"]]
    samples = detail["samples"]
    for k in range(1, len(snaps)):
        samples[k]["growers"] = _fmt_growers(growers(snaps[k], snaps[k - 1]))
    load = [k for k, s in enumerate(samples) if s["phase"] == "load"]
    idle = [k for k, s in enumerate(samples) if s["phase"] == "idle"]
    if len(load) > 1:
        detail["load_growers"] = _tb_growers(snaps[load[-1]], snaps[load[0]])
    if idle:
        detail["idle_growers"] = _tb_growers(snaps[idle[-1]], snaps[load[-1]])


def _schedule(t_load: float, t_end: float) -> list[tuple[float, str]]:
    """Sample times (s from the start) and phases: every minute under load, one at the end of the
    load (the workload stops right after it), then every minute of idle."""
    out = [(float(t), "load") for t in range(60, int(t_load) + 1, 60)]
    if not out or out[-1][0] < t_load:
        out.append((t_load, "load"))
    t = t_load + 60
    while t <= t_end + 1e-6:
        out.append((t, "idle"))
        t += 60
    if out[-1][0] < t_end:
        out.append((t_end, "idle"))
    return out


def _tb_growers(new: Any, old: Any, n: int = 6) -> list[dict[str, Any]]:
    out = []
    for s in growers(new, old, n, "traceback"):
        out.append(
            {
                "kB": round(s.size_diff / 1024, 1),
                "count": s.count_diff,
                "traceback": [f"{f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in s.traceback][
                    :FRAMES
                ],
            }
        )
    return out


def _line(row: dict[str, Any]) -> str:
    traced = f"{row['traced_mb']:.1f}" if "traced_mb" in row else "-"
    return (
        f"| {row['minute']:>6} | {row['phase']:<5} | {row['rss_mb']:6.1f} | {traced:>6} | "
        f"{row['polls']:>5} | {row['frozen']:>6} | {row['objects']:>7} | {row['cached_cells']:>6} | "
        f"{row['types']} |"
    )


HEAD = (
    "| minute | phase | RSS MB | traced MB | polls | frozen | objects | cells cached | types grown |\n"
    "|--------|-------|--------|-----------|-------|--------|---------|--------------|-------------|"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="under load (default 10)")
    ap.add_argument("--idle-minutes", type=float, default=2.0, help="idle afterwards (default 2)")
    ap.add_argument("--rate", type=float, default=2000.0, help="events/s (default 2000)")
    ap.add_argument(
        "--no-tracemalloc",
        action="store_true",
        help="RSS only: tracemalloc's own tables and snapshots add tens of MB to RSS",
    )
    ap.add_argument("--out", type=Path, help="write every sample and the growers as JSON here")
    ap.add_argument("--workload", metavar="URL", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.workload:
        workload(a.workload, a.rate)
        return
    trace = not a.no_tracemalloc
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp, embedded_server() as srv:
        if trace:
            tracemalloc.start(FRAMES)
        wl = subprocess.Popen([sys.executable, __file__, "--workload", srv.url, "--rate", str(a.rate)])
        try:
            print(
                f"soak: {a.minutes:g} min at {a.rate:.0f} events/s, then {a.idle_minutes:g} min idle; "
                f"tracemalloc {f'on ({FRAMES} frames)' if trace else 'off'}",
                flush=True,
            )
            print(HEAD, flush=True)
            detail = asyncio.run(
                soak(srv.url, a.minutes, a.idle_minutes, a.rate, Path(tmp) if trace else None, wl)
            )
        finally:
            if wl.poll() is None:
                wl.send_signal(signal.SIGTERM)
                try:
                    wl.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    wl.kill()
        if trace:
            print("analysing the tracemalloc snapshots ...", flush=True)
            analyse(detail)
    s = detail["samples"]
    load = [x for x in s if x["phase"] == "load"]
    idle = [x for x in s if x["phase"] == "idle"]
    first, last_load = load[0], load[-1]
    growth = 100 * (last_load["rss_mb"] - first["rss_mb"]) / first["rss_mb"]
    idle_growth = (idle[-1]["rss_mb"] - last_load["rss_mb"]) if idle else 0.0
    print("\n| minute | phase | RSS MB | tracemalloc MB | top growers over the minute (tracemalloc) |")
    print("|--------|-------|--------|----------------|-------------------------------------------|")
    for x in s:
        traced = f"{x['traced_mb']:.1f}" if "traced_mb" in x else "-"
        print(
            f"| {x['minute']:>6} | {x['phase']:<5} | {x['rss_mb']:6.1f} | {traced:>14} | "
            f"{x.get('growers') or x['types']} |"
        )
    print()
    rows = [
        Row(
            "soak",
            f"RSS minute {first['minute']} -> {last_load['minute']} under load",
            f"{first['rss_mb']:.1f} -> {last_load['rss_mb']:.1f} MB ({growth:+.1f} %)",
            "< +10 %",
            growth < 10,
            note=f"{a.rate:.0f} events/s, {last_load['polls']} polls"
            + ("; tracemalloc inflates RSS: judge RSS with --no-tracemalloc" if trace else ""),
        )
    ]
    if trace:
        t_growth = last_load["traced_mb"] - first["traced_mb"]
        rows.append(
            Row(
                "soak",
                "tracemalloc heap under load",
                f"{first['traced_mb']:.1f} -> {last_load['traced_mb']:.1f} MB ({t_growth:+.1f} MB)",
            )
        )
    if idle:
        rows.append(
            Row(
                "soak",
                f"RSS over {a.idle_minutes:g} idle min",
                f"{idle_growth:+.1f} MB",
                "none (< +1 MB)",
                idle_growth < 1.0,
                note=f"{last_load['rss_mb']:.1f} -> {idle[-1]['rss_mb']:.1f} MB",
            )
        )
    print_table(rows)
    for name in ("load_growers", "idle_growers"):
        if detail.get(name):
            print(f"\n{name} (tracemalloc, by traceback, innermost frame last):")
            for g in detail[name]:
                print(f"  +{g['kB']} kB ({g['count']:+d} blocks)")
                for fr in g["traceback"][-6:]:
                    print(f"      {fr}")
    if a.out:
        a.out.write_text(json.dumps(detail, indent=1, default=str))
    print(
        json.dumps(
            {
                "rss_first_mb": round(first["rss_mb"], 1),
                "rss_load_end_mb": round(last_load["rss_mb"], 1),
                "rss_growth_pct": round(growth, 1),
                "rss_idle_end_mb": round(idle[-1]["rss_mb"], 1) if idle else None,
                "rss_idle_growth_mb": round(idle_growth, 2),
                "tracemalloc": trace,
            }
        )
    )


if __name__ == "__main__":
    main()
