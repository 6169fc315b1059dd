"""What the server budget measures on a quiet host and on a loaded one (issue 29).

The budget (streamtop.pipeline.cadence) is measured per poll from INFO commandstats usec, which is wall time
around each command: when the host is busy the server is descheduled inside commands and those usec
rise while the CPU the server spends does not. Side by side in one run, on one private Valkey 9.1
with `--streams` streams x 2 groups x 2 consumers, the real Collector polling every stream in full:

  quiet    the server alone on its core;
  loaded   `--hogs` busy-loop processes pinned to the server's core (the server pinned there too).

Per poll (median of `--polls`): the poll's own commandstats usec (what the budget counted before),
the server main thread's CPU over the poll (INFO cpu before and after, from outside the poll), and
what the Collector now counts (commandstats x the share of command time that was CPU, from INFO cpu
inside its bracket: cadence.CpuShare). The ratios to the CPU say how far each is from what the
server really spent.

    python bench/budget_load.py [--streams 1000] [--polls 15] [--hogs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import PREFIX, Row, command_usec, embedded_server, populate, print_table, sync_client, usec_delta

from streamtop.options import PollOptions
from streamtop.pipeline.cadence import ALL_COMMANDS, OWN_COMMANDS
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import connect, parse_url

HOG = "while True: pass"


def cpu_us(r: Any) -> float:
    info = r.info("cpu")
    if "used_cpu_user_main_thread" in info:
        return (float(info["used_cpu_user_main_thread"]) + float(info["used_cpu_sys_main_thread"])) * 1e6
    return (float(info["used_cpu_user"]) + float(info["used_cpu_sys"])) * 1e6


async def polls(url: str, r: Any, n: int) -> dict[str, float]:
    client, info = await connect(parse_url(url))
    col = Collector(client, info, [f"{PREFIX}*".encode()], PollOptions(max_streams=10**9))
    col.follow_screen = col.everything_visible = True
    try:
        for _ in range(3):  # discovery, new groups, steady state
            await col.poll()
        raw, cpu, counted = [], [], []
        for _ in range(n):
            c0, u0 = cpu_us(r), command_usec(r)
            await col.poll()
            c1, u1 = cpu_us(r), command_usec(r)
            delta = usec_delta(u0, u1)
            raw.append(sum(u for name, (_, u) in delta.items() if name in OWN_COMMANDS))
            cpu.append(c1 - c0)
            counted.append(col.meter._polls[-1][1])  # what the budget counted for this poll
        return {
            "commandstats_us": statistics.median(raw),
            "cpu_us": statistics.median(cpu),
            "counted_us": statistics.median(counted),
            "factor": col.cpu_share.factor,
        }
    finally:
        await client.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--polls", type=int, default=15)
    ap.add_argument("--hogs", type=int, default=2)
    args = ap.parse_args()
    assert ALL_COMMANDS not in OWN_COMMANDS
    out: dict[str, Any] = {"streams": args.streams, "polls": args.polls, "hogs": args.hogs}
    loads = [Path("/proc/loadavg").read_text().split()[0]]
    with embedded_server() as srv:
        r = sync_client(srv)
        populate(r, 0, args.streams)
        assert srv.process is not None
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(srv.process.pid, {core})
        out["quiet"] = asyncio.run(polls(srv.url, r, args.polls))
        hogs = [
            subprocess.Popen(
                [sys.executable, "-c", HOG],
                preexec_fn=lambda: os.sched_setaffinity(0, {core}),  # noqa: PLW1509
            )
            for _ in range(args.hogs)
        ]
        try:
            time.sleep(0.5)
            out["loaded"] = asyncio.run(polls(srv.url, r, args.polls))
        finally:
            for h in hogs:
                h.kill()
                h.wait()
        r.close()
    loads.append(Path("/proc/loadavg").read_text().split()[0])
    rows = []
    for phase in ("quiet", "loaded"):
        d = out[phase]
        cpu = d["cpu_us"] or float("nan")
        rows.append(
            Row(
                "budget",
                f"{phase}: per poll, commandstats (before) / INFO cpu / counted now",
                f"{d['commandstats_us'] / 1000:.1f} / {cpu / 1000:.1f} / {d['counted_us'] / 1000:.1f} ms",
                note=f"x{d['commandstats_us'] / cpu:.2f} / x1 / x{d['counted_us'] / cpu:.2f} of the CPU; "
                f"factor {d['factor']:.2f}",
            )
        )
    q, lo = out["quiet"], out["loaded"]
    rows.append(
        Row(
            "budget",
            "loaded / quiet: commandstats (before) / INFO cpu / counted now",
            f"x{lo['commandstats_us'] / q['commandstats_us']:.2f} / x{lo['cpu_us'] / q['cpu_us']:.2f} / "
            f"x{lo['counted_us'] / q['counted_us']:.2f}",
        )
    )
    print(
        f"{args.streams} streams x 2 groups x 2 consumers, Valkey 9.1 pinned to core {core}, "
        f"{args.hogs} busy loops on it when loaded; load average {loads[0]} -> {loads[1]}"
    )
    print_table(rows)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
