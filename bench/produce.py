"""A burst of sensor events: streamtop's produce path against bare pipelined redis-py and walrus.

(a) streamtop.events.xadd_many on the client streamtop makes (ConnectionSpec.make_client),
(b) the floor: bare pipelined redis-py XADD, 1,000 per round trip; the faster of the sync client and
    the asyncio client (both default settings) is the reference,
(c) the tutorial's loop: walrus `db.Stream(key).add(event)`, one call per event.
The same pre-generated events feed every path, so event generation is not in any figure.

    python bench/produce.py [--quick] [--events N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from typing import Any

import redis.asyncio as aioredis

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import PartResult, embedded_server, median, print_table, sync_client
from walrus import Database

from streamtop.events import sensor_event, xadd_many
from streamtop.pipeline.connection import build_spec

EVENTS = 100_000
QUICK_EVENTS = 30_000
WALRUS_EVENTS = 100_000
QUICK_WALRUS_EVENTS = 3_000
CHUNK = 1000
KEY = "bench:produce"


async def _streamtop(srv: Any, events: list[dict[str, str]]) -> float:
    client = build_spec(url=srv.url, env={}).make_client(raw=True)
    try:
        t0 = time.perf_counter()
        added, _ = await xadd_many(client, KEY, events)
        dt = time.perf_counter() - t0
    finally:
        await client.aclose()
    assert added == len(events)
    return dt


async def _bare_async(srv: Any, events: list[dict[str, str]]) -> float:
    client = aioredis.Redis(host=srv.host, port=srv.port, protocol=2)
    try:
        t0 = time.perf_counter()
        for lo in range(0, len(events), CHUNK):
            pipe = client.pipeline(transaction=False)
            for fields in events[lo : lo + CHUNK]:
                pipe.xadd(KEY, fields)
            await pipe.execute()
        dt = time.perf_counter() - t0
    finally:
        await client.aclose()
    return dt


def _bare_sync(srv: Any, events: list[dict[str, str]]) -> float:
    r = sync_client(srv)
    t0 = time.perf_counter()
    for lo in range(0, len(events), CHUNK):
        pipe = r.pipeline(transaction=False)
        for fields in events[lo : lo + CHUNK]:
            pipe.xadd(KEY, fields)
        pipe.execute()
    dt = time.perf_counter() - t0
    r.close()
    return dt


def _walrus(srv: Any, events: list[dict[str, str]]) -> float:
    db = Database(host=srv.host, port=srv.port)
    stream = db.Stream(KEY)
    t0 = time.perf_counter()
    for fields in events:
        stream.add(fields)
    dt = time.perf_counter() - t0
    db.close()
    return dt


def run(
    quick: bool = False, events_n: int | None = None, walrus_n: int | None = None, reps: int | None = None
) -> PartResult:
    n = events_n or (QUICK_EVENTS if quick else EVENTS)
    wn = walrus_n or (QUICK_WALRUS_EVENTS if quick else WALRUS_EVENTS)
    reps = reps or (2 if quick else 3)
    rng = random.Random(7)
    t0 = time.perf_counter()
    events = [sensor_event(rng) for _ in range(n)]
    gen_s = time.perf_counter() - t0
    times: dict[str, list[float]] = {"streamtop": [], "bare_async": [], "bare_sync": []}
    with embedded_server() as srv:
        r = sync_client(srv)
        for _ in range(reps):  # interleaved, so drift on a shared machine hits all alike
            for name, fn in (
                ("streamtop", lambda: asyncio.run(_streamtop(srv, events))),
                ("bare_async", lambda: asyncio.run(_bare_async(srv, events))),
                ("bare_sync", lambda: _bare_sync(srv, events)),
            ):
                times[name].append(fn())
                assert r.xlen(KEY) == n
                r.delete(KEY)
        walrus_s = _walrus(srv, events[:wn] if wn <= n else [sensor_event(rng) for _ in range(wn)])
        assert r.xlen(KEY) == wn
        r.delete(KEY)
        r.close()
    rate = {k: n / median(v) for k, v in times.items()}
    floor_name = max(("bare_async", "bare_sync"), key=lambda k: rate[k])
    walrus_rate = wn / walrus_s
    ratio = rate["streamtop"] / rate[floor_name]
    res = PartResult()
    sized = f"{n:,} events"
    note = "--quick: smaller than the 100,000-event target burst" if quick and n < EVENTS else ""
    res.row("produce", f"{sized}: (a) streamtop xadd_many", f"{rate['streamtop']:,.0f} ev/s", note=note)
    res.row(
        "produce",
        f"{sized}: (b) bare pipelined redis-py, asyncio",
        f"{rate['bare_async']:,.0f} ev/s",
        note="reference" if floor_name == "bare_async" else "",
    )
    res.row(
        "produce",
        f"{sized}: (b) bare pipelined redis-py, sync",
        f"{rate['bare_sync']:,.0f} ev/s",
        note="reference" if floor_name == "bare_sync" else "",
    )
    res.row("produce", "(a)/(b) throughput", f"{ratio:.2f}x", ">= 0.8x", ratio >= 0.8)
    res.row(
        "produce",
        f"{wn:,} events: (c) walrus one call per event",
        f"{walrus_rate:,.0f} ev/s",
        note=f"(a)/(c) = {rate['streamtop'] / walrus_rate:.1f}x",
    )
    res.headline.update(
        produce_streamtop_ev_s=round(rate["streamtop"]),
        produce_over_bare=round(ratio, 3),
        produce_over_walrus=round(rate["streamtop"] / walrus_rate, 2),
    )
    res.detail["produce"] = {
        "events": n,
        "walrus_events": wn,
        "reps": reps,
        "generate_s": gen_s,
        "seconds": times,
        "rate": rate,
        "walrus_rate": walrus_rate,
        "floor": floor_name,
        "streamtop_over_floor": ratio,
    }
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--events", type=int)
    a = ap.parse_args()
    res = run(a.quick, a.events)
    print_table(res.rows)
    print(json.dumps(res.headline))


if __name__ == "__main__":
    main()
