"""Run every benchmark and print one table: figure, target, met. The last line is one JSON object.

    python bench/run.py            # the full run (minutes): the figures of docs/benchmarks.md
    python bench/run.py --quick    # under a minute on 2 cores: smaller sizes, said so in the table
    python bench/run.py --smoke    # seconds: tiny sizes, for the test that the scripts still run

Each part starts its own embedded Valkey 9.1 on a free loopback port and stops it. Full results
(every sample, the machine, the server version) go to bench/results.json (git-ignored).
Figures on a shared machine are noisy; the ratios are measured side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
import common
import poll
import produce
import server_cost
import ui

DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"
PARTS = ("poll", "server", "produce", "ui")


def _plan(mode: str) -> dict[str, Any]:
    """Keyword arguments of each part's run() for a mode."""
    if mode == "smoke":
        return {
            "poll": dict(sizes=(3, 10), reps=2),
            "server": dict(streams=10, big=(2000, 200), polls=2, one_polls=20),
            "produce": dict(events_n=500, walrus_n=100, reps=1),
            "ui": dict(streams=10, idle_s=1.0, presses=2, warm_s=2.0),
        }
    quick = mode == "quick"
    return {
        "poll": dict(quick=quick),
        "server": dict(quick=quick),
        "produce": dict(quick=quick),
        "ui": dict(quick=quick),
    }


def _server_version() -> str:
    with common.embedded_server() as srv:
        r = common.sync_client(srv)
        try:
            return common.server_version(r)
        finally:
            r.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="streamtop benchmarks: one table, then one JSON line")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="under a minute: smaller sizes")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes: checks the scripts run")
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the full results go")
    a = ap.parse_args(argv)
    run_mode = "smoke" if a.smoke else "quick" if a.quick else "full"
    parts = [p.strip() for p in a.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        ap.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    plan = _plan(run_mode)
    runners = {"poll": poll.run, "server": server_cost.run, "produce": produce.run, "ui": ui.run}

    started = time.perf_counter()
    machine = common.machine()
    machine["server"] = _server_version()
    rows: list[common.Row] = []
    headline: dict[str, Any] = {"mode": run_mode}
    detail: dict[str, Any] = {}
    timings: dict[str, float] = {}
    errors: dict[str, str] = {}
    for part in parts:
        t0 = time.perf_counter()
        try:
            res = runners[part](**plan[part])
        except Exception as exc:  # one broken part must not hide the others' figures
            errors[part] = "".join(traceback.format_exception(exc))
            rows.append(
                common.Row(part, "part failed", "error", met=False, note=f"{type(exc).__name__}: {exc}"[:120])
            )
            print(errors[part], file=sys.stderr)
        else:
            rows += res.rows
            headline.update(res.headline)
            detail.update(res.detail)
        timings[part] = round(time.perf_counter() - t0, 2)
    total = time.perf_counter() - started

    judged = [r for r in rows if r.met is not None]
    headline.update(
        targets_met=sum(bool(r.met) for r in judged), targets=len(judged), seconds=round(total, 1)
    )
    results = {
        "mode": run_mode,
        "machine": machine,
        "seconds": round(total, 2),
        "part_seconds": timings,
        "rows": [r.as_dict() for r in rows],
        "headline": headline,
        "detail": detail,
        "errors": errors,
        "command": "python bench/run.py" + {"quick": " --quick", "smoke": " --smoke"}.get(run_mode, ""),
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(results, indent=2, default=str))

    print(
        f"streamtop benchmarks ({run_mode}): {machine['nproc']} x {machine['cpu']}, Python "
        f"{machine['python']}, {machine['server']}, redis-py {machine['redis_py']}, "
        f"load {machine['loadavg_at_start']}, {total:.1f} s"
    )
    common.print_table(rows)
    print(f"targets met: {headline['targets_met']}/{headline['targets']}; full results: {a.out}")
    print(json.dumps(headline))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
