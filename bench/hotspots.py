"""Where the time goes, for the targets the benchmarks miss: cProfile, plus prototypes of the fixes.

    python bench/hotspots.py poll [--streams 1000]   # collector: transport vs model building
    python bench/hotspots.py produce                  # xadd_many: redis-py's asyncio packer
    python bench/hotspots.py ui [--streams 1000]      # the dashboard's event-loop stalls

The prototypes (`prepacked`: commands packed once with hiredis and written in one go, replies read
without redis-py's per-reply asyncio.timeout) show what the proposed fixes would buy; they are not
streamtop code.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import math
import pstats
import random
import sys
import time
from typing import Any

try:
    from bench.common import PREFIX, embedded_server, median, populate, sync_client
    from bench.poll import _floor, _RecordingClient
except ImportError:  # run as a script
    from common import PREFIX, embedded_server, median, populate, sync_client  # type: ignore[no-redef]
    from poll import _floor, _RecordingClient  # type: ignore[no-redef]

import hiredis

from streamtop.collector import Collector
from streamtop.connection import build_spec, probe_server
from streamtop.events import sensor_event, xadd_args, xadd_many


def _top(profile: cProfile.Profile, n: int = 18, sort: str = "tottime") -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(n)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    return "\n".join(line[:160] for line in lines[start:] if line.strip())


async def _ms(fn: Any, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t0) * 1000)
    return median(times)


class _Replay:
    """A client whose pipeline answers with recorded replies: the collector minus all I/O."""

    def __init__(self, replies: list[Any]) -> None:
        self.replies = replies

    def pipeline(self, **_: Any) -> Any:
        replies = self.replies

        class Pipe:
            def execute_command(self, *args: Any, **kw: Any) -> None:
                pass

            async def execute(self, raise_on_error: bool = True) -> list[Any]:
                return replies

        return Pipe()


async def profile_poll(srv: Any, n: int, reps: int) -> None:
    spec = build_spec(url=srv.url, env={})
    client = spec.make_client(raw=True)
    server = await probe_server(client)
    rec = _RecordingClient(client)
    col = Collector(rec, server, [PREFIX + "*"], max_streams=n, discovery_interval=1e9)
    await col.poll()
    rec.recording = []
    await col.poll()
    commands = [c for batch in rec.recording for c in batch]
    rec.recording = None

    fast = spec.make_client(raw=True)
    fast.connection_pool.connection_kwargs["socket_timeout"] = None
    await fast.ping()
    conn = await fast.connection_pool.get_connection()
    packed = b"".join(hiredis.pack_command(tuple(a)) for a in commands)

    async def prepacked() -> list[Any]:
        await conn.send_packed_command(packed)
        return [await conn.read_response(timeout=math.inf) for _ in commands]

    replies = await prepacked()
    model = Collector(_Replay(replies), server, [PREFIX + "*"], max_streams=n, discovery_interval=1e9)
    model.discovery, model._last = col.discovery, col._last  # same keys and groups, no I/O
    model._discovery_due = False
    async def combined() -> None:  # what the proposed fixes together would cost
        gc.disable()
        try:
            model.client = _Replay(await prepacked())
            await model.poll()
        finally:
            gc.enable()

    async def paused_gc(fn: Any) -> None:
        gc.disable()
        try:
            await fn()
        finally:
            gc.enable()

    print(f"{n:,} streams, {len(commands):,} commands per poll; median of {reps} (ms):")
    for label, fn in (("(a) collector poll", col.poll),
                      ("(b) floor: same commands, asyncio pipeline", lambda: _floor(client, commands)),
                      ("(b') floor, client without socket_timeout", lambda: _floor(fast, commands)),
                      ("prototype: packed once (hiredis), one write, no per-reply timeout", prepacked),
                      ("collector model building only (replayed replies, no I/O)", model.poll),
                      ("(a) collector poll with the cyclic GC paused", lambda: paused_gc(col.poll)),
                      ("prototype: packed transport + model building, GC paused", combined)):
        print(f"  {label:72s} {await _ms(fn, reps):8.1f}")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        await col.poll()
    prof.disable()
    print("\ncProfile of 3 collector polls, by own time:")
    print(_top(prof))
    await fast.connection_pool.release(conn)
    await fast.aclose()
    await client.aclose()


async def profile_produce(srv: Any, n: int) -> None:
    events = [sensor_event(random.Random(1)) for _ in range(n)]
    r = sync_client(srv)
    client = build_spec(url=srv.url, env={}).make_client(raw=True)
    await client.ping()

    async def prototype() -> None:
        pool = client.connection_pool
        for lo in range(0, n, 1000):
            batch = events[lo:lo + 1000]
            conn = await pool.get_connection()
            try:
                await conn.send_packed_command(
                    b"".join(hiredis.pack_command(tuple(xadd_args("bench:p2", f))) for f in batch))
                for _ in batch:
                    await conn.read_response(timeout=math.inf)
            finally:
                await pool.release(conn)

    t0 = time.perf_counter()
    prof = cProfile.Profile()
    prof.enable()
    await xadd_many(client, "bench:p1", events)
    prof.disable()
    profiled = time.perf_counter() - t0
    t0 = time.perf_counter()
    await xadd_many(client, "bench:p3", events)
    plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    await prototype()
    proto = time.perf_counter() - t0
    assert r.xlen("bench:p2") == n
    print(f"{n:,} events: xadd_many {n / plain:,.0f} ev/s (under cProfile {n / profiled:,.0f}); "
          f"prototype (hiredis-packed chunk, no per-reply timeout) {n / proto:,.0f} ev/s")
    print(_top(prof))
    await client.aclose()
    r.close()


async def profile_ui(srv: Any, n: int, seconds: float) -> None:
    from streamtop.monitor import Monitor
    from streamtop.ui.app import StreamtopApp

    app = StreamtopApp(Monitor(build_spec(url=srv.url, env={}), [PREFIX + "*"], max_streams=n))
    prof = cProfile.Profile()
    async with app.run_test(size=(200, 60)):
        prof.enable()
        await asyncio.sleep(seconds)
        prof.disable()
    print(f"cProfile of a headless dashboard polling {n:,} streams for {seconds:.0f} s, cumulative:")
    print(_top(prof, 25, "cumtime"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("poll", "produce", "ui"))
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--events", type=int, default=30_000)
    ap.add_argument("--seconds", type=float, default=8.0)
    a = ap.parse_args()
    with embedded_server() as srv:
        if a.what != "produce":
            r = sync_client(srv)
            populate(r, 0, a.streams)
            r.close()
        job = {"poll": lambda: profile_poll(srv, a.streams, a.reps),
               "produce": lambda: profile_produce(srv, a.events),
               "ui": lambda: profile_ui(srv, a.streams, a.seconds)}[a.what]
        asyncio.run(job())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
