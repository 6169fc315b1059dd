"""What every command line of streamtop shares: the connection options, the watch options, the
spec they build, the one-line usage error and the parser that exits 1 on bad input.

Its own module so the subcommands (`status`, `produce`, `demo`) and the dispatcher (`cli`) all
import from here, and none of them from another command.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import os
import sys
from typing import NoReturn

from streamtop.pipeline.connection import AUTH_WARNING, ConnectionSpec, build_spec, password_on_command_line

from . import numbers as num
from .options import DASHBOARD_DEFAULTS, POLL_DEFAULTS


class UsageError(Exception):
    """A bad option value: printed as one line, exit code 1."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line and exit code 1 (argparse's default is 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"{self.prog}: error: {message}\n")


def add_connection_arguments(p: argparse.ArgumentParser) -> None:
    """The redis-cli style options every command shares."""
    g = p.add_argument_group("connection (as redis-cli)")
    g.add_argument(
        "--url",
        "-u",
        action="append",
        help="redis://[[user:]pw@]host:port/db, rediss://..., unix:///path"
        " (env REDIS_URL; default redis://127.0.0.1:6379/0). Repeat it (or give REDIS_URL"
        " with commas) to list several seeds of a cluster: the first that answers is used",
    )
    g.add_argument("-h", "--host", help="server host (overrides the URL)")
    # `web --port` is its HTTP port (as the issue asks); there the server's port is -p only.
    port_flags = ("-p",) if "--port" in p._option_string_actions else ("-p", "--port")
    g.add_argument(*port_flags, dest="port", type=num.PORT.arg, help="server port (overrides the URL)")
    # `produce -n N` is a count (as redis-benchmark); there the database is --db only.
    db_flags = ("--db",) if "-n" in p._option_string_actions else ("-n", "--db")
    g.add_argument(*db_flags, dest="db", type=num.DB.arg, help="database number (overrides the URL)")
    g.add_argument("--user", help="ACL user name")
    g.add_argument("-a", "--password", help="password (or env REDISCLI_AUTH); never shown")
    g.add_argument("--tls", action="store_true", help="connect with TLS (as rediss://)")
    g.add_argument("--cacert", help="CA certificate file for TLS (default: the system CA store)")
    g.add_argument(
        "--sni",
        metavar="NAME",
        help="TLS server name to send and to verify the certificate against (default: the host)",
    )
    g.add_argument(
        "--insecure",
        action="store_true",
        help="TLS without verifying the server's certificate (the header says so)",
    )
    g.add_argument("--cert", help="client certificate file for TLS")
    g.add_argument("--key", help="client private key file for TLS")
    g.add_argument("--cluster", action="store_true", help="the server is a Redis Cluster")
    g.add_argument(
        "--no-auth-warning",
        action="store_true",
        help="no warning when a password is given with -a or in --url",
    )
    p.add_argument("--help", action="help", help="show this help and exit")


def add_watch_arguments(p: argparse.ArgumentParser, cap_help: str | None = None) -> None:
    """Options of the dashboard (and of status, which shares discovery). `cap_help`: --max-streams
    has no default (serve: every stream unless a cap is asked for), with this help."""
    p.add_argument(
        "targets",
        nargs="*",
        metavar="PATTERN|KEY",
        help="stream keys or glob patterns (default: every stream)",
    )
    p.add_argument(
        "--max-streams",
        type=num.MAX_STREAMS.arg,
        default=POLL_DEFAULTS.max_streams if cap_help is None else None,
        help=cap_help or f"watch at most this many streams (default {POLL_DEFAULTS.max_streams})",
    )


SEED_TIMEOUT = 1.0  # seconds a seed may take to answer PING before the next one is asked


def seed_urls(url: str | list[str] | None, env: dict[str, str] | None = None) -> list[str | None]:
    """The URLs given: `--url` repeated, else REDIS_URL split at commas, else [None] (the default)."""
    given = [url] if isinstance(url, str) else list(url or ())
    if not given:
        given = [u for u in (os.environ if env is None else env).get("REDIS_URL", "").split(",") if u]
    return list(given) or [None]


async def _answers(spec: ConnectionSpec) -> bool:
    client = spec.make_client(raw=True)
    try:
        return bool(await asyncio.wait_for(client.ping(), SEED_TIMEOUT))
    except Exception:  # refused, hung, wrong password: try the next seed
        return False
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


async def first_answering(specs: list[ConnectionSpec]) -> ConnectionSpec:
    """The first seed that answers PING; the first one when none does (its error is then shown)."""
    for spec in specs:
        if await _answers(spec):
            return spec
    return specs[0]


