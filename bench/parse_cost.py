"""Per-stream client cost of a first read's summaries: the parse and the history's first samples.

Issue 28 (30,000 streams over a cluster): the first read is CPU on one event loop, one node's
replies after the other. This replays one real stream's XINFO STREAM and XINFO GROUPS replies (as
hiredis hands them over, RESP2) N times, for `main`'s code and this checkout in child processes in
one run, and times what a collector and the history do with a summary: `parse` (XINFO STREAM and
GROUPS into a StreamInfo with its GroupInfos, as `Collector._parse_stream` does for a stream off
screen, the digest included) and `history` (the first samples, health windows and verdict counts
of those streams, `History.update`), with the cyclic GC as the poll has it (paused inside
`GC_PAUSE`, on outside it for the code that does not pause it). Best of `--reps` runs, µs a stream.

    python bench/parse_cost.py [--streams 30000] [--before main]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]


def child(code: str, replies_file: str, n: int, reps: int) -> dict[str, float]:
    sys.path.insert(0, code)
    import time

    import streamtop

    assert streamtop.__file__.startswith(code), streamtop.__file__
    from streamtop.pipeline import collector as col
    from streamtop.pipeline.history import History
    from streamtop.pipeline.model import Snapshot

    stream_reply, groups_reply = pickle.loads(Path(replies_file).read_bytes())
    keys = [f"bench:s:{i:06d}".encode() for i in range(n)]  # common.stream_key
    c = col.Collector.__new__(col.Collector)  # its parse alone: no client, no server
    c._summaries, c._shown, c._last, c._heavy = {}, {}, {}, {}
    c._polled_at, c.node, c.patterns, c.explicit = 0.0, "127.0.0.1:7000", (), ()
    ask = [col._StreamAsk(k, col.SUMMARY, None, 1, {}, slice(0, 2)) for k in keys]
    own = [stream_reply, groups_reply]
    monitor_pauses = "GC_PAUSE" in Path(code, "streamtop/monitor.py").read_text()

    def parse() -> list:
        c._summaries.clear()
        with col.GC_PAUSE:
            return [c._parse_stream(a, own, 0.0, 0.0)[0].finish() for a in ask]

    best_parse = best_history = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        streams = parse()
        best_parse = min(best_parse, time.perf_counter() - t0)
        snap = Snapshot(streams=tuple(streams))
        h = History()
        t0 = time.perf_counter()
        if monitor_pauses:
            with col.GC_PAUSE:
                h.update(snap)
        else:
            h.update(snap)
        h.verdict_counts()
        best_history = min(best_history, time.perf_counter() - t0)
        del h, snap, streams
    return {"parse_us": 1e6 * best_parse / n, "history_us": 1e6 * best_history / n}


def export(ref: str, into: str) -> str:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    os.makedirs(into, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return into


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--streams", type=int, default=30_000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--before", default="main")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:  # before `common`, which imports this checkout's streamtop
        print(json.dumps(child(a.child[0], a.child[1], a.streams, a.reps)))
        return
    sys.path.insert(0, str(HERE.parent))
    from common import embedded_server, populate, sync_client

    with embedded_server() as srv, tempfile.TemporaryDirectory(prefix="streamtop-parse-") as tmp:
        populate(sync_client(srv), 0, 1)
        Path(tmp, "replies").write_bytes(pickle.dumps(_raw(srv)))
        before = export(a.before, os.path.join(tmp, "before"))
        rows = []
        load = os.getloadavg()[0]
        for name, code in ((f"before ({a.before})", before), ("after", str(ROOT))):
            cmd = [sys.executable, str(HERE), "--streams", str(a.streams), "--reps", str(a.reps)]
            out = subprocess.run(
                cmd + ["--child", code, str(Path(tmp, "replies"))], capture_output=True, text=True, check=True
            )
            got = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append((name, got))
    what = f"{a.streams:,} summaries (10 entries, 2 groups x 2 consumers), best of {a.reps}"
    print(f"{what}; load average {load:.2f} -> {os.getloadavg()[0]:.2f}\n")
    print("| code | parse, µs a stream | history's first samples, µs a stream | both |")
    print("|---|---|---|---|")
    for name, got in rows:
        both = got["parse_us"] + got["history_us"]
        print(f"| {name} | {got['parse_us']:.1f} | {got['history_us']:.1f} | {both:.1f} |")


def _raw(srv) -> list:  # type: ignore[no-untyped-def]
    """The two replies as the collector's connection gets them (execute_raw: no redis-py parsing)."""
    import redis as redis_mod
    from common import stream_key

    r = redis_mod.Redis(host=srv.host, port=srv.port, protocol=2)
    conn = r.connection_pool.get_connection()
    try:
        out = []
        for args in (("XINFO", "STREAM", stream_key(0)), ("XINFO", "GROUPS", stream_key(0))):
            conn.send_command(*args)
            out.append(conn.read_response(disable_decoding=True))
        return out
    finally:
        r.connection_pool.release(conn)
        r.close()


if __name__ == "__main__":
    main()
