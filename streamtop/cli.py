"""Command line: `streamtop [OPTIONS] [PATTERN|KEY ...]` and its subcommands.

Every subcommand module exposes `add_arguments(parser)` and `run(args) -> int`; they are imported
only when chosen, so `streamtop --help` stays fast. Bad input is one line on stderr and exit 1,
never a traceback, and never the password.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__
from . import numbers as num
from .connection import (
    AUTH_WARNING,
    ConfigError,
    ConnectError,
    ConnectionSpec,
    build_spec,
    password_on_command_line,
)

SUBCOMMANDS = {
    "demo": ("streamtop.demo.command", "embedded server + live sensor workload + the dashboard"),
    "status": ("streamtop.status", "one snapshot as a table or JSON; exit code for alerting"),
    "produce": ("streamtop.produce", "add test sensor events (or given fields) to a stream"),
}


class UsageError(Exception):
    """A bad option value: printed as one line, exit code 1."""


def add_connection_arguments(p: argparse.ArgumentParser) -> None:
    """The redis-cli style options every command shares."""
    g = p.add_argument_group("connection (as redis-cli)")
    g.add_argument("--url", "-u", help="redis://[[user:]pw@]host:port/db, rediss://..., unix:///path"
                   " (env REDIS_URL; default redis://127.0.0.1:6379/0)")
    g.add_argument("-h", "--host", help="server host (overrides the URL)")
    g.add_argument("-p", "--port", help="server port (overrides the URL)")
    # `produce -n N` is a count (as redis-benchmark); there the database is --db only.
    db_flags = ("--db",) if "-n" in p._option_string_actions else ("-n", "--db")
    g.add_argument(*db_flags, dest="db", help="database number (overrides the URL)")
    g.add_argument("--user", help="ACL user name")
    g.add_argument("-a", "--password", help="password (or env REDISCLI_AUTH); never shown")
    g.add_argument("--tls", action="store_true", help="connect with TLS (as rediss://)")
    g.add_argument("--cacert", help="CA certificate file for TLS (default: the system CA store)")
    g.add_argument("--sni", metavar="NAME", help="TLS server name to send and to verify the certificate"
                   " against (default: the host)")
    g.add_argument("--insecure", action="store_true",
                   help="TLS without verifying the server's certificate (the header says so)")
    g.add_argument("--cert", help="client certificate file for TLS")
    g.add_argument("--key", help="client private key file for TLS")
    g.add_argument("--cluster", action="store_true", help="the server is a Redis Cluster")
    g.add_argument("--no-auth-warning", action="store_true",
                   help="no warning when a password is given with -a or in --url")
    p.add_argument("--help", action="help", help="show this help and exit")


def add_watch_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the dashboard (and of status, which shares discovery)."""
    p.add_argument("targets", nargs="*", metavar="PATTERN|KEY",
                   help="stream keys or glob patterns (default: every stream)")
    p.add_argument("--max-streams", type=num.MAX_STREAMS.arg, default=1000,
                   help="watch at most this many streams (default 1000)")


def spec_from_args(args: argparse.Namespace) -> ConnectionSpec:
    """The spec, and redis-cli's warning on stderr when the password was typed as an argument."""
    spec = build_spec(
        url=args.url, host=args.host, port=args.port, db=args.db, user=args.user,
        password=args.password, tls=args.tls, cacert=args.cacert, cert=args.cert, key=args.key,
        cluster=args.cluster, insecure=getattr(args, "insecure", False), sni=getattr(args, "sni", None),
    )
    if not getattr(args, "no_auth_warning", False) and password_on_command_line(args.url, args.password):
        print(AUTH_WARNING, file=sys.stderr)
    return spec


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 1 (argparse's default is 2)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser(name: str | None = None) -> argparse.ArgumentParser:
    if name is None:
        p = _Parser(
            prog="streamtop", add_help=False,
            description="A live terminal dashboard for Redis Streams: lag, pending entries, "
                        "claim, ack and trim.",
            epilog="subcommands: " + "; ".join(f"streamtop {k}: {v[1]}"
                                               for k, v in SUBCOMMANDS.items()),
        )
        add_watch_arguments(p)
        p.add_argument("--interval", type=num.INTERVAL.arg, default=1.0,
                       help="seconds between polls (default 1)")
        p.add_argument("--stuck-after", type=num.STUCK_AFTER.arg, default=60.0, metavar="SECONDS",
                       help="highlight pending entries idle longer than this (default 60)")
        p.add_argument("--poison-deliveries", type=num.POISON_DELIVERIES.arg, default=5, metavar="N",
                       help="highlight pending entries delivered more than N times (default 5)")
        p.add_argument("--read-only", action="store_true",
                       help="refuse every change to the server (produce, ack, claim, trim...)")
        p.add_argument("--version", action="version", version=f"streamtop {__version__}")
        add_connection_arguments(p)
        return p
    module, summary = SUBCOMMANDS[name]
    p = _Parser(prog=f"streamtop {name}", add_help=False, description=summary)
    importlib.import_module(module).add_arguments(p)
    add_connection_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    parser = build_parser(name)
    args = parser.parse_args(argv[1:] if name else argv)
    try:
        if name is None:
            from .ui.app import run_dashboard

            code = run_dashboard(args)
        else:
            code = importlib.import_module(SUBCOMMANDS[name][0]).run(args)
    except (ConfigError, ConnectError, UsageError) as exc:
        print(f"streamtop: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return int(code or 0)

