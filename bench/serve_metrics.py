"""`streamtop serve` against a naive exporter loop at 1,000 streams x 2 groups x 2 consumers.

Side by side in one run, on one private Valkey 9.1:

(a) streamtop serve: the real Exporter (one Monitor, one pipelined round trip per poll) behind the
    real /metrics server. A scrape only serializes the last poll's families.
(b) a naive exporter loop, as redis_exporter's `--check-streams` does (exporter/streams.go): on
    every scrape, SCAN for the streams, then per stream SELECT, XINFO STREAM, XINFO GROUPS and per
    group XINFO CONSUMERS, one command and one round trip at a time, behind the same HTTP server.

For each: scrape latency (median and p95 of sequential scrapes), the server's cost per poll (a) and
per scrape (b) from INFO commandstats (usec of command execution) and INFO cpu (used_cpu_user +
used_cpu_sys, the whole process), round trips, the page's size; for (a) also what 2 and 50
scrapers per interval cost the server, and 50 concurrent scrapes on streamtop's HTTP server
against prometheus_client's start_http_server (generate_latest on every scrape, a listen backlog
of 5). (b) is served by prometheus_client's start_http_server, as a Python exporter would be.

    python bench/serve_metrics.py [--streams 1000] [--reps 15] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import (
    PREFIX,
    Row,
    command_usec,
    counting,
    embedded_server,
    fmt_ms,
    machine,
    populate,
    print_table,
    sync_client,
    usec_delta,
)
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector as PromCollector

from streamtop.monitor import Monitor
from streamtop.options import PollOptions, SessionOptions
from streamtop.pipeline.connection import build_spec
from streamtop.serve.http import listen, stop
from streamtop.serve.poller import Exporter
from tests.support.scrape import FamiliesCollector


class NaiveExporter(PromCollector):
    """redis_exporter's stream loop: every scrape asks the server everything, one call at a time."""

    def __init__(self, r: Any, pattern: str) -> None:
        self.r = r
        self.pattern = pattern
        self.round_trips = counting(r)

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        r = self.r
        fams = {
            name: GaugeMetricFamily(name, name, labels=labels)
            for name, labels in (
                ("redis_stream_length", ["db", "stream"]),
                ("redis_stream_groups", ["db", "stream"]),
                ("redis_stream_group_consumers", ["db", "stream", "group"]),
                ("redis_stream_group_messages_pending", ["db", "stream", "group"]),
                ("redis_stream_group_lag", ["db", "stream", "group"]),
                ("redis_stream_group_consumer_messages_pending", ["db", "stream", "group", "consumer"]),
                ("redis_stream_group_consumer_idle_seconds", ["db", "stream", "group", "consumer"]),
            )
        }
        keys = []
        cursor = 0
        while True:
            cursor, got = r.scan(cursor, match=self.pattern, count=1000)
            keys.extend(got)
            if cursor == 0:
                break
        for key in sorted(keys):
            r.execute_command("SELECT", 0)
            info = r.xinfo_stream(key)
            k = key.decode()
            fams["redis_stream_length"].add_metric(["db0", k], info["length"])
            fams["redis_stream_groups"].add_metric(["db0", k], info["groups"])
            for g in r.xinfo_groups(key):
                gl = ["db0", k, g["name"].decode()]
                fams["redis_stream_group_consumers"].add_metric(gl, g["consumers"])
                fams["redis_stream_group_messages_pending"].add_metric(gl, g["pending"])
                fams["redis_stream_group_lag"].add_metric(gl, g.get("lag") or 0)  # NULL as 0, as it does
                for c in r.xinfo_consumers(key, g["name"]):
                    cl = [*gl, c["name"].decode()]
                    fams["redis_stream_group_consumer_messages_pending"].add_metric(cl, c["pending"])
                    fams["redis_stream_group_consumer_idle_seconds"].add_metric(cl, c["idle"] / 1000)
        return iter(fams.values())


def cpu_s(r: Any) -> float:
    info = r.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def usec_total(delta: dict[str, tuple[int, int]]) -> int:
    return sum(u for _, u in delta.values())


