"""`streamtop serve` against redis_exporter (`prometheus-redis-exporter`, Debian's) on the same data.

One private Valkey 9.1 with `--streams` streams x 2 groups x 2 consumers (4 pending per group). Each
exporter runs as its own process, one after the other, against that server:

  exporter          redis_exporter -check-streams 'bench:s:*' (consumer series on: its default;
                    -streams-exclude-consumer-metrics exists only in later versions than Debian's);
                    skipped, with the reason, when it is not installed;
  before            `streamtop serve` at git ref `--before` (default main, exported with git
                    archive): the code before the change measured (before the lean page: every
                    family, polling every --interval on its own clock; before the memory work:
                    the lean page, each poll's hub document encoded);
  serve             this checkout, default families, polling at the scrapers' pace;
  serve+consumers   this checkout with --consumer-metrics.

Each one is scraped `--scrapes` times, `--gap` seconds apart (after two warm-up scrapes). Figures:
page bytes and samples (lines that are not comments), RSS after the scrapes (VmRSS; peak VmHWM;
and at the first full page: the imports and one poll),
and what the window cost the server per scrape: INFO cpu (the server's main thread, user + sys)
and INFO commandstats usec, an idle window of the same length taken off. With --gap 60: "one scrape
a minute" (before polls gap / interval times per scrape; serve once).

    python bench/serve_lean.py [--streams 2000] [--scrapes 3] [--gap 15] [--before main]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import (
    PREFIX,
    ROOT,
    Row,
    command_usec,
    embedded_server,
    export,
    populate,
    print_table,
    sync_client,
    usec_delta,
)

from streamtop.embedded import free_port

EXPORTERS = ("prometheus-redis-exporter", "redis_exporter")


def serve_argv(code: str, url: str, port: int, interval: float, extra: list[str]) -> list[str]:
    script = f"import sys; sys.path.insert(0, {code!r}); from streamtop.cli import main; sys.exit(main())"
    return [
        sys.executable,
        "-c",
        script,
        "serve",
        "--url",
        url,
        f"{PREFIX}*",
        "--metrics-port",
        str(port),
    ] + [
        "--interval",
        str(interval),
        *extra,
    ]


def server_cpu_ms(r: Any) -> float:
    info = r.info("cpu")
    if "used_cpu_user_main_thread" in info:
        return (float(info["used_cpu_user_main_thread"]) + float(info["used_cpu_sys_main_thread"])) * 1000
    return (float(info["used_cpu_user"]) + float(info["used_cpu_sys"])) * 1000


def usec_total(r: Any) -> dict[str, tuple[int, int]]:
    return command_usec(r)


def rss_kb(pid: int) -> tuple[int, int]:
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(rest.split()[0])
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def scrape(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as resp:
        return resp.read()


def samples(page: bytes) -> int:
    return sum(1 for line in page.split(b"\n") if line and not line.startswith(b"#"))


def wait_page(url: str, proc: subprocess.Popen, streams: int, timeout: float = 180) -> bytes:
    """The first page that has every stream's redis_stream_length."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited {proc.returncode}")
        try:
            page = scrape(url)
            if page.count(b"\nredis_stream_length{") >= streams:
                return page
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("no full page in time")


def window(r: Any, seconds: float, scrapes: int, url: str | None) -> tuple[float, int, bytes]:
    """Server CPU ms and command usec over `scrapes` scrapes `seconds` apart (none: idle)."""
    cpu0, us0 = server_cpu_ms(r), usec_total(r)
    page = b""
    for _ in range(scrapes):
        t0 = time.monotonic()
        if url is not None:
            page = scrape(url)
        # each gap counts, the last too: what polls on its own clock between scrapes is paid
        time.sleep(max(0.0, seconds - (time.monotonic() - t0)))
    cpu1, us1 = server_cpu_ms(r), usec_total(r)
    return cpu1 - cpu0, sum(u for _, u in usec_delta(us0, us1).values()), page


