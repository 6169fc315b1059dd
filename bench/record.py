"""What recording costs (issue 30): the file's size per day, the CPU it adds, the time to seek.

Side by side in one run, each on a private Valkey 9.1:

- size, demo: the demo's workload (streamtop.demo.workload.DemoController, its defaults) watched by
  the real dashboard (StreamtopApp on a Monitor, headless at 160x45, --interval 1) with --record,
  for --seconds (the issue asks 10 minutes: scaled down, then extrapolated per day from what the
  tables and indexes grew by after the first polls, SQLite's dbstat);
- size and CPU, 10,000 streams (2 groups x 2 consumers each, bench/common.populate), 1,000 of
  them busy (a writer adds --busy entries a second to them, spread evenly, and group g1 reads and
  acks them): the same dashboard, first without, then with --record, --seconds each. CPU: the
  thread CPU time of the event loop's thread (polls, History, verdicts, drawing, the recorder's
  hook; not the workload's threads), as % of a core, with and without;
- seek: a generated 24-hour recording (--hours; 8 streams x 2 groups x 3 consumers, one poll a
  second, every poll changing), then the real replay app (headless, 160x45): 20 random moments,
  each put on screen (ReplaySession.goto, which rebuilds the History from the polls before it,
  then apply_snapshot, which draws every panel); median and worst ms.

    python bench/record.py [--quick] [--seconds 60] [--hours 24] [--busy 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import PartResult, embedded_server, populate, print_table, stream_key, sync_client

from streamtop.monitor import Monitor
from streamtop.options import PollOptions, SessionOptions
from streamtop.pipeline.connection import ConnectionSpec
from streamtop.pipeline.history import History
from streamtop.pipeline.model import (
    ConsumerInfo,
    GroupInfo,
    Lag,
    LagSource,
    PendingEntry,
    PendingSummary,
    ServerInfo,
    Snapshot,
    StreamInfo,
    TimeLag,
    TimeLagSource,
)
from streamtop.record import Recorder, Recording, attach

DAY = 86_400
TARGET_DEMO_MB = 50.0
TARGET_BIG_MB = 1000.0
TARGET_CPU_PCT = 10.0
TARGET_SEEK_MS = 200.0


def file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def used_bytes(path: Path) -> int:
    """Bytes the recording's tables and indexes hold (SQLite's dbstat: pages less their unused
    space), so a short run is not rounded to whole 4 kB pages; the per-table split goes to detail."""
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT sum(pgsize - unused) FROM dbstat").fetchone()[0] or 0)
    finally:
        db.close()


def table_bytes(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT name, sum(pgsize - unused) FROM dbstat GROUP BY name ORDER BY 2 DESC")
        return {name: int(n) for name, n in rows}
    finally:
        db.close()


class Timed:
    """Wraps a Recorder's hook to count its thread CPU time."""

    def __init__(self, recorder: Recorder) -> None:
        self.cpu = 0.0
        inner = recorder.after_poll

        def after_poll(monitor: Any, started: float) -> None:
            t0 = time.thread_time()
            inner(monitor, started)
            self.cpu += time.thread_time() - t0

        recorder.after_poll = after_poll  # type: ignore[method-assign]


async def app_watch(
    spec: ConnectionSpec, options: PollOptions, path: Path | None, seconds: float
) -> dict[str, Any]:
    """The real dashboard (StreamtopApp on a Monitor, headless at 160x45, --interval 1) for
    `seconds`, recording to `path` unless None: the thread CPU time of the event loop's thread (the
    app's polls, History, verdicts, drawing, and the recorder's hook; not the workload's threads)
    per poll, and the bytes the recording grew by after its first poll."""
    from streamtop.ui.app import StreamtopApp

    monitor = Monitor(spec, SessionOptions(poll=options, interval=1.0, follow_screen=True))
    recorder = attach(monitor, path, role="bench") if path is not None else None
    timed = Timed(recorder) if recorder is not None else None
    app = StreamtopApp(monitor)
    async with app.run_test(size=(160, 45)) as pilot:
        while monitor.polls < 3:
            await pilot.pause(0.1)
        size0 = used_bytes(path) if path is not None else 0
        hook0 = timed.cpu if timed is not None else 0.0
        polls0, c0, t0 = monitor.polls, time.thread_time(), time.monotonic()
        while time.monotonic() - t0 < seconds:
            await pilot.pause(0.2)
        cpu, elapsed, polls = time.thread_time() - c0, time.monotonic() - t0, monitor.polls - polls0
        hook = (timed.cpu if timed is not None else 0.0) - hook0
        grown = used_bytes(path) - size0 if path is not None else 0
    if recorder is not None:
        recorder.close()
    return {
        "seconds": elapsed,
        "polls": polls,
        "bytes_per_s": grown / elapsed,
        "cpu_pct": 100 * cpu / elapsed,
        "cpu_ms_per_poll": cpu * 1000 / max(1, polls),
        "hook_ms_per_poll": hook * 1000 / max(1, polls),
        "tables": table_bytes(path) if path is not None else {},
    }


