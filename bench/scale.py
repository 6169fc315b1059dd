"""The dashboard at 1,000 to 100,000 streams (issue 29), before and after, side by side.

For each size N (`--sizes`, default 1000,10000,20000,100000; streams of 10 entries, 2 groups x 2
consumers, 4 pending per group, made with pipelined XADDs on a private Valkey 9.1), two codes run
the same measurement in a child process each: `before` (the code of a git ref, default `main`,
exported with `git archive` into a temp dir: read-only, no worktree) and `after` (this checkout).
The child is the real `StreamtopApp` over a real `Monitor`, headless, `--interval 1`, the default
layout at 160x45:

- first rows: seconds from start until the table shows a stream; first screen: until it shows all N;
  LIVE: until the badge first says LIVE (the dashboard's first scan has ended);
- apply: every `apply_snapshot` timed (max and median), and the longest event-loop stall (10 ms
  heartbeat);
- NOT ANSWERING: how many header samples (4 a second) said so, on a server that always answers;
- RSS at the end and peak (ru_maxrss), CPU % of a core over the last `--window` seconds.

Then `streamtop status --json` on the same N: wall time and peak RSS (os.wait4), before and after.
A child that has not shown the first screen after `--cap` seconds is stopped and says so.

    python bench/scale.py [--sizes 1000,10000] [--seconds 40] [--window 20] [--before main]
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
    _p.add_argument("--seconds", type=float, default=40)
    _p.add_argument("--window", type=float, default=20)
    _p.add_argument("--cap", type=float, default=180)
    _a = _p.parse_args()
    sys.path.insert(0, _a.code)


async def child(code: str, url: str, n: int, seconds: float, window: float, cap: float) -> dict:
    import asyncio
    import resource
    import statistics
    import time

    import psutil

    from streamtop.monitor import Monitor
    from streamtop.options import PollOptions, SessionOptions
    from streamtop.pipeline.connection import build_spec
    from streamtop.ui.app import StreamtopApp

    spec = build_spec(url=url, env={})
    poll = PollOptions(max_streams=n + 100)
    options = SessionOptions(targets=("bench:s:*",), poll=poll, interval=1.0, follow_screen=True)
    monitor = Monitor(spec, options)
    app = StreamtopApp(monitor)
    applies: list[float] = []
    first_rows: float | None = None
    first_screen: float | None = None
    start = time.monotonic()
    real_apply = app.apply_snapshot

    def apply_snapshot(snapshot):  # type: ignore[no-untyped-def]
        nonlocal first_rows, first_screen
        t0 = time.perf_counter()
        real_apply(snapshot)
        applies.append((time.perf_counter() - t0) * 1000)
        shown = len(snapshot.streams)
        now = time.monotonic() - start
        if shown and first_rows is None:
            first_rows = now
        if shown >= n and first_screen is None:
            first_screen = now

    app.apply_snapshot = apply_snapshot  # type: ignore[method-assign]
    stall = [0.0]
    states: dict[str, int] = {}
    live_at: list[float | None] = [None]  # when the badge first said LIVE (after the first scan)

    async def heartbeat() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            stall[0] = max(stall[0], (now - last - 0.01) * 1000)
            last = now

    async def sample_states() -> None:
        while True:
            await asyncio.sleep(0.25)
            state = app.header_info().state
            states[state] = states.get(state, 0) + 1
            if state == "live" and live_at[0] is None:
                live_at[0] = time.monotonic() - start

    proc = psutil.Process()
    out: dict = {"n": n}
    async with app.run_test(size=(160, 45)) as pilot:
        beat = asyncio.ensure_future(heartbeat())
        sampler = asyncio.ensure_future(sample_states())
        while first_screen is None and time.monotonic() - start < cap:
            await pilot.pause(0.1)
        if first_screen is not None:
            await pilot.pause(max(0.0, seconds - window))
            cpu0, t0 = proc.cpu_times(), time.monotonic()
            await pilot.pause(window)
            cpu1, t1 = proc.cpu_times(), time.monotonic()
            busy = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
            out["cpu_pct"] = round(100 * busy / (t1 - t0), 1)
        beat.cancel()
        sampler.cancel()
        out["rss_mb"] = round(proc.memory_info().rss / 2**20)
    out.update(
        first_rows_s=None if first_rows is None else round(first_rows, 1),
        first_screen_s=None if first_screen is None else round(first_screen, 1),
        live_s=None if live_at[0] is None else round(live_at[0], 1),
        capped=first_screen is None,
        applies=len(applies),
        max_apply_ms=round(max(applies), 1) if applies else None,
        median_apply_ms=round(statistics.median(applies), 1) if applies else None,
        max_stall_ms=round(stall[0]),
        not_answering_samples=states.get("not answering", 0),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    )
    return out


if __name__ == "__main__" and "--child" in sys.argv:
    import asyncio as _asyncio
    import json as _json

    print(_json.dumps(_asyncio.run(child(_a.code, _a.url, _a.n, _a.seconds, _a.window, _a.cap))), flush=True)
    sys.exit(0)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from common import before_and_after, embedded_server, grow_to_sizes, sync_client  # noqa: E402

HERE = Path(__file__).resolve()


def run_child(code: str, url: str, n: int, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, str(HERE), "--child", "--code", code, "--url", url, "--n", str(n)]
    cmd += ["--seconds", str(args.seconds), "--window", str(args.window), "--cap", str(args.cap)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.cap + args.seconds + 120)
    except subprocess.TimeoutExpired:
        return {"n": n, "error": "timed out"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"n": n, "error": (done.stderr.strip().splitlines() or ["no output"])[-1][:200]}
    return json.loads(lines[-1])


def run_status(code: str, url: str, n: int) -> dict:
    """`streamtop status --json` to /dev/null: wall time and the peak RSS of that process alone."""
    script = f"import sys; sys.path.insert(0, {code!r}); from streamtop.cli import main; sys.exit(main())"
    argv = [sys.executable, "-c", script, "status", "--json", "--url", url]
    argv += ["--max-streams", str(n + 100), "bench:s:*"]
    t0 = time.monotonic()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "n": n,
        "wall_s": round(time.monotonic() - t0, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "exit": proc.returncode,
    }


def cell(d: dict, key: str, unit: str = "") -> str:
    if "error" in d:
        return "error"
    v = d.get(key)
    if v is None:
        return f"> {d.get('cap', '')}s" if key == "first_screen_s" and d.get("capped") else "n/a"
    return f"{v:,}{unit}" if isinstance(v, int) else f"{v}{unit}"


HEAD = (
    "streams",
    "code",
    "first rows",
    "first screen",
    "LIVE",
    "max apply",
    "median apply",
    "max stall",
    "NOT ANSWERING samples",
    "RSS",
    "peak RSS",
    "CPU",
    "status --json",
    "status peak RSS",
)


def table(results: list[dict]) -> str:
    """The Markdown table of docs/benchmarks.md."""
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for d in results:
        st = d.get("status", {})
        row = [
            f"{d['n']:,}",
            d["code"],
            cell(d, "first_rows_s", " s"),
            cell(d, "first_screen_s", " s"),
            cell(d, "live_s", " s"),
            cell(d, "max_apply_ms", " ms"),
            cell(d, "median_apply_ms", " ms"),
            cell(d, "max_stall_ms", " ms"),
            cell(d, "not_answering_samples"),
            cell(d, "rss_mb", " MB"),
            cell(d, "peak_rss_mb", " MB"),
            cell(d, "cpu_pct", " %"),
            cell(st, "wall_s", " s") if st else "",
            cell(st, "peak_rss_mb", " MB") if st else "",
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000,20000,100000")
    p.add_argument("--seconds", type=float, default=40, help="after the first screen")
    p.add_argument("--window", type=float, default=20, help="CPU measured over the last seconds")
    p.add_argument("--cap", type=float, default=180, help="seconds to wait for the first screen")
    p.add_argument("--before", default="main", help="git ref of the code to compare with")
    p.add_argument("--no-before", action="store_true")
    p.add_argument("--after", default="", help="git ref for `after` (default: this checkout as it is)")
    p.add_argument("--no-after", action="store_true")
    p.add_argument("--no-status", action="store_true")
    args = p.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results: list[dict] = []
    with (
        before_and_after(args.before, args.after, no_before=args.no_before, no_after=args.no_after) as codes,
        embedded_server() as srv,
    ):
        r = sync_client(srv)
        for n in grow_to_sizes(r, sizes):
            for name, code in codes:
                got = run_child(code, srv.url, n, args) | {"code": name, "cap": args.cap}
                if not args.no_status:
                    got["status"] = run_status(code, srv.url, n)
                print(json.dumps(got), flush=True)
                results.append(got)
        r.close()
    print()
    print(table(results))
    print(json.dumps({"scale": results}))


if __name__ == "__main__":
    main()