def measure(
    name: str, argv: list[str], url: str, r: Any, args: argparse.Namespace, idle: tuple[float, int]
) -> dict:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_page(url, proc, args.streams)
        first_rss, _ = rss_kb(proc.pid)  # after the first poll: the imports and one poll
        scrape(url)
        time.sleep(args.gap)
        cpu, usec, page = window(r, args.gap, args.scrapes, url)
        rss, hwm = rss_kb(proc.pid)
        return {
            "name": name,
            "page_bytes": len(page),
            "samples": samples(page),
            "first_rss_mb": round(first_rss / 1024, 1),
            "rss_mb": round(rss / 1024, 1),
            "peak_rss_mb": round(hwm / 1024, 1),
            "cpu_ms_per_scrape": round((cpu - idle[0]) / args.scrapes, 1),
            "usec_per_scrape": round((usec - idle[1]) / args.scrapes),
        }
    except RuntimeError as exc:
        err = (
            proc.stderr.read().decode(errors="replace").strip().splitlines()
            if proc.poll() is not None
            else []
        )
        return {"name": name, "error": f"{exc}: {(err or [''])[-1][:200]}"}
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=2000)
    ap.add_argument("--scrapes", type=int, default=3)
    ap.add_argument("--gap", type=float, default=15.0, help="seconds between scrapes")
    ap.add_argument("--interval", type=float, default=5.0, help="serve's --interval")
    ap.add_argument("--before", default="main", help="git ref of the code to compare with ('' to skip)")
    args = ap.parse_args()
    binary = next((b for b in map(shutil.which, EXPORTERS) if b), None)
    results: list[dict] = []
    load0 = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory(prefix="streamtop-bench-") as tmp, embedded_server() as srv:
        r = sync_client(srv)
        populate(r, 0, args.streams)
        idle_cpu, idle_usec, _ = window(r, args.gap, args.scrapes, None)
        idle = (idle_cpu, idle_usec)
        contenders: list[tuple[str, list[str] | None, str]] = []
        port = free_port()
        if binary is None:
            results.append(
                {"name": "exporter", "error": "skipped: no prometheus-redis-exporter or redis_exporter"}
            )
        else:
            argv = [binary, "-redis.addr", f"redis://{srv.host}:{srv.port}", "-check-streams", f"{PREFIX}*"]
            argv += ["-web.listen-address", f"127.0.0.1:{port}"]
            contenders.append(
                ("exporter (consumer series: its default)", argv, f"http://127.0.0.1:{port}/metrics")
            )
        if args.before:
            code = export(args.before, os.path.join(tmp, "before"))
            port = free_port()
            argv = serve_argv(code, srv.url, port, args.interval, [])
            contenders.append((f"serve {args.before} (before)", argv, f"http://127.0.0.1:{port}/metrics"))
        for label, extra in (("serve (default)", []), ("serve --consumer-metrics", ["--consumer-metrics"])):
            port = free_port()
            argv = serve_argv(str(ROOT), srv.url, port, args.interval, extra)
            contenders.append((label, argv, f"http://127.0.0.1:{port}/metrics"))
        for name, argv, url in contenders:
            assert argv is not None
            results.append(measure(name, argv, url, r, args, idle))
            print(json.dumps(results[-1]), flush=True)
        r.close()
    load1 = Path("/proc/loadavg").read_text().split()[:3]
    rows = []
    for d in results:
        if "error" in d:
            rows.append(Row("serve-lean", d["name"], "n/a", note=d["error"]))
            continue
        rows.append(
            Row(
                "serve-lean",
                d["name"],
                f"{d['page_bytes'] / 1e6:.2f} MB, {d['samples']:,} samples, RSS {d['rss_mb']} MB "
                f"(peak {d['peak_rss_mb']}, at the first page {d['first_rss_mb']}), "
                f"server CPU {d['cpu_ms_per_scrape']} ms / scrape, "
                f"{d['usec_per_scrape'] / 1000:.1f} ms commandstats / scrape",
            )
        )
    print(
        f"{args.streams} streams x 2 groups x 2 consumers, one scrape every {args.gap:g} s x {args.scrapes}, "
        f"serve --interval {args.interval:g}; idle server {idle_cpu / args.scrapes:.1f} ms CPU per gap "
        f"(taken off); load average {' '.join(load0)} -> {' '.join(load1)}"
    )
    print_table(rows)
    print(json.dumps({"streams": args.streams, "gap": args.gap, "results": results}))


if __name__ == "__main__":
    main()
