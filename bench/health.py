"""What the health verdicts cost a poll: a pass over every group's window (health.judge, as History
did) against the facts kept poll by poll (health.RunningWindow, as History does now), side by side.

Pure CPU, no server: the verdict work has no I/O. Each group gets a synthetic timeline of polls of
one of five shapes (reading and catching up, falling behind, stalled, stuck with the same entry at
the head of the PEL, idle), so the verdicts take their different paths. Both ways hold the same
polls, trimmed to the window as History trims them; each timed poll appends one poll per group and
asks every group's verdict, alternating old and new poll by poll so drift on a shared machine hits
both alike. The verdicts of the two ways are compared at every poll (they must never differ).

    python bench/health.py [--groups 2000] [--polls 20] [--intervals 1,0.1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import deque
from typing import Any

from streamtop.pipeline.health import GroupSample, RunningWindow, judge

WINDOW = 60.0
T0 = 1_800_000_000.0
SHAPES = ("catching_up", "falling_behind", "stalled", "stuck", "idle")


def poll_of(shape: str, i: int, dt: float, g: int) -> GroupSample:
    """Poll `i` of group `g` (shape by group), `dt` seconds apart."""
    t = T0 + i * dt
    if shape == "catching_up":
        pos, last = 1000 + 12 * i, 1500 + 10 * i
    elif shape == "falling_behind":
        pos, last = 1000 + 8 * i, 1000 + 10 * i
    elif shape == "stalled":
        pos, last = 1000, 1000 + 5 * i + 1
    elif shape == "stuck":
        pos, last = 1000 + 10 * i, 1000 + 10 * i
    else:
        pos, last = 1000, 1000
    lag = last - pos
    return GroupSample(
        t=t,
        position=(pos, 0),
        last_id=(last, 0),
        entries_read=pos,
        added=last,
        length=last,
        lag=lag,
        behind=lag > 0,
        time_lag_ms=lag * 10,
        pending=3 if shape == "stuck" else 0,
        oldest_pending_id=f"{900 + g}-0" if shape == "stuck" else None,
        oldest_pending_idle_ms=5_000 if shape == "stuck" else None,
        consumers=2,
        seen_ms=200,
        read_ago_ms=None,
    )


def trim(kept: Any, t: float) -> None:
    """As History._add_sample: the window's polls and the one just before them."""
    while len(kept) > 2 and kept[1].t <= t - WINDOW:
        kept.popleft()


def measure(groups: int, dt: float, polls: int) -> dict[str, Any]:
    shapes = [SHAPES[g % len(SHAPES)] for g in range(groups)]
    old: list[deque[GroupSample]] = [deque() for _ in range(groups)]
    new = [RunningWindow(4096) for _ in range(groups)]
    filled = int(WINDOW / dt) + 2
    for i in range(filled):
        for g in range(groups):
            s = poll_of(shapes[g], i, dt, g)
            old[g].append(s)
            trim(old[g], s.t)
            new[g].append(s)
            trim(new[g], s.t)
    times: dict[str, list[float]] = {"old": [], "new": []}
    mismatches = 0
    for step in range(polls):
        i = filled + step
        batch = [poll_of(shapes[g], i, dt, g) for g in range(groups)]  # not timed
        verdicts: dict[str, list[Any]] = {}
        for way in ("old", "new") if step % 2 == 0 else ("new", "old"):
            t0 = time.perf_counter()
            if way == "old":
                for g, s in enumerate(batch):
                    old[g].append(s)
                    trim(old[g], s.t)
                verdicts[way] = [judge(d, WINDOW, reset_free=True) for d in old]
            else:
                for g, s in enumerate(batch):
                    new[g].append(s)
                    trim(new[g], s.t)
                verdicts[way] = [w.judge(WINDOW) for w in new]
            times[way].append((time.perf_counter() - t0) * 1000)
        mismatches += sum(a != b for a, b in zip(verdicts["old"], verdicts["new"], strict=True))
    counts: dict[str, int] = {}
    for h in verdicts["new"]:
        counts[h.verdict.value] = counts.get(h.verdict.value, 0) + 1
    return {
        "groups": groups,
        "interval_s": dt,
        "window_polls": len(old[0]),
        "polls": polls,
        "old_ms": statistics.median(times["old"]),
        "new_ms": statistics.median(times["new"]),
        "mismatches": mismatches,
        "verdicts": counts,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=2000)
    ap.add_argument("--polls", type=int, default=20, help="timed polls per way")
    ap.add_argument("--intervals", default="1,0.1", help="seconds between polls, comma-separated")
    args = ap.parse_args()
    rows = [measure(args.groups, float(dt), args.polls) for dt in args.intervals.split(",")]
    print(f"health verdicts for every group, per poll (median of {args.polls}, alternating)")
    print(
        f"{'groups':>7}{'interval':>10}{'polls in window':>17}{'pass (old) ms':>15}"
        f"{'running (new) ms':>18}{'old/new':>9}{'differ':>8}"
    )
    for m in rows:
        print(
            f"{m['groups']:>7}{m['interval_s']:>9g}s{m['window_polls']:>17}{m['old_ms']:>15.1f}"
            f"{m['new_ms']:>18.1f}{m['old_ms'] / m['new_ms']:>8.1f}x{m['mismatches']:>8}"
        )
    print("verdicts:", ", ".join(f"{k} {v}" for k, v in sorted(rows[-1]["verdicts"].items())))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
