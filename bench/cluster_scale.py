"""A dashboard on a cluster of 30,000 streams (issue 28, item 6), before and after, side by side.

For each code (`before`: a git ref, default `main`, exported with `git archive`; `after`: this
checkout) a fresh Valkey 9.1 cluster of 3 primaries + 3 replicas (node timeout 2 s) gets --streams
streams (10 entries, 2 groups x 2 consumers, 4 pending per group, as bench/scale.py), and a child
process runs the real `StreamtopApp` over a real `Monitor`, headless, `--interval 1`, 160x45:

- first rows / first screen / LIVE: seconds from start until the table shows a stream, all of
  them, and until the badge first says LIVE;
- client CPU % of a core and RSS over --window seconds once the first screen is up; the primaries'
  CPU over the same window (INFO cpu, user + sys, summed over the 3 primaries, % of a core);
- a primary killed (SIGKILL): when a snapshot first shows its rows stale or missing ("kill to rows
  stale"; the table is whole until a poll sees the node gone, and a whole table before that is no
  heal), then until its replica is promoted and every row is live again ("kill to healed"), the
  longest gap between two snapshots applied (the healthy nodes' rows updating every interval or
  not) and the badge sampled 4 times a second: LIVE while the table lacks rows or shows stale
  ones is the defect.

    python bench/cluster_scale.py [--streams 30000] [--window 20] [--cap 120] [--before main]
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and "--child" in sys.argv:  # the measured process: its own streamtop
    import argparse as _argparse

    _p = _argparse.ArgumentParser()
    _p.add_argument("--child", action="store_true")
    _p.add_argument("--code", required=True)
    _p.add_argument("--url", required=True)
    _p.add_argument("--n", type=int, required=True)
    _p.add_argument("--primaries", required=True)  # host:port,... the primaries, first one killed
    _p.add_argument("--victim-pid", type=int, required=True)
    _p.add_argument("--window", type=float, default=20)
    _p.add_argument("--cap", type=float, default=120)
    _p.add_argument("--no-kill", action="store_true")
    _a = _p.parse_args()
    sys.path.insert(0, _a.code)


def primaries_cpu(addrs: list[str]) -> float:
    """Seconds of CPU (user + sys) the primaries have used, summed."""
    import redis

    total = 0.0
    for addr in addrs:
        host, port = addr.rsplit(":", 1)
        r = redis.Redis(host=host, port=int(port), socket_timeout=5)
        try:
            info = r.info("cpu")
            total += float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        finally:
            r.close()
    return total


async def child(a) -> dict:  # type: ignore[no-untyped-def]
    import asyncio
    import os
    import signal
    import time

    import psutil

    from streamtop.monitor import Monitor
    from streamtop.options import PollOptions, SessionOptions
    from streamtop.pipeline.connection import parse_url
    from streamtop.ui.app import StreamtopApp

    n = a.n
    addrs = a.primaries.split(",")
    poll = PollOptions(max_streams=n + 100)
    options = SessionOptions(targets=("bench:s:*",), poll=poll, interval=1.0, follow_screen=True)
    app = StreamtopApp(Monitor(parse_url(a.url), options))
    start = time.monotonic()
    marks: dict[str, float] = {}
    applied: list[tuple[float, int, int]] = []  # (when, streams, stale rows)
    real_apply = app.apply_snapshot

    def apply_snapshot(snapshot):  # type: ignore[no-untyped-def]
        real_apply(snapshot)
        now = time.monotonic() - start
        shown = len(snapshot.streams)
        applied.append((now, shown, sum(1 for s in snapshot.streams if s.stale)))
        if shown:
            marks.setdefault("first_rows_s", now)
        if shown >= n:
            marks.setdefault("first_screen_s", now)

    app.apply_snapshot = apply_snapshot  # type: ignore[method-assign]
    states: list[tuple[float, str, bool]] = []  # (when, badge, rows missing or stale in the table)

    async def sample_states() -> None:
        while True:
            await asyncio.sleep(0.25)
            info = app.header_info()
            rows_missing = bool(applied) and (applied[-1][1] < n or applied[-1][2] > 0)
            states.append((time.monotonic() - start, info.state, rows_missing))
            if info.state == "live":
                marks.setdefault("live_s", time.monotonic() - start)

    proc = psutil.Process()
    out: dict = {"n": n}
    async with app.run_test(size=(160, 45)) as pilot:
        sampler = asyncio.ensure_future(sample_states())
        while ("first_screen_s" not in marks or "live_s" not in marks) and time.monotonic() - start < a.cap:
            await pilot.pause(0.1)
        if "first_screen_s" in marks:
            await pilot.pause(5)  # past the first screen's own work
            cpu0, srv0, t0 = proc.cpu_times(), primaries_cpu(addrs), time.monotonic()
            await pilot.pause(a.window)
            cpu1, srv1, t1 = proc.cpu_times(), primaries_cpu(addrs), time.monotonic()
            busy = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
            out["cpu_pct"] = round(100 * busy / (t1 - t0), 1)
            out["primaries_cpu_pct"] = round(100 * (srv1 - srv0) / (t1 - t0), 1)
            out["rss_mb"] = round(proc.memory_info().rss / 2**20)
            if not a.no_kill:
                killed = time.monotonic() - start
                os.kill(a.victim_pid, signal.SIGKILL)
                deadline = time.monotonic() + 60
                gone = healed = None
                while time.monotonic() < deadline:
                    await pilot.pause(0.25)
                    if gone is None:  # a poll has seen the node gone: its rows stale or missing
                        gone = next(
                            (t for t, shown, stale in applied if t > killed and (shown < n or stale)), None
                        )
                        continue  # healed only counts once the kill has shown (a whole table before
                        # any poll saw the node gone is not a heal)
                    last = applied[-1]
                    if last[0] > gone and last[1] == n and last[2] == 0 and app.header_info().state == "live":
                        healed = last[0]
                        break
                end = healed if healed is not None else time.monotonic() - start
                during = [t for t, _, _ in applied if killed <= t <= end]
                gaps = [b - x for x, b in zip([killed, *during], [*during, end], strict=True)]
                seen = [(state, missing) for t, state, missing in states if killed < t < end]
                out.update(
                    kill_to_gone_s=None if gone is None else round(gone - killed, 1),
                    kill_to_healed_s=None if healed is None else round(healed - killed, 1),
                    max_gap_while_down_s=round(max(gaps), 2) if gaps else None,
                    badge_samples_while_down=len(seen),
                    # LIVE while the table shown lacks rows or shows stale ones: the defect
                    live_samples_while_down=sum(1 for state, missing in seen if state == "live" and missing),
                    partial_samples_while_down=sum(1 for state, _ in seen if state == "partial"),
                )
        sampler.cancel()
    out.update({k: round(v, 1) for k, v in marks.items()})
    out["capped"] = "first_screen_s" not in marks
    return out


if __name__ == "__main__" and "--child" in sys.argv:
    import asyncio as _asyncio
    import json as _json

    print(_json.dumps(_asyncio.run(child(_a))), flush=True)
    sys.exit(0)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from common import ROOT, cluster_client, embedded_cluster, populate  # noqa: E402

HERE = Path(__file__).resolve()


def export(ref: str, into: str) -> str:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return into


def run(code: str, args: argparse.Namespace) -> dict:
    with embedded_cluster(replicas=1) as cluster:
        rc = cluster_client(cluster)
        t0 = time.monotonic()
        populate(rc, 0, args.streams, chunk=500)
        for primary in rc.get_primaries():
            rc.execute_command("WAIT", 1, 10_000, target_nodes=primary)
        primaries = [f"{p.host}:{p.port}" for p in rc.get_primaries()]
        rc.close()
        ready = time.monotonic() - t0
        victim = next(node for node in cluster.nodes if f"{node.host}:{node.port}" == primaries[0])
        cmd = [
            sys.executable,
            str(HERE),
            "--child",
            "--code",
            code,
            "--url",
            cluster.url,
            "--n",
            str(args.streams),
        ]
        cmd += ["--primaries", ",".join(primaries), "--victim-pid", str(victim.process.pid)]
        cmd += ["--window", str(args.window), "--cap", str(args.cap)]
        if args.no_kill:
            cmd.append("--no-kill")
        load = {"load_start": round(os.getloadavg()[0], 2)}
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.cap + args.window + 180)
        except subprocess.TimeoutExpired:
            return {"n": args.streams, "error": "timed out"} | load
        load["load_end"] = round(os.getloadavg()[0], 2)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if not lines:
            error = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
            return {"n": args.streams, "error": error} | load
        return json.loads(lines[-1]) | {"populate_s": round(ready, 1)} | load


HEAD = (
    ("code", "code", ""),
    ("first rows", "first_rows_s", " s"),
    ("first screen", "first_screen_s", " s"),
    ("LIVE", "live_s", " s"),
    ("client CPU", "cpu_pct", " %"),
    ("RSS", "rss_mb", " MB"),
    ("primaries' CPU", "primaries_cpu_pct", " %"),
    ("kill to rows stale", "kill_to_gone_s", " s"),
    ("kill to healed", "kill_to_healed_s", " s"),
    ("max gap while down", "max_gap_while_down_s", " s"),
    ("badge samples while down: LIVE / PARTIAL / all", "", ""),
    ("load avg (1 min) start / end", "", ""),
)


def table(results: list[dict]) -> str:
    lines = ["| " + " | ".join(h for h, _, _ in HEAD) + " |", "|" + "---|" * len(HEAD)]
    for d in results:
        row = []
        for head, key, unit in HEAD:
            if key == "code":
                row.append(d["code"])
            elif not key:
                counts = ("live_samples_while_down", "partial_samples_while_down", "badge_samples_while_down")
                if head.startswith("load"):
                    counts = ("load_start", "load_end")
                row.append(" / ".join(str(d.get(k, "n/a")) for k in counts))
            elif "error" in d:
                row.append("error")
            else:
                v = d.get(key)
                row.append("n/a" if v is None else f"{v}{unit}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--streams", type=int, default=30_000)
    p.add_argument("--window", type=float, default=20, help="seconds of CPU and RSS measurement")
    p.add_argument("--cap", type=float, default=120, help="seconds to wait for the first screen")
    p.add_argument("--before", default="main", help="git ref of the code to compare with")
    p.add_argument("--no-before", action="store_true")
    p.add_argument("--no-kill", action="store_true")
    args = p.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="streamtop-before-") as tmp:
        codes = [] if args.no_before else [(f"before ({args.before})", export(args.before, tmp))]
        codes.append(("after", str(ROOT)))
        for name, code in codes:
            got = run(code, args) | {"code": name}
            print(json.dumps(got), flush=True)
            results.append(got)
    print(f"\n{args.streams:,} streams, 3 primaries + 3 replicas, --interval 1\n")
    print(table(results))
    print(json.dumps({"cluster_scale": results}))


if __name__ == "__main__":
    main()
