"""`streamtop serve [OPTIONS] [PATTERN|KEY ...] --metrics-port 9121 [--bind 127.0.0.1]`: the
Prometheus exporter. One collector polled at the scrapers' pace, at most every --interval
(poller.Exporter; every --interval on its own clock with --record); the HTTP server (http.py)
hands every scrape the last poll's page (metrics.py: the default families, plus
--consumer-metrics and --detail-metrics).

Bound to 127.0.0.1 unless --bind names another address, which prints a warning: the metrics name
every stream, group and consumer. --bind takes an IP address, not a host name, so what is exposed
is never a resolver's choice. Bad input (a port out of range, a bind that is not an address, a port
in use, a wrong password) is one line on stderr and exit 1; a server that is merely down is not an
error: the exporter starts and says `streamtop_up 0` until it answers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import signal
import sys
from functools import partial

from streamtop import numbers as num
from streamtop.cliargs import (
    UsageError,
    add_budget_argument,
    add_interval_argument,
    add_watch_arguments,
    add_window_argument,
    seconds_text,
    spec_from_args,
)
from streamtop.hub.command import add_hub_arguments, hub_from_args
from streamtop.monitor import ErrorKind, first_contact
from streamtop.options import SERVE_DEFAULTS, PollOptions
from streamtop.pipeline.connection import ConnectError, host_port
from streamtop.record.moments import add_record_arguments
from streamtop.serve.hubapi import serve_api
from streamtop.serve.metrics import tiers_from
from streamtop.serve.poller import Exporter, serve_monitor


def bind_address(text: str) -> str:
    """An argparse type: an IPv4 or IPv6 address (brackets allowed), never a host name."""
    value = text.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--bind must be an IP address (127.0.0.1, ::1, 0.0.0.0), got {text!r}"
        ) from None


def is_loopback(address: str) -> bool:
    return ipaddress.ip_address(address).is_loopback


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_watch_arguments(
        p,
        cap_help="export at most this many streams, the largest lag first, and say how many were "
        "left out on stderr (default: every stream; the interval stretches to the budget)",
    )
    p.add_argument(
        "--metrics-port",
        type=num.METRICS_PORT.arg,
        default=SERVE_DEFAULTS.metrics_port,
        metavar="PORT",
        help=f"port of /metrics (default {SERVE_DEFAULTS.metrics_port}, as redis_exporter; 0: a free one)",
    )
    p.add_argument(
        "--bind",
        type=bind_address,
        default=SERVE_DEFAULTS.bind,
        metavar="ADDRESS",
        help=f"IP address to listen on (default {SERVE_DEFAULTS.bind}; any other prints a warning)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name scrapers reach this exporter by, besides its --bind address (repeat for "
        "more; any other Host is refused: DNS rebinding). A wildcard --bind accepts any Host",
    )
    add_interval_argument(
        p,
        SERVE_DEFAULTS.interval,
        " at least: a scrape that finds the page older polls (one poll for any number of scrapers "
        "at once); with --record, every interval whatever the scrapes",
    )
    p.add_argument(
        "--consumer-metrics",
        action="store_true",
        help="also one series per consumer (redis_stream_group_consumer_messages_pending, "
        "_idle_seconds, streamtop_stream_group_consumer_inactive_seconds): the bulk of a page, off "
        "by default",
    )
    p.add_argument(
        "--detail-metrics",
        action="store_true",
        help="also the detail families (radix tree, first/last/max-deleted IDs, last-delivered ID, "
        "entries-read, rates, lag flags, oldest pending, pending without data): off by default",
    )
    add_budget_argument(p, "the interval is stretched to stay within it")
    add_window_argument(p)
    add_record_arguments(p)
    add_hub_arguments(p)


def _log_line(prefix: str, line: str) -> None:
    print(f"{prefix}{line}", file=sys.stderr, flush=True)


async def _serve(exporter: Exporter, banner: str) -> None:
    """Poll until SIGTERM or SIGINT; the banner is printed once they are handled, so a SIGTERM
    sent by whoever read it always ends the exporter cleanly (exit 0)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(banner, file=sys.stderr, flush=True)
    try:
        await exporter.run(stop)
    finally:
        await exporter.monitor.close()


def run(args: argparse.Namespace) -> int:
    from streamtop.serve.http import listen, stop

    spec = spec_from_args(args)
    problem = asyncio.run(first_contact(spec))
    if problem is not None and problem.kind is ErrorKind.FATAL:
        raise ConnectError(problem.message)
    options = PollOptions(max_server_load=args.max_server_load)
    monitor = serve_monitor(spec, args.targets, options, args.interval, args.window_ms / 1000)
    tiers = tiers_from(args.consumer_metrics, args.detail_metrics)
    exporter = Exporter(monitor, spec.db, cap=args.max_streams, tiers=tiers)
    if getattr(args, "record", None):  # only then SQLite and the writer (imported when needed)
        from streamtop.record import attach_from_args

        # a file that fails is one line on stderr; the exporter goes on
        attach_from_args(monitor, args, "serve", partial(_log_line, "streamtop serve: "))
    hub = hub_from_args(monitor, args, args.interval, args.bind)
    exporter.after_poll.append(hub.publish)
    # scrape-paced polls (serve's pacing): an attached viewer holds the clock, a GET demands
    hub.hold, hub.demand = exporter.hold, exporter.demand
    if getattr(args, "record", None):
        exporter.hold()  # the recording's polls keep the interval's clock, scraped or not
    try:
        httpd, thread = listen(
            args.metrics_port, args.bind, exporter, args.allow_host, partial(serve_api, hub)
        )
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host_port(args.bind, args.metrics_port)}: {exc.strerror or exc}"
        ) from None
    port = httpd.server_port
    if not is_loopback(args.bind):
        print(
            f"streamtop serve: warning: listening on {host_port(args.bind, port)}, not loopback: "
            "anyone who reaches it reads every stream, group and consumer name"
            + ("" if args.token_file else "; the hub API (/api/v1/) refused: it needs --token-file"),
            file=sys.stderr,
        )
    down = " (not answering yet: streamtop_up 0 until it does)" if problem is not None else ""
    banner = (
        f"streamtop serve: metrics of {spec.display_url()}{down} at "
        f"http://{host_port(args.bind, port)}/metrics, polled "
        + (
            f"every {seconds_text(args.interval)} s (--record)"
            if exporter.held
            else f"when scraped, at most every {seconds_text(args.interval)} s"
        )
    )
    try:
        asyncio.run(_serve(exporter, banner))
    finally:
        stop(httpd, thread)
    return 0
