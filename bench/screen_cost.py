"""What watching costs (issue 17): the real dashboard, measured from outside, before and after.

For 1,000 and 10,000 streams (2 groups x 2 consumers each, bench/common.populate) on a private
Valkey 9.1, the real `streamtop` console script runs in tmux at 160x45, `--interval 1`, once with
`--full-poll` (before: every stream in full every poll) and once as it is (after: what is on screen
in full, the rest as summaries within --max-server-load). Side by side in one run:

- server CPU, ms per second: `INFO cpu` (used_cpu_sys + used_cpu_user) deltas over the window;
- dashboard CPU, % of one core: /proc/<pid>/stat utime + stime of the dashboard process;
- the load of the dashboard's own commands from outside (INFO commandstats usec deltas: the bench
  is otherwise alone on the server) against the budget, and what the header says;
- the cadence: the header's "summaries <= N s old";
- how many intervals until a change to a visible stream shows on screen (XADD, then the tmux pane
  read every 20 ms until the row's length moves).

    python bench/screen_cost.py [--quick] [--seconds 20] [--streams 1000,10000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import PartResult, embedded_server, populate, print_table, stream_key, sync_client

from streamtop.cadence import OWN_COMMANDS
from streamtop.options import POLL_DEFAULTS

SIZE = (160, 45)
TICK = os.sysconf("SC_CLK_TCK")
TARGET_SERVER_MS = 30.0  # at 10,000 streams (issue 17)
TARGET_DASHBOARD_PCT = 30.0


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # fields 14 and 15 of stat(5)


def server_cpu_s(r: Any) -> float:
    info = r.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def own_usec(r: Any) -> int:
    """Server usec of the commands a poll sends (INFO included: the bench's own few are noise)."""
    total = 0
    for name, stat in r.info("commandstats").items():
        if name.removeprefix("cmdstat_") in OWN_COMMANDS:
            total += int(stat["usec"])
    return total


class Pane:
    """The dashboard in a tmux session on a private socket: its pid, and its screen as text."""

    def __init__(self, url: str, extra: list[str]) -> None:
        self.socket = f"streamtop-bench-{os.getpid()}"
        command = [sys.executable, "-m", "streamtop", "--url", url, "--max-streams", "20000", *extra]
        self._tmux(
            "new-session",
            "-d",
            "-s",
            "bench",
            "-x",
            str(SIZE[0]),
            "-y",
            str(SIZE[1]),
            "exec " + shlex.join(command),
        )
        self.pid = int(self._tmux("list-panes", "-t", "bench", "-F", "#{pane_pid}").strip())

    def _tmux(self, *args: str) -> str:
        env = {**os.environ, "TERM": "xterm-256color"}
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=env)
        return out.stdout

    def screen(self) -> list[str]:
        return self._tmux("capture-pane", "-p", "-t", "bench").splitlines()

    def header(self) -> str:
        lines = self.screen()
        return lines[0] if lines else ""

    def row_length(self, key: bytes) -> int | None:
        """The length column of a stream's row, when the row is on screen."""
        label = key.decode()
        for line in self.screen():
            if label in line:
                tail = line.split(label, 1)[1].split()
                with contextlib.suppress(ValueError, IndexError):
                    return int(tail[0].replace(",", ""))
        return None

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 15)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and os.path.exists(f"/proc/{self.pid}"):
            time.sleep(0.05)
        self._tmux("kill-session", "-t", "bench")


@contextlib.contextmanager
def dashboard(url: str, extra: list[str]) -> Iterator[Pane]:
    pane = Pane(url, extra)
    try:
        yield pane
    finally:
        pane.close()


def wait_live(pane: Pane, streams: int, timeout: float = 120.0) -> float:
    """Seconds until the header says LIVE with every stream found."""
    t0 = time.monotonic()
    want = f"{streams:,} streams" if streams >= 1000 else f"{streams} streams"
    while time.monotonic() - t0 < timeout:
        head = pane.header()
        if "LIVE" in head and (want in head or f"{streams} stream" in head):
            return time.monotonic() - t0
        time.sleep(0.2)
    raise RuntimeError(f"the dashboard did not come up: {pane.header()!r}")


def change_latency(pane: Pane, r: Any, key: bytes, interval: float, timeout: float = 10.0) -> float | None:
    """Intervals from an XADD to a visible stream until its row shows the new length."""
    before = pane.row_length(key)
    if before is None:
        return None
    r.xadd(key, {b"bench": b"change"})
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pane.row_length(key) == before + 1:
            return (time.monotonic() - t0) / interval
        time.sleep(0.02)
    return None


