"""Shared pieces of the benchmarks: an embedded server, fast data set-up, round-trip counting, timing.

Every figure is measured side by side in one run on one server, so the ratios hold even when the
machine is noisy; the absolute times are only as good as the machine was quiet.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/x.py` from anywhere
    sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from streamtop.embedded import ClusterProcess, ServerProcess, start_server  # noqa: E402

FLAVOUR = "valkey-9.1"
PREFIX = "bench:s:"
GROUPS = (b"g1", b"g2")
CONSUMERS = (b"c1", b"c2")
ENTRIES_PER_STREAM = 10  # each consumer of each group takes 2 of them: 4 pending per group


@dataclass
class Row:
    """One line of the table: a figure, its target (if any) and whether it is met."""

    part: str
    figure: str
    value: str
    target: str = ""
    met: bool | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "figure": self.figure,
            "value": self.value,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }


@dataclass
class PartResult:
    """What a part returns: table rows, headline numbers for the JSON line, and everything else."""

    rows: list[Row] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    def row(self, *args: Any, **kw: Any) -> None:
        self.rows.append(Row(*args, **kw))


@contextlib.contextmanager
def embedded_server() -> Iterator[ServerProcess]:
    """A private Valkey 9.1 on a free loopback port, stopped by PID afterwards."""
    srv = start_server(FLAVOUR)
    try:
        yield srv
    finally:
        srv.cleanup()


@contextlib.contextmanager
def embedded_cluster(primaries: int = 3, replicas: int = 0) -> Iterator[ClusterProcess]:
    """A private Valkey 9.1 cluster on loopback (`primaries` sharing the slots, each with
    `replicas` replicas; node timeout 2 s), every node stopped by PID afterwards."""
    cluster = ClusterProcess().start(FLAVOUR, size=primaries, replicas=replicas)
    try:
        yield cluster
    finally:
        cluster.cleanup()


def cluster_client(cluster: ClusterProcess, **kw: Any) -> redis.RedisCluster:
    """A redis-py cluster client on `cluster` (populate() takes it: its pipeline routes each
    command to the node that owns the key)."""
    return redis.RedisCluster(host=cluster.nodes[0].host, port=cluster.nodes[0].port, **kw)


def sync_client(srv: ServerProcess, **kw: Any) -> redis.Redis:
    return redis.Redis(host=srv.host, port=srv.port, protocol=2, socket_timeout=120, **kw)


def server_version(r: redis.Redis) -> str:
    info = r.info("server")
    if info.get("valkey_version"):
        return f"valkey {info['valkey_version']}"
    return f"redis {info.get('redis_version')}"


def stream_key(i: int) -> bytes:
    return f"{PREFIX}{i:06d}".encode()


def populate(r: redis.Redis | redis.RedisCluster, start: int, stop: int, chunk: int = 250) -> None:
    """Streams start..stop-1, each with 10 entries, 2 groups x 2 consumers, 4 pending per group.

    Pipelined by chunks of streams: a few thousand commands per round trip (a cluster client's
    pipeline: one per node).
    """
    fields = {b"sensor_id": b"sensor1", b"temp": b"0.5", b"humidity": b"0.5"}
    for lo in range(start, stop, chunk):
        pipe = r.pipeline(transaction=False)
        for i in range(lo, min(stop, lo + chunk)):
            key = stream_key(i)
            for _ in range(ENTRIES_PER_STREAM):
                pipe.xadd(key, fields)
            for g in GROUPS:
                pipe.xgroup_create(key, g, id="0")
                for c in CONSUMERS:
                    pipe.xreadgroup(g, c, {key: ">"}, count=2)
        pipe.execute()


def export(ref: str, into: str) -> str:
    """The code of `ref` as files (git archive: no worktree, nothing in the repository changes)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    os.makedirs(into, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return into


@contextlib.contextmanager
def before_and_after(
    before: str, after: str, *, no_before: bool = False, no_after: bool = False
) -> Iterator[list[tuple[str, str]]]:
    """The code trees a bench runs side by side, as (name, folder): `before (REF)` exported from
    git, then `after`: this checkout, or `after (REF)` exported when after names a ref. The
    exports are removed on leaving."""
    with (
        tempfile.TemporaryDirectory(prefix="streamtop-before-") as tmp,
        tempfile.TemporaryDirectory(prefix="streamtop-after-") as tmp_after,
    ):
        codes = []
        if not no_before:
            codes.append((f"before ({before})", export(before, tmp)))
        if not no_after:
            codes.append((f"after ({after})", export(after, tmp_after)) if after else ("after", str(ROOT)))
        yield codes


def grow_to_sizes(r: redis.Redis | redis.RedisCluster, sizes: list[int], chunk: int = 500) -> Iterator[int]:
    """Yields each of sizes (ascending) once the server holds that many streams: each step adds
    only the streams the last one lacked, and prints how long that took."""
    have = 0
    for n in sizes:
        t0 = time.monotonic()
        populate(r, have, n, chunk=chunk)
        print(f"# {n:,} streams ready ({time.monotonic() - t0:.0f} s to add {n - have:,})", flush=True)
        have = n
        yield n


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def timed(fn: Callable[[], Any], reps: int) -> list[float]:
    """Wall times in ms of `reps` calls."""
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def command_usec(r: redis.Redis) -> dict[str, tuple[int, int]]:
    """INFO commandstats as {command: (calls, usec)}, without INFO and CONFIG themselves."""
    out = {}
    for name, stat in r.info("commandstats").items():
        cmd = name.removeprefix("cmdstat_")
        if cmd.startswith(("info", "config", "client")):
            continue
        out[cmd] = (int(stat["calls"]), int(stat["usec"]))
    return out


def usec_delta(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> dict[str, tuple[int, int]]:
    out = {}
    for cmd, (calls, usec) in after.items():
        c0, u0 = before.get(cmd, (0, 0))
        if calls - c0:
            out[cmd] = (calls - c0, usec - u0)
    return out


def counting(client: Any) -> list[int]:
    """Count the round trips a redis-py client makes (sync or asyncio): every write of a packed
    command (or of a whole pipeline) to the socket is one. Returns a one-item list to read."""
    counter = [0]
    pool = client.connection_pool
    base = pool.connection_class

    class Counting(base):  # type: ignore[misc, valid-type]
        def send_packed_command(self, command: Any, *args: Any, **kw: Any) -> Any:
            counter[0] += 1
            return super().send_packed_command(command, *args, **kw)

    Counting.__name__ = f"Counting{base.__name__}"
    pool.connection_class = Counting
    if not inspect.iscoroutinefunction(pool.disconnect):
        pool.disconnect()  # already-made connections would not count (asyncio: make it first)
    return counter


def machine() -> dict[str, Any]:
    """Where the figures came from."""
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "redis_py": redis.__version__,
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def fmt_ms(ms: float) -> str:
    if ms != ms:
        return "n/a"
    return f"{ms:.3f} ms" if ms < 1 else f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def print_table(rows: list[Row], file: Any = None) -> None:
    """A plain fixed-width table (also readable as Markdown)."""
    file = file or sys.stdout
    head = ("part", "figure", "value", "target", "met", "note")
    cells = [
        (r.part, r.figure, r.value, r.target, "" if r.met is None else ("yes" if r.met else "NO"), r.note)
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(head)]
    line = lambda c: "| " + " | ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)) + " |"  # noqa: E731
    print(line(head), file=file)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=file)
    for c in cells:
        print(line(c), file=file)