def scrape(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as resp:
        return resp.read()


def scrape_times(url: str, reps: int) -> tuple[list[float], int]:
    """Wall ms of `reps` sequential scrapes, and the page size in bytes."""
    times, size = [], 0
    for _ in range(reps):
        t0 = time.perf_counter()
        size = len(scrape(url))
        times.append((time.perf_counter() - t0) * 1000)
    return times, size


def concurrent(url: str, n: int) -> float:
    """Wall ms until `n` scrapes started at once have all been answered."""
    errors: list[BaseException] = []

    def one() -> None:
        try:
            scrape(url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return (time.perf_counter() - t0) * 1000


def _calls(delta: dict[str, tuple[int, int]]) -> int:
    return sum(c for c, _ in delta.values())


def breakdown(title: str, delta: dict[str, tuple[int, int]], reps: int) -> None:
    """Calls and usec per poll (or scrape), by command."""
    print(
        f"{title}: "
        + ", ".join(f"{cmd} {c / reps:.0f} calls {u / reps:.0f} us" for cmd, (c, u) in sorted(delta.items()))
    )


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1] if len(xs) >= 2 else xs[0]


def measure(r: Any, fn: Callable[[], Any], reps: int) -> tuple[float, float, dict[str, tuple[int, int]]]:
    """Server usec (commandstats) and CPU ms (INFO cpu) per call of `fn`, and the breakdown."""
    before, cpu0 = command_usec(r), cpu_s(r)
    for _ in range(reps):
        fn()
    cpu1, after = cpu_s(r), command_usec(r)
    delta = usec_delta(before, after)
    return usec_total(delta) / reps, (cpu1 - cpu0) * 1000 / reps, delta


def run(streams: int, reps: int) -> dict[str, Any]:
    rows: list[Row] = []
    out: dict[str, Any] = {"streams": streams, "reps": reps, "machine": machine()}
    with embedded_server() as srv:
        r = sync_client(srv)
        populate(r, 0, streams)
        pattern = f"{PREFIX}*"

        # (a) streamtop serve ------------------------------------------------------------------
        loop = asyncio.new_event_loop()
        monitor = Monitor(
            build_spec(url=srv.url, env={}),
            SessionOptions(targets=(pattern,), poll=PollOptions(max_streams=streams), interval=5.0),
        )
        exporter = Exporter(monitor, 0)
        reg = CollectorRegistry()  # the same page from prometheus_client's server, for comparison
        # the page keeps no families (docs/serve-lean.md): the same poll's, built again per scrape
        reg.register(
            FamiliesCollector(lambda: exporter._families(monitor.last, exporter._stats(True, monitor.last)))
        )
        httpd, thread = listen(0, "127.0.0.1", exporter)
        url = f"http://127.0.0.1:{httpd.server_port}/metrics"
        try:
            for _ in range(3):  # discovery, new groups, steady state
                loop.run_until_complete(exporter.poll_once())
            polls: list[float] = []
            trips: list[int] = []

            def poll() -> None:
                t0 = time.perf_counter()
                snap = loop.run_until_complete(exporter.poll_once())
                polls.append((time.perf_counter() - t0) * 1000)
                trips.append(snap.round_trips if snap else -1)

            a_usec, a_cpu, a_delta = measure(r, poll, reps)
            a_lat, a_size = scrape_times(url, reps)
            s_usec, s_cpu, s_delta = measure(r, lambda: scrape(url), reps)
            a_conc = statistics.median(concurrent(url, 50) for _ in range(3))
            old_httpd, old_thread = start_http_server(0, addr="127.0.0.1", registry=reg)
            old_url = f"http://127.0.0.1:{old_httpd.server_port}/metrics"
            try:
                pc_lat, pc_size = scrape_times(old_url, reps)
                b_conc_pc = statistics.median(concurrent(old_url, 50) for _ in range(3))
            finally:
                old_httpd.shutdown()
                old_httpd.server_close()
        finally:
            stop(httpd, thread)
            loop.run_until_complete(monitor.close())
            loop.close()

        # (b) the naive loop -------------------------------------------------------------------
        nr = sync_client(srv)
        naive = NaiveExporter(nr, pattern)
        reg_b = CollectorRegistry()
        reg_b.register(naive)
        httpd_b, thread_b = start_http_server(0, addr="127.0.0.1", registry=reg_b)
        url_b = f"http://127.0.0.1:{httpd_b.server_port}/metrics"
        try:
            scrape(url_b)  # connect
            trips_before = naive.round_trips[0]
            b_usec, b_cpu, b_delta = measure(r, lambda: scrape(url_b), reps)
            b_trips = (naive.round_trips[0] - trips_before) / reps
            b_lat, b_size = scrape_times(url_b, reps)
        finally:
            httpd_b.shutdown()
            httpd_b.server_close()
            nr.close()
        r.close()

    a_poll = statistics.median(polls)
    rows += [
        Row(
            "serve",
            "scrape latency, median / p95 (a) streamtop",
            f"{fmt_ms(statistics.median(a_lat))} / {fmt_ms(p95(a_lat))}",
        ),
        Row(
            "serve",
            "the same families through prometheus_client's start_http_server (generate_latest per scrape)",
            f"{fmt_ms(statistics.median(pc_lat))} / {fmt_ms(p95(pc_lat))}",
            note=f"{pc_size / 1024:.0f} kB",
        ),
        Row(
            "serve",
            "scrape latency, median / p95 (b) naive loop",
            f"{fmt_ms(statistics.median(b_lat))} / {fmt_ms(p95(b_lat))}",
        ),
        Row(
            "serve",
            "page size (a) / (b)",
            f"{a_size / 1024:.0f} kB / {b_size / 1024:.0f} kB",
            note="(a) has more families",
        ),
        Row(
            "serve",
            "round trips: (a) per poll / (b) per scrape",
            f"{statistics.median(trips):.0f} / {b_trips:.0f}",
        ),
        Row(
            "serve",
            "commands: (a) per poll / (b) per scrape",
            f"{_calls(a_delta) / reps:.0f} / {_calls(b_delta) / reps:.0f}",
            note="(a) adds XPENDING x2, XRANGE, TIME",
        ),
        Row(
            "serve",
            "server usec (commandstats): (a) per poll / (b) per scrape",
            f"{a_usec:.0f} / {b_usec:.0f} = {b_usec / a_usec:.1f}x" if a_usec else "n/a",
        ),
        Row(
            "serve",
            "server CPU (INFO cpu): (a) per poll / (b) per scrape",
            f"{a_cpu:.1f} ms / {b_cpu:.1f} ms = {b_cpu / a_cpu:.1f}x" if a_cpu else "n/a",
        ),
        Row(
            "serve",
            "server usec of one scrape of (a) (no poll)",
            f"{s_usec:.0f}",
            note=f"CPU {s_cpu:.2f} ms (INFO's own)",
        ),
        Row("serve", "(a) poll wall time (collector + families), median", fmt_ms(a_poll)),
        Row("serve", "server usec per interval, 2 scrapers: (a) / (b)", f"{a_usec:.0f} / {2 * b_usec:.0f}"),
        Row("serve", "server usec per interval, 50 scrapers: (a) / (b)", f"{a_usec:.0f} / {50 * b_usec:.0f}"),
        Row(
            "serve",
            "50 concurrent scrapes of (a): streamtop's server / start_http_server",
            f"{fmt_ms(a_conc)} / {fmt_ms(b_conc_pc)}",
            note="listen backlog 128 / 5",
        ),
    ]
    out.update(
        {
            "a_scrape_ms": a_lat,
            "a_scrape_ms_prometheus_client": pc_lat,
            "b_scrape_ms": b_lat,
            "a_poll_ms": polls,
            "a_round_trips": trips,
            "b_round_trips_per_scrape": b_trips,
            "a_usec_per_poll": a_usec,
            "b_usec_per_scrape": b_usec,
            "a_cpu_ms_per_poll": a_cpu,
            "b_cpu_ms_per_scrape": b_cpu,
            "a_scrape_usec": s_usec,
            "a_commands": a_delta,
            "b_commands": b_delta,
            "scrape_commands": s_delta,
            "a_page_bytes": a_size,
            "b_page_bytes": b_size,
            "concurrent_50_ms": {"streamtop": a_conc, "start_http_server": b_conc_pc},
        }
    )
    print_table(rows)
    breakdown("(a) per poll", a_delta, reps)
    breakdown("(b) per scrape", b_delta, reps)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="100 streams, 5 reps")
    args = ap.parse_args()
    streams, reps = (100, 5) if args.quick else (args.streams, args.reps)
    out = run(streams, reps)
    headline = {
        k: out[k]
        for k in (
            "streams",
            "a_usec_per_poll",
            "b_usec_per_scrape",
            "a_cpu_ms_per_poll",
            "b_cpu_ms_per_scrape",
        )
    }
    headline["a_scrape_ms_median"] = statistics.median(out["a_scrape_ms"])
    headline["b_scrape_ms_median"] = statistics.median(out["b_scrape_ms"])
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
