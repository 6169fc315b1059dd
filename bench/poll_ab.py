"""bench/poll.py for two trees side by side in one run: before (another checkout) and after (this one).

Each round runs the two trees' bench/poll.py one after the other (alternating which goes first),
each in a process of its own (its own streamtop, its own embedded server), so drift on a shared
machine hits both alike. The table gives the median over the rounds of each run's median poll
time, of its client CPU, and of its ratio to the floor (the same commands in one bare pipeline,
timed interleaved with it), which cancels most of the machine's load; and the client CPU of the
Collector's poll over the replies of one real steady-state poll replayed in-process (no server and
no socket in the timing: the code's own cost, the figure a refactor moves).

    mkdir ../before && git archive main | tar -x -C ../before
    python bench/poll_ab.py --before ../before [--sizes 100,1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
FIELDS = ("ms", "cpu", "ratio", "replay")


def one(tree: Path, size: int) -> dict[str, float]:
    """That tree's bench/poll.py (--quick reps) at `size` streams."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(tree / 'bench')!r}); import poll; "
        f"m = poll.run(True, ({size},)).detail['poll']['{size}']; "
        "print(json.dumps({k: m[k] for k in ('collector_ms', 'floor_ms', 'collector_cpu_ms')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tree
    ).stdout
    m = json.loads(out.strip().splitlines()[-1])
    return {"ms": m["collector_ms"], "cpu": m["collector_cpu_ms"], "ratio": m["collector_ms"] / m["floor_ms"]}


REPLAY = """
import asyncio, json, sys, time
sys.path[:0] = [{tree!r}, {bench!r}]
from common import PREFIX, embedded_server, populate, sync_client
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import build_spec, probe_server
from streamtop.options import PollOptions
async def main(srv):
    client = build_spec(url=srv.url, env={{}}).make_client(raw=True)
    server = await probe_server(client)
    col = Collector(client, server, [PREFIX + "*"], PollOptions(max_streams={size}, estimate_interval=0,
                    discovery_interval=1e9))
    await col.poll()
    await col.poll()
    real, kept = col.execute, []
    async def record(c, commands, timeout):
        kept.append(await real(c, commands, timeout))
        return kept[-1]
    col.execute = record
    await col.poll()
    replies = kept[0]
    async def replay(c, commands, timeout):
        return list(replies)
    col.execute = replay
    cpu = []
    for _ in range({reps}):
        c0 = time.process_time()
        await col.poll()
        cpu.append((time.process_time() - c0) * 1000)
    await client.aclose()
    cpu.sort()
    print(json.dumps({{"replay_ms": cpu[len(cpu) // 2]}}))

with embedded_server() as srv:
    populate(sync_client(srv), 0, {size})
    asyncio.run(main(srv))
"""


def replay(tree: Path, size: int, reps: int = 30) -> float:
    """Client CPU of the Collector's poll over the replies of one real steady-state poll, replayed
    (no server, no socket in the timing): the code's own cost, without the network's noise."""
    code = REPLAY.format(tree=str(tree), bench=str(tree / "bench"), size=size, reps=reps)
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tree
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["replay_ms"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, type=Path, help="the other tree (a checkout of main)")
    ap.add_argument("--sizes", default="1000", help="comma-separated stream counts")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    trees = {"before": a.before.resolve(), "after": HERE}
    print(f"load average at start: {os.getloadavg()}", flush=True)
    rows = []
    for size in (int(s) for s in a.sizes.split(",")):
        got: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for r in range(a.rounds):
            for name in ("before", "after") if r % 2 == 0 else ("after", "before"):
                got[name].append({**one(trees[name], size), "replay": replay(trees[name], size)})
        rows.append(
            (size, {n: {k: statistics.median(x[k] for x in runs) for k in FIELDS} for n, runs in got.items()})
        )
    print(f"load average at end: {os.getloadavg()}")
    print(
        "| streams | poll ms before | after | after/before | client CPU ms before | after | after/before "
        "| poll/floor before | after | replayed CPU ms before | after | after/before |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, med in rows:
        b, f = med["before"], med["after"]
        print(
            f"| {size:,} | {b['ms']:.2f} | {f['ms']:.2f} | {f['ms'] / b['ms']:.3f} | {b['cpu']:.2f} | "
            f"{f['cpu']:.2f} | {f['cpu'] / b['cpu']:.3f} | {b['ratio']:.3f} | {f['ratio']:.3f} | "
            f"{b['replay']:.2f} | {f['replay']:.2f} | {f['replay'] / b['replay']:.3f} |"
        )


if __name__ == "__main__":
    main()
