"""What a poll costs the server it watches, from INFO commandstats deltas (usec of command execution).

1. server usec per steady-state poll at 1,000 streams x 2 groups x 2 consumers;
2. per stream: a stream of 1,000,000 entries with a 100,000-entry PEL against a 10-entry stream of
   the same shape (one group, one consumer, everything pending), polled alone; the ratio must stay
   under 2x, which shows that nothing per tick grows with stream length or PEL size.

    python bench/server_cost.py [--quick]
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
    command_usec,
    embedded_server,
    populate,
    print_table,
    sync_client,
    usec_delta,
)

from streamtop.options import PollOptions
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import build_spec, probe_server

BIG = (1_000_000, 100_000)  # entries, PEL
QUICK_BIG = (200_000, 20_000)
SMALL = 10
ADD_CHUNK = 10_000


async def _server_usec(
    srv: Any, r: Any, targets: list[str], polls: int, max_streams: int
) -> tuple[float, dict[str, tuple[int, int]]]:
    """Mean server usec per steady-state poll of `targets`, and the per-command breakdown."""
    spec = build_spec(url=srv.url, env={})
    client = spec.make_client(raw=True)
    try:
        col = Collector(
            client,
            await probe_server(client),
            targets,
            PollOptions(max_streams=max_streams, discovery_interval=1e9, estimate_interval=0),
        )
        await col.poll()
        await col.poll()
        before = command_usec(r)
        for _ in range(polls):
            await col.poll()
        delta = usec_delta(before, command_usec(r))
    finally:
        await client.aclose()
    return sum(u for _, u in delta.values()) / polls, delta


async def _big_vs_small(
    srv: Any, r: Any, polls: int, rounds: int = 4
) -> tuple[float, dict[str, tuple[int, int]], float, dict[str, tuple[int, int]]]:
    """Server usec per poll of the big and of the small stream, in alternating rounds so that
    drift on a shared machine hits both alike."""
    spec = build_spec(url=srv.url, env={})
    client = spec.make_client(raw=True)
    try:
        server = await probe_server(client)
        cols = {
            k: Collector(
                client, server, [k], PollOptions(max_streams=1, discovery_interval=1e9, estimate_interval=0)
            )
            for k in ("bench:big", "bench:small")
        }
        totals: dict[str, dict[str, tuple[int, int]]] = {k: {} for k in cols}
        for col in cols.values():
            await col.poll()
            await col.poll()
        for _ in range(rounds):
            for k, col in cols.items():
                before = command_usec(r)
                for _ in range(max(1, polls // rounds)):
                    await col.poll()
                for cmd, (c, u) in usec_delta(before, command_usec(r)).items():
                    c0, u0 = totals[k].get(cmd, (0, 0))
                    totals[k][cmd] = (c0 + c, u0 + u)
    finally:
        await client.aclose()
    n = max(1, polls // rounds) * rounds
    big, small = totals["bench:big"], totals["bench:small"]
    return (sum(u for _, u in big.values()) / n, big, sum(u for _, u in small.values()) / n, small)


def build_big(r: Any, key: str, entries: int, pel: int) -> float:
    """XADD `entries` in pipelined chunks, then XREADGROUP COUNT pel into one consumer."""
    t0 = time.perf_counter()
    fields = {b"sensor_id": b"sensor1", b"temp": b"0.5", b"humidity": b"0.5"}
    for lo in range(0, entries, ADD_CHUNK):
        pipe = r.pipeline(transaction=False)
        for _ in range(min(ADD_CHUNK, entries - lo)):
            pipe.xadd(key, fields)
        pipe.execute()
    r.xgroup_create(key, "g1", id="0")
    r.execute_command("XREADGROUP", "GROUP", "g1", "c1", "COUNT", pel, "STREAMS", key, ">")
    return time.perf_counter() - t0


def run(
    quick: bool = False,
    streams: int = 1000,
    big: tuple[int, int] | None = None,
    polls: int | None = None,
    one_polls: int | None = None,
) -> PartResult:
    big = big or (QUICK_BIG if quick else BIG)
    polls = polls or (5 if quick else 20)
    one_polls = one_polls or (300 if quick else 2000)
    res = PartResult()
    d: dict[str, Any] = {}
    with embedded_server() as srv:
        r = sync_client(srv)
        populate(r, 0, streams)
        per_poll, breakdown = asyncio.run(_server_usec(srv, r, [PREFIX + "*"], polls, streams))
        d["streams"] = streams
        d["usec_per_poll"] = per_poll
        d["commands"] = {
            k: {"calls_per_poll": c / polls, "usec_per_poll": u / polls} for k, (c, u) in breakdown.items()
        }
        r.flushall()

        d["big_build_s"] = build_big(r, "bench:big", *big)
        d["big_entries"], d["big_pel"] = r.xlen("bench:big"), big[1]
        d["big_pel_real"] = r.xpending("bench:big", "g1")["pending"]
        build_big(r, "bench:small", SMALL, SMALL)
        big_us, big_b, small_us, small_b = asyncio.run(_big_vs_small(srv, r, one_polls))
        r.close()
    d.update(
        big_usec_per_poll=big_us,
        small_usec_per_poll=small_us,
        one_stream_polls=one_polls,
        big_commands={k: u / c for k, (c, u) in big_b.items()},
        small_commands={k: u / c for k, (c, u) in small_b.items()},
    )
    ratio = big_us / small_us if small_us else float("inf")
    d["big_over_small"] = ratio

    res.row(
        "server",
        f"{streams:,} streams: server usec per poll",
        f"{per_poll:,.0f} us",
        note=f"{sum(v['calls_per_poll'] for v in d['commands'].values()):.0f} commands; "
        f"{per_poll / streams:.1f} us per stream",
    )
    size = f"{d['big_entries']:,} entries, {d['big_pel_real']:,} pending"
    res.row(
        "server",
        f"1 stream of {size}: usec per poll",
        f"{big_us:.1f} us",
        note=("--quick: smaller than the 1,000,000/100,000 target size; " if quick else "")
        + f"mean of {one_polls} polls",
    )
    res.row("server", f"1 stream of {SMALL} entries, {SMALL} pending: usec per poll", f"{small_us:.1f} us")
    res.row("server", "big stream / 10-entry stream", f"{ratio:.2f}x", "<= 2x", ratio <= 2)
    res.headline.update(
        server_streams=streams, server_usec_per_poll=round(per_poll), server_big_over_small=round(ratio, 3)
    )
    res.detail["server_cost"] = d
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--streams", type=int, default=1000)
    a = ap.parse_args()
    res = run(a.quick, a.streams)
    print_table(res.rows)
    print(json.dumps(res.detail["server_cost"]["big_commands"]))
    print(json.dumps(res.detail["server_cost"]["small_commands"]))
    print(json.dumps(res.headline))


if __name__ == "__main__":
    main()