def decode_arg(value: str) -> str:
    """An argparse type: one --decode value, checked (the formats listed when it is wrong)."""
    from streamtop.pipeline.decode import parse_decode_arg

    try:
        parse_decode_arg(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def add_decode_argument(p: argparse.ArgumentParser) -> None:
    from streamtop.pipeline.decode import FORMATS

    p.add_argument(
        "--decode",
        action="append",
        type=decode_arg,
        metavar="[KEY=]FORMAT",
        help="how to read payloads of stream KEY (or of every stream): "
        f"{', '.join(FORMATS)} (default auto: each entry by what it holds)",
    )


def seed_specs(args: argparse.Namespace, env: dict[str, str] | None = None) -> list[ConnectionSpec]:
    """One spec per seed given, and redis-cli's warning on stderr when the password was typed as
    an argument; `env`: the environment read (REDIS_URL, REDISCLI_AUTH), this process's if None."""
    specs = [
        build_spec(
            url=url,
            host=args.host,
            port=args.port,
            db=args.db,
            user=args.user,
            password=args.password,
            tls=args.tls,
            cacert=args.cacert,
            cert=args.cert,
            key=args.key,
            cluster=args.cluster,
            insecure=getattr(args, "insecure", False),
            sni=getattr(args, "sni", None),
            env=env,
        )
        for url in seed_urls(args.url, env)
    ]
    urls = args.url if isinstance(args.url, list) else [args.url]
    if not getattr(args, "no_auth_warning", False) and any(
        password_on_command_line(u, args.password) for u in urls
    ):
        print(AUTH_WARNING, file=sys.stderr)
    return specs


async def aspec_from_args(args: argparse.Namespace) -> ConnectionSpec:
    """The spec of the first seed that answers, for a command already in its event loop (the
    action commands): the one seed resolution, awaited."""
    specs = seed_specs(args)
    return specs[0] if len(specs) == 1 else await first_answering(specs)


def spec_from_args(args: argparse.Namespace) -> ConnectionSpec:
    """The same resolution for a command that has no event loop yet. Called from inside a running
    loop (where asyncio.run cannot be) it resolves the seeds in a thread of its own, so no caller
    can crash on it; async callers should await aspec_from_args instead."""
    specs = seed_specs(args)
    if len(specs) == 1:
        return specs[0]
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(first_answering(specs))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, first_answering(specs)).result()


def seconds_text(value: float) -> str:
    """A default in --help as a person writes it: 1, 0.5, 60."""
    return f"{value:g}"


def add_interval_argument(p: argparse.ArgumentParser, default: float, what: str = "") -> None:
    p.add_argument(
        "--interval",
        type=num.INTERVAL.arg,
        default=default,
        help=f"seconds between polls{what} (default {seconds_text(default)})",
    )


def add_window_argument(p: argparse.ArgumentParser) -> None:
    window = DASHBOARD_DEFAULTS.window_ms
    p.add_argument(
        "--window",
        dest="window_ms",
        type=num.WINDOW.arg,
        default=window,
        metavar="DURATION",
        help="judge each group's health over this much of the last polls "
        f"(default {seconds_text(window / 1000)}s)",
    )


def add_budget_argument(p: argparse.ArgumentParser, what: str) -> None:
    """--max-server-load: `what` says what is stretched to stay within it."""
    budget = DASHBOARD_DEFAULTS.poll.max_server_load
    p.add_argument(
        "--max-server-load",
        type=num.MAX_SERVER_LOAD.arg,
        default=budget,
        metavar="PERCENT",
        help=f"the share of the server's time the polls may take: {what} (default {budget:g})",
    )


def add_dashboard_arguments(p: argparse.ArgumentParser) -> None:
    """The dashboard's own options: `streamtop` itself, and `streamtop web`, which hands them on to
    every browser page's dashboard."""
    d = DASHBOARD_DEFAULTS
    add_interval_argument(p, d.interval)
    p.add_argument(
        "--stuck-after",
        type=num.STUCK_AFTER.arg,
        default=d.stuck_after,
        metavar="SECONDS",
        help=f"highlight pending entries idle longer than this (default {seconds_text(d.stuck_after)})",
    )
    p.add_argument(
        "--poison-deliveries",
        type=num.POISON_DELIVERIES.arg,
        default=d.poison_deliveries,
        metavar="N",
        help=f"highlight pending entries delivered more than N times (default {d.poison_deliveries})",
    )
    add_decode_argument(p)
    add_window_argument(p)
    add_budget_argument(p, "off-screen rows, then visible ones, are read less often to stay within it")
    p.add_argument(
        "--full-poll",
        action="store_true",
        default=None,
        help="read every stream in full every poll, whatever is on screen (the old cost)",
    )
