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

Then the largest size again, before and after, while a writer adds `--busy` entries a second to
random streams off screen (an active keyspace: summaries change between two reads; the server CPU
of the writer alone is measured first).

    python bench/screen_cost.py [--quick] [--seconds 20] [--streams 1000,10000] [--busy 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import PartResult, embedded_server, populate, print_table, stream_key, sync_client

from streamtop.options import POLL_DEFAULTS
from streamtop.pipeline.cadence import OWN_COMMANDS

SIZE = (160, 45)
TICK = os.sysconf("SC_CLK_TCK")
TARGET_SERVER_MS = 30.0  # at 10,000 streams (issue 17)
TARGET_DASHBOARD_PCT = 30.0


PROBES = (0, 3)  # streams whose rows are on screen: the change-latency probes write there
FIRST_OFFSCREEN = 100  # the writer leaves the streams before this one alone


class Writer:
    """XADDs to random off-screen streams, `rate` a second in batches of 100, from a thread with
    its own client."""

    def __init__(self, srv: Any, streams: int, rate: int) -> None:
        self.srv, self.streams, self.rate = srv, streams, rate
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        rng = random.Random(17)
        r = sync_client(self.srv)
        batch = 100
        while not self._stop.wait(batch / self.rate):
            pipe = r.pipeline(transaction=False)
            for _ in range(batch):
                key = stream_key(rng.randrange(FIRST_OFFSCREEN, self.streams))
                pipe.xadd(key, {b"sensor_id": b"w", b"temp": b"0.5"})
            pipe.execute()
        r.close()

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


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
        # the header drops its stream count when verdicts need the room: the panel's title
        # ("Streams 10/200") says it too
        titled = any(f"/{streams:,} " in line or f"/{streams} " in line for line in pane.screen()[:3])
        if "LIVE" in head and (want in head or f"{streams} stream" in head or titled):
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
    extra = ["--interval", "1"] + (["--full-poll"] if mode.startswith("before") else [])
    with dashboard(srv.url, extra) as pane:
        up = wait_live(pane, streams)
        time.sleep(warm)
        cpu0, srv0, usec0, t0 = proc_cpu_s(pane.pid), server_cpu_s(r), own_usec(r), time.monotonic()
        time.sleep(seconds)
        cpu1, srv1, usec1, t1 = proc_cpu_s(pane.pid), server_cpu_s(r), own_usec(r), time.monotonic()
        head = pane.header()
        rss = rss_mb(pane.pid)
        span = t1 - t0
        latencies = [change_latency(pane, r, stream_key(i), 1.0) for i in PROBES * 2]
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
        "rss_mb": rss,
        "header": head,
    }


def server_alone(r: Any, seconds: float) -> float:
    """The server's CPU ms/s with no dashboard: its own background work (and a writer's)."""
    srv0, t0 = server_cpu_s(r), time.monotonic()
    time.sleep(seconds)
    return (server_cpu_s(r) - srv0) * 1000 / (time.monotonic() - t0)


def rows(res: PartResult, d: dict[str, Any], budget: float) -> None:
    n, mode = d["streams"], d["mode"]
    part = f"{n:,} {mode}"
    after = mode.startswith("after")
    judged = n >= 10_000 and after
    server, cpu = d["server_ms_per_s"], d["dashboard_pct"]
    res.row(
        part,
        "server CPU (INFO cpu)",
        f"{server:.1f} ms/s",
        f"<= {TARGET_SERVER_MS:g} ms/s" if judged else "",
        server <= TARGET_SERVER_MS if judged else None,
    )
    res.row(
        part,
        "dashboard CPU (/proc)",
        f"{cpu:.1f} % of a core",
        f"<= {TARGET_DASHBOARD_PCT:g} %" if judged else "",
        cpu <= TARGET_DASHBOARD_PCT if judged else None,
        note=f"RSS {d['rss_mb']:.0f} MB",
    )
    header = d["header_load_pct"]
    res.row(
        part,
        "load of its commands (commandstats)",
        f"{d['own_load_pct']:.2f} %",
        f"<= {budget:g} % (budget)" if after else "",
        d["own_load_pct"] <= budget if after else None,
        note=f"header: {header}%" if header is not None else "",
    )
    if after:
        age = d["summary_age_s"]
        res.row(part, "cadence: visible / off-screen", "every poll / " + (f"<= {age} s" if age else "?"))
    lat = d["latency_intervals"]
    seen = [x for x in lat if x is not None]
    res.row(
        part,
        "visible change shown after",
        f"{max(seen):.2f} intervals" if seen else "not seen",
        "<= 2",
        len(seen) == len(lat) and max(seen) <= 2,
        note=", ".join(f"{x:.2f}" if x is not None else "-" for x in lat),
    )


def run(
    quick: bool = False,
    sizes: tuple[int, ...] = (1000, 10_000),
    seconds: float | None = None,
    busy: int = 1000,
) -> PartResult:
    seconds = seconds or (8.0 if quick else 20.0)
    warm = 4.0 if quick else 8.0
    res = PartResult()
    budget = POLL_DEFAULTS.max_server_load
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed (apt-get install -y tmux)")
    runs = []
    alone: dict[str, float] = {}
    with embedded_server() as srv:
        r = sync_client(srv)
        done = 0
        for n in sizes:
            populate(r, done, n)
            done = n
            alone[f"{n:,} idle"] = server_alone(r, seconds)
            for mode in ("before", "after"):
                runs.append(measure(srv, r, n, mode, seconds, warm))
        if busy:
            n = sizes[-1]
            with Writer(srv, n, busy):
                alone[f"{n:,} + {busy:,} XADD/s"] = server_alone(r, seconds)
                for mode in ("before busy", "after busy"):
                    runs.append(measure(srv, r, n, mode, seconds, warm))
        r.close()
    for label, ms in alone.items():
        res.row(label, "server CPU, no dashboard", f"{ms:.1f} ms/s", note="included in the rows below")
    for d in runs:
        rows(res, d, budget)
    res.detail["screen_cost"] = runs
    res.detail["server_alone_ms_per_s"] = alone
    res.headline.update(
        {
            f"{d['streams']}_{d['mode'].replace(' ', '_')}": {
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
    ap.add_argument("--busy", type=int, default=1000, help="XADD/s of the busy runs (0: none)")
    a = ap.parse_args()
    res = run(a.quick, tuple(int(x) for x in a.streams.split(",")), a.seconds, a.busy)
    print_table(res.rows)
    for d in res.detail["screen_cost"]:
        print(f"{d['streams']:>6} {d['mode']:<11} header: {d['header']}")
    print(json.dumps(res.headline))


if __name__ == "__main__":
    main()
