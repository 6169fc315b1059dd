"""The cost of 1,000 rows going stale at once: a cluster node dies under a fresh dashboard.

A headless StreamtopApp (no server: constructed snapshots, as the UI tests do) shows a 3,000-stream
cluster snapshot over 3 nodes; then the snapshot in which one node's 1,000 streams are stale is
applied, and the time is taken until the app is idle again (apply_snapshot, then Textual's own
deferred work: the column widths it measures on idle, and a repaint). The same back to live.
Issue 19 measured a 65 s freeze here when the stale mark made every key cell wider.

    python bench/stale_apply.py [--streams 3000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streamtop.monitor import Monitor
from streamtop.pipeline.model import GroupInfo, Lag, LagSource, NodeStatus, ServerInfo, Snapshot, StreamInfo  # noqa: E402
from streamtop.pipeline.source import ListSource
from streamtop.ui.app import StreamtopApp  # noqa: E402

NODES = ("127.0.0.1:30001", "127.0.0.1:30002", "127.0.0.1:30003")


def snapshot(n: int, stale_node: str | None) -> Snapshot:
    streams = []
    for i in range(n):
        node = NODES[i % 3]
        group = GroupInfo(b"g", 1, i % 5, f"{i}-0", i, Lag(LagSource.EXACT, i % 7))
        streams.append(
            StreamInfo(
                key=f"ev:{i}".encode(),
                length=i,
                last_entry_id=f"{i}-0",
                groups=(group,),
                node=node,
                stale=node == stale_node,
            )
        )
    streams.sort(key=lambda s: s.key)
    nodes = tuple(
        NodeStatus(
            a, ok=a != stale_node, error=None if a != stale_node else "refused", streams=n // 3, slots=5461
        )
        for a in NODES
    )
    return Snapshot(
        server=ServerInfo("valkey", "9.1.2", (7, 2, 4), "cluster"), streams=tuple(streams), nodes=nodes
    )


async def measure(n: int, repeat: int) -> dict[str, list[float]]:
    live, stale = snapshot(n, None), snapshot(n, NODES[1])
    out: dict[str, list[float]] = {"to_stale_s": [], "back_to_live_s": []}
    for _ in range(repeat):
        app = StreamtopApp(Monitor.on(ListSource()))
        async with app.run_test(size=(200, 60)) as pilot:
            app.apply_snapshot(live)
            await pilot.pause()
            await pilot.pause()
            for name, snap in (("to_stale_s", stale), ("back_to_live_s", live)):
                snap = dataclasses.replace(snap, taken_at=time.time())
                t0 = time.perf_counter()
                app.apply_snapshot(snap)
                await pilot.pause()  # Textual's deferred work (column widths on idle) and a repaint
                out[name].append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    res = asyncio.run(measure(args.streams, args.repeat))
    for name, values in res.items():
        print(
            f"{name}: median {statistics.median(values):.3f} s, max {max(values):.3f} s "
            f"({args.streams} streams, 1/3 going stale; {len(values)} runs)"
        )
    print(json.dumps({k: round(statistics.median(v), 4) for k, v in res.items()}))


if __name__ == "__main__":
    main()