def measure(srv: Any, r: Any, streams: int, mode: str, seconds: float, warm: float) -> dict[str, Any]:
    extra = ["--interval", "1"] + (["--full-poll"] if mode == "before" else [])
    with dashboard(srv.url, extra) as pane:
        up = wait_live(pane, streams)
        time.sleep(warm)
        cpu0, srv0, usec0, t0 = proc_cpu_s(pane.pid), server_cpu_s(r), own_usec(r), time.monotonic()
        time.sleep(seconds)
        cpu1, srv1, usec1, t1 = proc_cpu_s(pane.pid), server_cpu_s(r), own_usec(r), time.monotonic()
        head = pane.header()
        span = t1 - t0
        latencies = [change_latency(pane, r, stream_key(i), 1.0) for i in (0, 3, 0, 3)]
    load = re.search(r"server load ([0-9.]+)%", head)
    age = re.search(r"summaries <= ([0-9]+) s old", head)
    return {
        "streams": streams,
        "mode": mode,
        "up_s": up,
        "seconds": span,
        "server_ms_per_s": (srv1 - srv0) * 1000 / span,
        "dashboard_pct": (cpu1 - cpu0) * 100 / span,
        "own_load_pct": (usec1 - usec0) / 1e6 / span * 100,
        "header_load_pct": float(load.group(1)) if load else None,
        "summary_age_s": int(age.group(1)) if age else None,
        "latency_intervals": latencies,
        "header": head,
    }


def run(
    quick: bool = False, sizes: tuple[int, ...] = (1000, 10_000), seconds: float | None = None
) -> PartResult:
    seconds = seconds or (8.0 if quick else 20.0)
    warm = 4.0 if quick else 8.0
    res = PartResult()
    budget = POLL_DEFAULTS.max_server_load
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed (apt-get install -y tmux)")
    runs = []
    idle: dict[int, float] = {}
    with embedded_server() as srv:
        r = sync_client(srv)
        done = 0
        for n in sizes:
            populate(r, done, n)
            done = n
            srv0, t0 = server_cpu_s(r), time.monotonic()
            time.sleep(seconds)  # the server with no dashboard: its own background work (serverCron)
            idle[n] = (server_cpu_s(r) - srv0) * 1000 / (time.monotonic() - t0)
            for mode in ("before", "after"):
                runs.append(measure(srv, r, n, mode, seconds, warm))
        r.close()
    for n, ms in idle.items():
        res.row(
            f"{n:,} idle", "server CPU, no dashboard", f"{ms:.1f} ms/s", note="included in the rows below"
        )
    for d in runs:
        n, mode = d["streams"], d["mode"]
        at_10k = n >= 10_000 and mode == "after"
        res.row(
            f"{n:,} {mode}",
            "server CPU (INFO cpu)",
            f"{d['server_ms_per_s']:.1f} ms/s",
            f"<= {TARGET_SERVER_MS:g} ms/s" if at_10k else "",
            d["server_ms_per_s"] <= TARGET_SERVER_MS if at_10k else None,
        )
        res.row(
            f"{n:,} {mode}",
            "dashboard CPU (/proc)",
            f"{d['dashboard_pct']:.1f} % of a core",
            f"<= {TARGET_DASHBOARD_PCT:g} %" if at_10k else "",
            d["dashboard_pct"] <= TARGET_DASHBOARD_PCT if at_10k else None,
        )
        res.row(
            f"{n:,} {mode}",
            "load of its commands (commandstats)",
            f"{d['own_load_pct']:.2f} %",
            f"<= {budget:g} % (budget)" if mode == "after" else "",
            d["own_load_pct"] <= budget if mode == "after" else None,
            note=f"header: {d['header_load_pct']}%" if d["header_load_pct"] is not None else "",
        )
        if mode == "after":
            res.row(
                f"{n:,} {mode}",
                "cadence: visible / off-screen",
                "every poll / " + (f"<= {d['summary_age_s']} s" if d["summary_age_s"] is not None else "?"),
            )
        lat = [x for x in d["latency_intervals"] if x is not None]
        res.row(
            f"{n:,} {mode}",
            "visible change shown after",
            f"{max(lat):.2f} intervals" if lat else "not seen",
            "<= 2",
            bool(lat) and len(lat) == len(d["latency_intervals"]) and max(lat) <= 2,
            note=", ".join(f"{x:.2f}" if x is not None else "-" for x in d["latency_intervals"]),
        )
    res.detail["screen_cost"] = runs
    res.detail["server_idle_ms_per_s"] = idle
    res.headline.update(
        {
            f"{d['streams']}_{d['mode']}": {
                "server_ms_per_s": round(d["server_ms_per_s"], 1),
                "dashboard_pct": round(d["dashboard_pct"], 1),
                "own_load_pct": round(d["own_load_pct"], 3),
            }
            for d in runs
        }
    )
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--streams", default="1000,10000")
    a = ap.parse_args()
    res = run(a.quick, tuple(int(x) for x in a.streams.split(",")), a.seconds)
    print_table(res.rows)
    for d in res.detail["screen_cost"]:
        print(f"{d['streams']:>6} {d['mode']:<6} header: {d['header']}")
    print(json.dumps(res.headline))


if __name__ == "__main__":
    main()
