"""What the time lag costs a poll: the Collector with and without its extra reads, side by side.

Per group one `XRANGE key (last-delivered-id + COUNT 1` (the first entry not yet delivered) and
per poll one TIME are added to the poll's one round trip (issue 15: under 15 % of the poll at
1,000 streams). The same Collector polls the same 1,000 streams x 2 groups (bench/common.populate)
with `read_time_lag` on and off in alternating rounds, so drift on a shared machine hits both
alike: median wall time, median CPU time of the client, and the server's usec per poll (INFO
commandstats) for each; then the verdicts (health.judge over a 60-poll window) for every group.

    python bench/time_lag.py [--streams 1000] [--reps 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import deque
from typing import Any

from common import PREFIX, command_usec, embedded_server, median, populate, sync_client, usec_delta

from streamtop.options import PollOptions
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import build_spec, probe_server
from streamtop.pipeline.health import GroupSample, judge

TARGET = 0.15  # the extra reads may add at most this share of the poll


async def measure(srv: Any, n: int, reps: int) -> dict[str, Any]:
    spec = build_spec(url=srv.url, env={})
    client = spec.make_client(raw=True)
    server = await probe_server(client)
    col = Collector(
        client,
        server,
        [PREFIX + "*"],
        PollOptions(max_streams=n, discovery_interval=1e9, estimate_interval=0),
    )
    r = sync_client(srv)
    wall: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    usec: dict[bool, list[float]] = {True: [], False: []}
    try:
        await col.poll()
        await col.poll()
        for _ in range(reps):
            for on in (False, True):
                col.read_time_lag = on
                before = command_usec(r)
                c0, t0 = time.process_time(), time.perf_counter()
                snap = await col.poll()
                wall[on].append((time.perf_counter() - t0) * 1000)
                cpu[on].append((time.process_time() - c0) * 1000)
                usec[on].append(sum(u for _, u in usec_delta(before, command_usec(r)).values()))
        groups = [(s, g) for s in snap.streams for g in s.groups]
        timeline = [GroupSample.of(snap.taken_at - 60 + i, s, g) for i in range(61) for s, g in groups[:1]]
        t0 = time.perf_counter()
        for _ in groups:
            judge(deque(timeline), 60.0, reset_free=True)  # as History calls it
        judge_ms = (time.perf_counter() - t0) * 1000
    finally:
        await client.aclose()
        r.close()
    off, on = median(wall[False]), median(wall[True])
    return {
        "streams": n,
        "groups": len(groups),
        "reps": reps,
        "poll_ms_without": off,
        "poll_ms_with": on,
        "extra_share": (on - off) / off,
        "cpu_ms_without": median(cpu[False]),
        "cpu_ms_with": median(cpu[True]),
        "server_usec_without": median(usec[False]),
        "server_usec_with": median(usec[True]),
        "verdicts_ms": judge_ms,
        "time_lag_known": sum(g.time_lag.ms is not None for _, g in groups),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    with embedded_server() as srv:
        r = sync_client(srv)
        populate(r, 0, args.streams)
        r.close()
        m = asyncio.run(measure(srv, args.streams, args.reps))
    print(
        f"{m['streams']} streams x {m['groups'] // max(m['streams'], 1)} groups, "
        f"median of {m['reps']} alternating polls each"
    )
    print(f"{'':28}{'without':>10}{'with':>10}")
    print(f"{'poll wall ms':28}{m['poll_ms_without']:>10.1f}{m['poll_ms_with']:>10.1f}")
    print(f"{'client CPU ms':28}{m['cpu_ms_without']:>10.1f}{m['cpu_ms_with']:>10.1f}")
    print(f"{'server usec':28}{m['server_usec_without']:>10.0f}{m['server_usec_with']:>10.0f}")
    share = m["extra_share"]
    print(
        f"extra reads: {share:+.1%} of the poll (target < {TARGET:.0%}: "
        f"{'met' if share < TARGET else 'MISSED'})"
    )
    print(f"verdicts for every group (60-poll window): {m['verdicts_ms']:.1f} ms per poll")
    print(json.dumps(m))


if __name__ == "__main__":
    main()
