"""Issue 19's closing figures: a dashboard on a real cluster when a primary dies or hangs.

A. SIGKILL: a fresh headless StreamtopApp over a real Monitor (1 s interval) on a Valkey 9.1 cluster
   of 3 primaries + 3 replicas (node timeout 2 s) with 3,000 streams. Once all 3,000 rows are on
   screen one primary is killed; measured: the time until its rows are marked stale in the streams
   table, and until they are shown live again from the promoted replica.
B. SIGSTOP: the same on 3 primaries without replicas (cluster-require-full-coverage no, so the
   others keep serving); one primary is stopped for --stop seconds. Measured: the longest time the
   other nodes' rows went without an update (between two snapshots applied with their streams
   live), and the time until the hung node is shown as not answering.

C. Reshard (issue 28): 3 primaries, --slots hash slots of the third moved to the first key by key
   (SETSLOT IMPORTING/MIGRATING, one MIGRATE per key, SETSLOT NODE), while a ClusterCollector (the
   dashboard's) polls every 0.25 s. Measured per poll: streams shown, keys shown twice, rows with
   an error (MOVED/ASK/no such key).

    python bench/cluster_faults.py [--streams 3000] [--stop 8] [--slots 500] [--parts kill,stop,reshard]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402

from streamtop.embedded import ClusterProcess  # noqa: E402
from streamtop.monitor import Monitor  # noqa: E402
from streamtop.options import PollOptions, SessionOptions  # noqa: E402
from streamtop.pipeline.connection import parse_url  # noqa: E402
from streamtop.ui.app import StreamtopApp  # noqa: E402

SIZE = (200, 60)


def populate(c: ClusterProcess, n: int) -> redis.RedisCluster:
    rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
    pipe = rc.pipeline()
    for i in range(n):
        pipe.xadd(f"ev:{i}", {"n": i})
    pipe.execute()
    return rc


def stale_cell(app: StreamtopApp, key: bytes) -> bool:
    cells = app.w("streams-table").cells(key.hex())
    if cells is None:
        return False
    plain = [getattr(cell, "plain", str(cell)) for cell in cells]
    return plain[2] == "stale" or "(stale:" in plain[0]  # now / before issue 19 (a wider key)


async def wait(pilot: Any, cond: Any, timeout: float) -> float | None:
    """Seconds until cond() holds (polled every 20 ms), None after timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return time.monotonic() - t0
        await pilot.pause(0.02)
    return None