def watch_both(spec: ConnectionSpec, options: PollOptions, path: Path, seconds: float) -> dict[str, Any]:
    """The same dashboard without, then with --record, back to back on the same workload."""
    plain = asyncio.run(app_watch(spec, options, None, seconds))
    recorded = asyncio.run(app_watch(spec, options, path, seconds))
    return {"plain": plain, **recorded}


def demo_size(seconds: float, workdir: Path) -> dict[str, Any]:
    from streamtop.demo.workload import DemoController

    with embedded_server() as srv:
        spec = ConnectionSpec(host=srv.host, port=srv.port)
        controller = DemoController(spec)
        controller.start()
        try:
            return watch_both(spec, PollOptions(), workdir / "demo.db", seconds)
        finally:
            controller.stop()


class Busy:
    """Adds `rate` entries a second to the busy streams (spread evenly), and group g1 reads and
    acks them, from a thread with its own client."""

    def __init__(self, srv: Any, busy: int, rate: int) -> None:
        self.r = sync_client(srv)
        self.busy, self.rate = busy, rate
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            t0 = time.monotonic()
            batch = max(1, self.rate // 10)
            pipe = self.r.pipeline(transaction=False)
            keys = [stream_key((i + n) % self.busy) for n in range(batch)]
            for key in keys:
                pipe.xadd(key, {b"temp": b"0.5"}, maxlen=50, approximate=True)
            for key in keys:
                pipe.xreadgroup("g1", "c1", {key: ">"}, count=10)
            replies = pipe.execute()
            acks = self.r.pipeline(transaction=False)
            for key, reply in zip(keys, replies[len(keys) :], strict=True):
                ids = [e for _, entries in reply or [] for e, _ in entries]
                if ids:
                    acks.xack(key, "g1", *ids)
            acks.execute()
            i += batch
            self._stop.wait(max(0.0, 0.1 - (time.monotonic() - t0)))

    def __enter__(self) -> Busy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.r.close()


def big_size(seconds: float, streams: int, busy: int, rate: int, workdir: Path) -> dict[str, Any]:
    with embedded_server() as srv:
        r = sync_client(srv)
        populate(r, 0, streams)
        r.close()
        spec = ConnectionSpec(host=srv.host, port=srv.port)
        with Busy(srv, busy, rate):
            return watch_both(spec, PollOptions(max_streams=streams + 10), workdir / "big.db", seconds)


# seek ------------------------------------------------------------------------------------------


def synthetic(t: float, n: int) -> Snapshot:
    """Poll `n` of a demo-sized server: 8 streams x 2 groups x 3 consumers, all moving."""
    streams = []
    ms = int(t * 1000)
    for s in range(8):
        added = n * (s + 1)
        groups = []
        for g in range(2):
            lag = (n * (g + 1) + s * 7) % 500
            read = max(0, added - lag)
            consumers = tuple(
                ConsumerInfo(f"worker-{c}".encode(), (n + c) % 5, (n * 37 + c) % 3000) for c in range(3)
            )
            pending = sum(c.pending for c in consumers)
            groups.append(
                GroupInfo(
                    name=f"group-{g}".encode(),
                    consumers=3,
                    pending=pending,
                    last_delivered_id=f"{ms - lag * 10}-0",
                    entries_read=read,
                    lag=Lag(LagSource.EXACT, lag),
                    consumer_list=consumers,
                    pending_summary=PendingSummary(
                        pending,
                        f"{ms - 5000}-0",
                        f"{ms}-0",
                        ((b"worker-0", pending),),
                        PendingEntry(f"{ms - 5000}-0", b"worker-0", 5000, 1),
                    )
                    if pending
                    else PendingSummary(0),
                    time_lag=TimeLag(TimeLagSource.EXACT, lag * 10),
                    oldest_pending_age_ms=5000 if pending else None,
                )
            )
        streams.append(
            StreamInfo(
                key=f"app:stream:{s}".encode(),
                length=min(added, 10_000),
                first_entry_id=f"{ms - 100_000}-0",
                last_entry_id=f"{ms}-0",
                last_generated_id=f"{ms}-0",
                entries_added=added,
                max_deleted_entry_id="0-0",
                groups=tuple(groups),
            )
        )
    return Snapshot(
        taken_at=t,
        duration_ms=2.0,
        round_trips=1,
        server=ServerInfo("valkey", "9.1.0", (7, 2, 4)),
        streams=tuple(streams),
    )


def generate(path: Path, hours: float) -> int:
    recorder = Recorder(path, url="redis://generated", role="bench")
    history = History()
    clock = [0.0]
    fake = SimpleNamespace(
        history=history,
        clock=lambda: clock[0],
        last=None,
        failures=0,
        answer_timeout=2.0,
        stale_since=None,
        error=None,
    )
    start = time.time() - hours * 3600
    polls = int(hours * 3600)
    for n in range(polls):
        t = start + n
        snap = synthetic(t, n)
        history.update(snap)
        fake.last, clock[0] = snap, t
        recorder.after_poll(fake, t)  # type: ignore[arg-type]
    recorder.close()
    return polls


async def seek_times(path: Path, moments: int) -> list[float]:
    from streamtop.record.session import ReplaySession
    from streamtop.ui.replay import ReplayApp

    rec = Recording(path)
    session = ReplaySession(rec)
    app = ReplayApp(session)
    out = []
    rng = random.Random(30)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        first, last = rec.span  # type: ignore[misc]
        for _ in range(moments):
            t = rng.uniform(first, last)
            t0 = time.perf_counter()
            snap = session.goto(t)
            assert snap is not None
            app.apply_snapshot(snap)
            out.append((time.perf_counter() - t0) * 1000)
            await pilot.pause()
    rec.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20 s of each workload, a 2-hour recording")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--streams", type=int, default=10_000)
    ap.add_argument("--busy", type=int, default=1000, help="busy streams (and entries/s added to them)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.hours = 20.0, 2.0
    res = PartResult()
    with tempfile.TemporaryDirectory(prefix="streamtop-bench-record-") as tmp:
        work = Path(tmp)
        demo = demo_size(args.seconds, work)
        big = big_size(args.seconds, args.streams, args.busy, args.busy, work)
        t0 = time.perf_counter()
        polls = generate(work / "day.db", args.hours)
        gen_s = time.perf_counter() - t0
        day_mb = file_bytes(work / "day.db") / 1e6
        seeks = asyncio.run(seek_times(work / "day.db", 20))
    demo_day = demo["bytes_per_s"] * DAY / 1e6
    big_day = big["bytes_per_s"] * DAY / 1e6
    base = big["plain"]["cpu_pct"]
    cpu = 100 * (big["cpu_pct"] - base) / max(1e-9, base)
    scale = f"{args.seconds:g} s recorded, x{DAY / args.seconds:,.0f}"
    res.row(
        "size",
        "demo, MB per day",
        f"{demo_day:.1f}",
        f"<= {TARGET_DEMO_MB:g}",
        demo_day <= TARGET_DEMO_MB,
        scale,
    )
    res.row(
        "size",
        f"{args.streams:,} streams ({args.busy:,} busy), MB per day",
        f"{big_day:.0f}",
        f"<= {TARGET_BIG_MB:g}",
        big_day <= TARGET_BIG_MB,
        f"{scale}; {big['polls']} polls",
    )
    res.row(
        "cpu",
        f"CPU the recording adds to the dashboard at {args.streams:,} streams",
        f"{cpu:.1f} %",
        f"<= {TARGET_CPU_PCT:g} %",
        cpu <= TARGET_CPU_PCT,
        f"{big['cpu_pct']:.1f} vs {base:.1f} % of a core; the hook {big['hook_ms_per_poll']:.1f} ms "
        f"of {big['cpu_ms_per_poll']:.0f} ms a poll",
    )
    res.row(
        "seek",
        f"any moment of {args.hours:g} h drawn (median / worst of 20)",
        f"{statistics.median(seeks):.0f} / {max(seeks):.0f} ms",
        f"<= {TARGET_SEEK_MS:g} ms",
        max(seeks) <= TARGET_SEEK_MS,
        f"{polls:,} polls, {day_mb:.0f} MB, generated in {gen_s:.0f} s",
    )
    print_table(res.rows)
    print(
        json.dumps(
            {
                "demo_mb_per_day": round(demo_day, 1),
                "big_mb_per_day": round(big_day),
                "recorder_cpu_pct": round(cpu, 1),
                "seek_ms_median": round(statistics.median(seeks)),
                "seek_ms_max": round(max(seeks)),
                "detail": {"demo": demo, "big": big, "generated_mb": round(day_mb, 1)},
            }
        )
    )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
    sys.stdout.flush()
    os._exit(0)
