"""Dead-letter and redrive of a big pending list, two trees side by side in one run: before (another
checkout, main) and after (this one): wall time and round trips to dead-letter N pending entries
(`D`, `streamtop deadletter --min-deliveries 1`), then to redrive them back (`R`).

Each tree runs in a process of its own (its own streamtop) against one embedded Valkey, on keys of
its own; the trees alternate which goes first each round. Round trips are the writes of a command
or a pipeline to the socket (common.counting), the MULTI/EXEC probe and the selection included.

    mkdir ../before && git archive main | tar -x -C ../before
    python bench/deadletter.py --before ../before [--entries 10000]
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
sys.path.insert(0, str(HERE / "bench"))

from common import embedded_server, sync_client  # noqa: E402

ONE = """
import asyncio, json, sys, time
sys.path[:0] = [{tree!r}, {bench!r}]
import streamtop  # before common, which puts this tree's root first on sys.path
from streamtop.actions import Actions
from streamtop.pipeline.connection import build_spec, probe_server
from common import counting
assert streamtop.__file__.startswith({tree!r}), streamtop.__file__
async def main():
    client = build_spec(url={url!r}, env={{}}).make_client(raw=True)
    trips = counting(client)
    acts = Actions(client, await probe_server(client))
    key = {key!r}.encode()
    t0, n0 = time.perf_counter(), trips[0]
    dead = await acts.dead_letter(key, b"g", min_deliveries=1)
    t1, n1 = time.perf_counter(), trips[0]
    back = await acts.redrive(key + b":dlq", count={n})
    t2, n2 = time.perf_counter(), trips[0]
    await client.aclose()
    assert dead.ok and back.ok, (dead.message, back.message)
    print(json.dumps({{"dl_ms": (t1 - t0) * 1000, "dl_rt": n1 - n0, "moved": len(dead.moved),
                      "rd_ms": (t2 - t1) * 1000, "rd_rt": n2 - n1, "back": len(back.moved)}}))
asyncio.run(main())
"""


def fill(r, key: str, n: int) -> None:
    """n entries, all pending in group g (read once by c1)."""
    r.delete(key, f"{key}:dlq")
    for lo in range(0, n, 1000):
        pipe = r.pipeline(transaction=False)
        for i in range(lo, min(n, lo + 1000)):
            pipe.xadd(key, {"sensor_id": "sensor1", "temp": "0.9", "n": str(i)})
        pipe.execute()
    r.xgroup_create(key, "g", "0")
    r.xreadgroup("g", "c1", {key: ">"})


def one(tree: Path, url: str, key: str, n: int) -> dict[str, float]:
    code = ONE.format(tree=str(tree), bench=str(HERE / "bench"), url=url, key=key, n=n)
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tree
    ).stdout
    got: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    assert got["moved"] == n and got["back"] == n, got
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, help="the other tree (a checkout of main)")
    ap.add_argument("--entries", type=int, default=10_000, help="pending entries to move (<= 10,000)")
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    trees = {"after": HERE} | ({"before": a.before.resolve()} if a.before else {})
    runs: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
    load = os.getloadavg()
    with embedded_server() as srv:
        r = sync_client(srv)
        for rnd in range(a.rounds):
            order = sorted(trees, reverse=rnd % 2 == 1)
            for name in order:
                key = f"bench:dl:{name}"
                fill(r, key, a.entries)
                runs[name].append(one(trees[name], srv.url, key, a.entries))
                r.delete(key, f"{key}:dlq")
        r.close()
    med = {t: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for t, rs in runs.items()}
    print(f"{a.entries:,} pending entries, {a.rounds} round(s); load average at start {load[0]:.2f}")
    cols = ["tree", "dead-letter ms", "round trips", "redrive ms", "round trips"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for t in ("before", "after"):
        if t in med:
            m = med[t]
            print(f"| {t} | {m['dl_ms']:,.0f} | {m['dl_rt']:,.0f} | {m['rd_ms']:,.0f} | {m['rd_rt']:,.0f} |")
    if "before" in med:
        b, f = med["before"], med["after"]
        print(
            f"| after/before | {f['dl_ms'] / b['dl_ms']:.3f} | {f['dl_rt'] / b['dl_rt']:.3f} "
            f"| {f['rd_ms'] / b['rd_ms']:.3f} | {f['rd_rt'] / b['rd_rt']:.3f} |"
        )
    print(json.dumps({"entries": a.entries, "loadavg": load[0], "median": med}))


if __name__ == "__main__":
    main()