async def sigkill(n: int) -> dict[str, Any]:
    c = ClusterProcess().start(replicas=1)
    try:
        rc = populate(c, n)
        for primary in rc.get_primaries():
            rc.execute_command("WAIT", 1, 10_000, target_nodes=primary)
        victim = c.nodes[1]
        addr = f"127.0.0.1:{victim.port}"
        victim_keys = [
            f"ev:{i}".encode() for i in range(n) if rc.get_node_from_key(f"ev:{i}").port == victim.port
        ]
        rc.close()
        poll = PollOptions(max_streams=n + 100)
        monitor = Monitor(parse_url(c.url), SessionOptions(poll=poll, interval=1.0, follow_screen=True))
        app = StreamtopApp(monitor)
        async with app.run_test(size=SIZE) as pilot:
            shown = await wait(pilot, lambda: len(app.w("streams-table").row_keys) == n, 60)
            probe = victim_keys[len(victim_keys) // 2]
            t0 = time.monotonic()
            victim.process.kill()
            to_stale = await wait(pilot, lambda: stale_cell(app, probe), 60)

            def promoted() -> bool:
                snap = app.snapshot
                s = snap.stream(probe) if snap else None
                return bool(
                    s
                    and not s.stale
                    and s.node != addr
                    and not stale_cell(app, probe)
                    and not any(x.stale for x in snap.streams)
                )

            await wait(pilot, promoted, 60)
            to_promoted = time.monotonic() - t0 if promoted() else None
        return {
            "streams": n,
            "victim_streams": len(victim_keys),
            "first_screen_s": shown,
            "kill_to_stale_s": to_stale,
            "kill_to_promoted_s": to_promoted,
        }
    finally:
        c.cleanup()


async def sigstop(n: int, stop_for: float) -> dict[str, Any]:
    c = ClusterProcess().start()
    victim = c.nodes[1]
    try:
        rc = populate(c, n)
        for node in c.nodes:
            r = redis.Redis(host="127.0.0.1", port=node.port)
            r.config_set("cluster-require-full-coverage", "no")
            r.close()
        addr = f"127.0.0.1:{victim.port}"
        rc.close()
        poll = PollOptions(max_streams=n + 100)
        monitor = Monitor(parse_url(c.url), SessionOptions(poll=poll, interval=1.0, follow_screen=True))
        app = StreamtopApp(monitor)
        applied: list[float] = []
        original = app.apply_snapshot

        polled: set[float] = set()

        def recording(snap: Any) -> None:
            original(snap)
            if snap.taken_at in polled:  # the same poll again, aged by the tick while frozen
                return
            polled.add(snap.taken_at)
            others = [s for s in snap.streams if s.node != addr]
            if others and not any(s.stale or s.error for s in others):
                applied.append(time.monotonic())

        app.apply_snapshot = recording  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            await wait(pilot, lambda: len(app.w("streams-table").row_keys) == n, 60)
            await pilot.pause(2.5)
            t0 = time.monotonic()
            os.kill(victim.process.pid, signal.SIGSTOP)
            try:

                def hung() -> bool:
                    snap = app.snapshot
                    return bool(
                        snap
                        and any(  # before issue 19: no such field, never shown
                            x.address == addr and getattr(x, "not_answering_for", None) is not None
                            for x in snap.nodes
                        )
                    )

                to_hung = await wait(pilot, hung, stop_for)
                await pilot.pause(max(0.0, stop_for - (time.monotonic() - t0)))
            finally:
                os.kill(victim.process.pid, signal.SIGCONT)
            t1 = time.monotonic()
            window = [t for t in applied if t0 - 2 <= t <= t1]
            gaps = [b - a for a, b in zip(window, window[1:], strict=False)]
            gaps.append(t1 - window[-1] if window else stop_for)
        return {
            "stopped_s": stop_for,
            "others_max_gap_s": round(max(gaps), 3),
            "others_updates_while_stopped": len([t for t in applied if t0 <= t <= t1]),
            "stop_to_not_answering_s": to_hung,
        }
    finally:
        with_cont(victim)
        c.cleanup()


def _reshard(c: ClusterProcess, slots: list[int]) -> None:
    """Move `slots` from the third primary to the first, key by key."""
    clients = [redis.Redis(host=n.host, port=n.port) for n in c.nodes]
    try:
        ids = [cl.execute_command("CLUSTER", "MYID").decode() for cl in clients]
        source, target = clients[2], clients[0]
        for slot in slots:
            target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[2])
            source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[0])
            for key in source.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000):
                source.execute_command("MIGRATE", c.nodes[0].host, c.nodes[0].port, "", 0, 5000, "KEYS", key)
            for cl in clients:
                cl.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[0])
    finally:
        for cl in clients:
            cl.close()


async def reshard(n: int, slots: int) -> dict[str, Any]:
    from streamtop.pipeline.cluster import ClusterCollector
    from streamtop.pipeline.connection import build_spec, connect

    c = ClusterProcess().start()
    try:
        rc = populate(c, n)
        rc.close()
        first = 16384 // 3 * 2
        spec = build_spec(url=c.url, cluster=True)
        client, info = await connect(spec)
        await client.aclose()
        col = ClusterCollector(spec, info, (), PollOptions(max_streams=2 * n))
        counts, doubles, errors = [], 0, 0
        try:
            await col.poll()
            mover = asyncio.ensure_future(asyncio.to_thread(_reshard, c, list(range(first, first + slots))))
            t0 = time.monotonic()
            while not mover.done():
                snap = await col.poll()
                keys = [s.key for s in snap.streams]
                counts.append(len(set(keys)))
                doubles += len(keys) - len(set(keys))
                errors += sum(1 for s in snap.streams if s.error)
                await asyncio.sleep(0.25)
            await mover
            took = time.monotonic() - t0
        finally:
            await col.aclose()
        short = [x for x in counts if x < n]
        return {
            "streams": n,
            "slots_moved": slots,
            "reshard_s": round(took, 1),
            "polls": len(counts),
            "polls_short": len(short),
            "largest_dip": n - min(counts) if counts else None,
            "shown_twice": doubles,
            "error_rows": errors,
        }
    finally:
        c.cleanup()


def with_cont(node: Any) -> None:
    if node.process is not None and node.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(node.process.pid, signal.SIGCONT)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=3000)
    ap.add_argument("--stop", type=float, default=8.0)
    ap.add_argument("--slots", type=int, default=500)
    ap.add_argument("--parts", default="kill,stop")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    if "kill" in args.parts:
        out["sigkill"] = asyncio.run(sigkill(args.streams))
        print("SIGKILL of a primary:", out["sigkill"], flush=True)
    if "stop" in args.parts:
        out["sigstop"] = asyncio.run(sigstop(args.streams, args.stop))
        print("SIGSTOP of a primary:", out["sigstop"], flush=True)
    if "reshard" in args.parts:
        out["reshard"] = asyncio.run(reshard(args.streams, args.slots))
        print("Reshard under polls:", out["reshard"], flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
