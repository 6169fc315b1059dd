"""Poll cost at N streams x 2 groups x 2 consumers: streamtop's Collector vs the floor vs walrus.

(a) the Collector's steady-state poll (second and later polls; discovery is timed on its own),
(b) the floor: exactly the commands (a) sent, recorded from its one round trip, replayed in one bare
    redis-py pipeline on the same raw asyncio client, with no parsing or model building,
(c) the loop a user writes with walrus (tutorial style, bytes client): stream.info(),
    groups_info(), and per group consumers_info(), the XPENDING summary and the oldest pending
    entry, one call at a time.
Round trips are counted at the socket (every packed write is one), not assumed.

    python bench/poll.py [--sizes 10,100,1000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import (
    PREFIX,
    PartResult,
    counting,
    embedded_server,
    fmt_ms,
    median,
    populate,
    print_table,
    sync_client,
)
from walrus import Database

import streamtop.pipeline.collector as collector_mod
from streamtop.options import PollOptions
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import build_spec, probe_server

FULL_SIZES = (10, 100, 1000, 10000)
QUICK_SIZES = (10, 100, 1000)  # 10,000 takes ~25 s here: only in the full run
REPS = {10: 40, 100: 20, 1000: 10, 10000: 5}
NAIVE_REPS = {10: 10, 100: 5, 1000: 3, 10000: 1}
QUICK_REPS = {10: 20, 100: 10, 1000: 7, 10000: 3}
QUICK_NAIVE_REPS = {10: 5, 100: 3, 1000: 2}  # no walrus loop at 10,000 in --quick (tens of s)


class _Recorder:
    """Keeps the commands the Collector sends (it writes them with connection.execute_raw), to
    replay exactly those as the floor."""

    def __init__(self) -> None:
        self.recording: list[list[tuple]] | None = None
        self._orig = collector_mod.execute_raw

    async def __call__(self, client: Any, commands: Any, timeout: float | None = None) -> Any:
        if self.recording is not None:
            self.recording.append(list(commands))
        return await self._orig(client, commands, timeout)

    def __enter__(self) -> _Recorder:
        collector_mod.execute_raw = self
        return self

    def __exit__(self, *exc: object) -> None:
        collector_mod.execute_raw = self._orig


def naive_walrus_poll(db: Database, keys: list[str]) -> int:
    """What a user writes from the walrus tutorial: one call per command. Returns calls made."""
    calls = 0
    for key in keys:
        stream = db.Stream(key)
        stream.info()
        calls += 2
        for g in stream.groups_info():
            name = g["name"].decode()
            cg = db.consumer_group(name, [key])
            member = cg.streams[key]
            member.consumers_info()
            db.xpending(key, name)
            member.pending(count=1)
            calls += 3
    return calls


async def _floor(client: Any, commands: list[tuple]) -> None:
    pipe = client.pipeline(transaction=False)
    for args in commands:
        pipe.execute_command(*args)
    await pipe.execute(raise_on_error=False)


async def measure_size(srv: Any, n: int, reps: int, naive_reps: int) -> dict[str, Any]:
    spec = build_spec(url=srv.url, env={})
    client = spec.make_client(raw=True)
    trips = counting(client)
    server = await probe_server(client)
    rec = _Recorder()
    col = Collector(
        client,
        server,
        [PREFIX + "*"],
        PollOptions(max_streams=max(n, 1), discovery_interval=1e9, estimate_interval=0),
    )
    col.execute = rec  # the collector sends through its own `execute` (cluster nodes add ASKING)
    out: dict[str, Any] = {"streams": n}
    try:
        t0 = time.perf_counter()
        await col.discover()
        out["discovery_ms"] = (time.perf_counter() - t0) * 1000
        out["discovery_round_trips"] = col.total_round_trips
        t0 = time.perf_counter()
        first = await col.poll()
        out["first_poll_ms"] = (time.perf_counter() - t0) * 1000  # learns the groups: 2 trips
        out["first_poll_round_trips"] = first.round_trips
        assert len(first.streams) == n, (len(first.streams), n)

        rec.recording = []
        before = trips[0]
        with rec:
            snap = await col.poll()
        out["collector_round_trips"] = trips[0] - before
        commands = [c for batch in rec.recording for c in batch]
        rec.recording = None
        out["commands_per_poll"] = len(commands)
        out["groups"] = sum(len(s.groups) for s in snap.streams)

        before = trips[0]
        await _floor(client, commands)
        out["floor_round_trips"] = trips[0] - before

        # (b') the same floor on a client without socket_timeout: redis-py's asyncio client then
        # skips the asyncio.timeout() it otherwise wraps around every single reply of a pipeline
        fast = spec.make_client(raw=True)
        fast.connection_pool.connection_kwargs["socket_timeout"] = None
        await _floor(fast, commands)
        col_ms, floor_ms, col_cpu, floor_cpu, fast_ms = [], [], [], [], []
        for _ in range(reps):  # interleaved, so drift on a shared machine hits both alike
            c0, t0 = time.process_time(), time.perf_counter()
            await col.poll()
            col_ms.append((time.perf_counter() - t0) * 1000)
            col_cpu.append((time.process_time() - c0) * 1000)
            c0, t0 = time.process_time(), time.perf_counter()
            await _floor(client, commands)
            floor_ms.append((time.perf_counter() - t0) * 1000)
            floor_cpu.append((time.process_time() - c0) * 1000)
            t0 = time.perf_counter()
            await _floor(fast, commands)
            fast_ms.append((time.perf_counter() - t0) * 1000)
        await fast.aclose()
        out.update(
            collector_ms=median(col_ms),
            floor_ms=median(floor_ms),
            floor_no_timeout_ms=median(fast_ms),
            collector_cpu_ms=median(col_cpu),
            floor_cpu_ms=median(floor_cpu),
            collector_all_ms=[round(x, 3) for x in col_ms],
            floor_all_ms=[round(x, 3) for x in floor_ms],
            reps=reps,
        )
        out["collector_over_floor"] = out["collector_ms"] / out["floor_ms"]
    finally:
        await client.aclose()

    if naive_reps:
        db = Database(host=srv.host, port=srv.port)  # bytes client, as SERVERS.md says
        naive_trips = counting(db)
        keys = [k.decode() for k in col.discovery.keys]
        naive_walrus_poll(db, keys)  # warm-up: connects (the handshake is not a poll's cost)
        before = naive_trips[0]
        out["naive_calls"] = naive_walrus_poll(db, keys)
        out["naive_round_trips"] = naive_trips[0] - before
        naive_ms = []
        for _ in range(naive_reps):
            t0 = time.perf_counter()
            naive_walrus_poll(db, keys)
            naive_ms.append((time.perf_counter() - t0) * 1000)
        db.close()
        out.update(
            naive_ms=median(naive_ms), naive_all_ms=[round(x, 1) for x in naive_ms], naive_reps=naive_reps
        )
        out["naive_over_collector"] = out["naive_ms"] / out["collector_ms"]
    return out


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, reps: int | None = None) -> PartResult:
    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    reps_t = QUICK_REPS if quick else REPS
    naive_t = QUICK_NAIVE_REPS if quick else NAIVE_REPS
    if reps:  # one count for everything (the smoke test)
        reps_t = naive_t = dict.fromkeys(sizes, reps)
    res = PartResult()
    by_n: dict[int, dict[str, Any]] = {}
    with embedded_server() as srv:
        r = sync_client(srv)
        have = 0
        for n in sorted(sizes):
            t0 = time.perf_counter()
            populate(r, have, n)
            have = max(have, n)
            setup_s = time.perf_counter() - t0
            m = asyncio.run(measure_size(srv, n, reps_t.get(n, 5), naive_t.get(n, 0)))
            m["setup_s"] = setup_s
            by_n[n] = m
        r.close()

    for n, m in by_n.items():
        tag = f"{n:,} streams"
        res.row(
            "poll",
            f"{tag}: (a) streamtop Collector",
            fmt_ms(m["collector_ms"]),
            note=f"{m['collector_round_trips']} round trip(s), {m['commands_per_poll']} cmds, "
            f"client CPU {fmt_ms(m['collector_cpu_ms'])}",
        )
        res.row(
            "poll",
            f"{tag}: (b) floor, bare pipeline",
            fmt_ms(m["floor_ms"]),
            note=f"{m['floor_round_trips']} round trip(s), client CPU {fmt_ms(m['floor_cpu_ms'])}",
        )
        res.row(
            "poll",
            f"{tag}: (b') floor, no per-reply timeout",
            fmt_ms(m["floor_no_timeout_ms"]),
            note="info: same pipeline, client made with socket_timeout=None",
        )
        ratio = m["collector_over_floor"]
        res.row("poll", f"{tag}: (a)/(b)", f"{ratio:.2f}x", *(("<= 1.5x", ratio <= 1.5) if n == 1000 else ()))
        if "naive_ms" in m:
            res.row(
                "poll",
                f"{tag}: (c) walrus one call per command",
                fmt_ms(m["naive_ms"]),
                note=f"{m['naive_round_trips']} round trips",
            )
            nr = m["naive_over_collector"]
            res.row("poll", f"{tag}: (c)/(a)", f"{nr:.1f}x", *((">= 10x", nr >= 10) if n == 1000 else ()))
        else:
            res.row(
                "poll",
                f"{tag}: (c) walrus one call per command",
                "skipped",
                note="--quick: the naive loop at this size takes tens of seconds",
            )
        res.row(
            "poll",
            f"{tag}: discovery (SCAN TYPE stream)",
            fmt_ms(m["discovery_ms"]),
            note=f"{m['discovery_round_trips']} round trip(s); first poll "
            f"{fmt_ms(m['first_poll_ms'])}, {m['first_poll_round_trips']} trips",
        )
        if n == 10000:
            res.row(
                "poll", f"{tag}: (a) one poll", fmt_ms(m["collector_ms"]), "< 1 s", m["collector_ms"] < 1000
            )
    if 10000 not in by_n:
        res.row(
            "poll",
            "10,000 streams: (a) one poll",
            "skipped",
            "< 1 s",
            None,
            note="--quick skips 10,000 streams: run bench/run.py without --quick"
            if quick
            else "not in this run's sizes",
        )
    if by_n:  # the headline: 1,000 streams when measured, else the largest size
        hn = 1000 if 1000 in by_n else max(by_n)
        m = by_n[hn]
        res.headline.update(
            poll_streams=hn,
            poll_collector_ms=round(m["collector_ms"], 2),
            poll_floor_ms=round(m["floor_ms"], 2),
            poll_collector_over_floor=round(m["collector_over_floor"], 3),
            poll_round_trips=m["collector_round_trips"],
        )
        if "naive_ms" in m:
            res.headline.update(
                poll_walrus_ms=round(m["naive_ms"], 1),
                poll_walrus_over_collector=round(m["naive_over_collector"], 2),
            )
    if 10000 in by_n:
        res.headline["poll_10000_collector_ms"] = round(by_n[10000]["collector_ms"], 1)
    res.detail["poll"] = {str(n): m for n, m in by_n.items()}
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", help="comma-separated stream counts")
    a = ap.parse_args()
    sizes = tuple(int(x) for x in a.sizes.split(",")) if a.sizes else None
    res = run(a.quick, sizes)
    print_table(res.rows)
    print(json.dumps(res.headline))


if __name__ == "__main__":
    main()
