"""Command line: `streamtop [OPTIONS] [PATTERN|KEY ...]` and its subcommands.

Every subcommand module exposes `add_arguments(parser)` and `run(args) -> int`; they are imported
only when chosen, and so is the dashboard (streamtop.commands.dashboard), so `streamtop --help` stays fast.
The options all commands share are in cliargs. Bad input is one line on stderr and exit 1, never a
traceback, and never the password.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from streamtop.pipeline.connection import (
    ConfigError,
    ConnectError,
    error_text,
    is_cluster_outage,
    is_redis_error,
)

from . import __version__
from .actions.core import ACTIONS
from .cliargs import (
    Parser,
    UsageError,
    add_connection_arguments,
    add_dashboard_arguments,
    add_watch_arguments,
)
from .record.moments import add_record_arguments

SUBCOMMANDS = {
    "demo": ("streamtop.commands.demo", "embedded server + live sensor workload + the dashboard"),
    "status": ("streamtop.commands.status", "one snapshot as a table or JSON; exit code for alerting"),
    "produce": ("streamtop.commands.produce", "add test sensor events (or given fields) to a stream"),
    "tail": ("streamtop.commands.tail", "print a stream's entries decoded, and follow new ones"),
    # the actions' subcommands: streamtop.actions.core.ACTIONS declares them
    **{a.command: (f"streamtop.commands.{a.command}", a.command_help) for a in ACTIONS if a.command},
    "record": ("streamtop.commands.record", "record every poll to a file (SQLite), headless"),
    "replay": ("streamtop.commands.replay", "the dashboard on a recording: step, jump, play"),
    "report": ("streamtop.commands.report", "an incident summary of a recording, as text or HTML"),
    "web": ("streamtop.commands.web", "the dashboard in a browser (textual-serve), read-only by default"),
    "serve": (
        "streamtop.commands.serve",
        "export the streams' metrics to Prometheus (redis_exporter's names)",
    ),
}


def build_parser(name: str | None = None) -> argparse.ArgumentParser:
    if name is None:
        p = Parser(
            prog="streamtop",
            add_help=False,
            description="A live terminal dashboard for Redis Streams: lag, pending entries, "
            "claim, ack and trim.",
            epilog="subcommands: " + "; ".join(f"streamtop {k}: {v[1]}" for k, v in SUBCOMMANDS.items()),
        )
        add_watch_arguments(p)
        add_dashboard_arguments(p)
        p.add_argument(
            "--read-only",
            action="store_true",
            help="refuse every change to the server (produce, ack, claim, trim...)",
        )
        p.add_argument(
            "--log",
            metavar="FILE",
            default=None,
            help="append every command the actions send (redis-cli form, the reply in a # line "
            "above it) to FILE: an audit trail of what you changed",
        )
        p.add_argument("--version", action="version", version=f"streamtop {__version__}")
        p.add_argument(
            "--attach",
            metavar="URL",
            help="show the polls of a streamtop hub (`streamtop serve` or `web`, http://host:port) "
            "instead of polling the server; changes go to the server directly with --url's "
            "credentials, and are refused without --url",
        )
        p.add_argument(
            "--token-file",
            metavar="FILE",
            help="--attach: send this file's first line as the bearer token (env STREAMTOP_HUB_TOKEN)",
        )
        add_record_arguments(p)
        add_connection_arguments(p)
        return p
    module, summary = SUBCOMMANDS[name]
    p = Parser(prog=f"streamtop {name}", add_help=False, description=summary)
    importlib.import_module(module).add_arguments(p)
    add_connection_arguments(p)
    return p


def redis_error_exit(exc: BaseException, command: str | None) -> tuple[str, int] | None:
    """What a command that let a redis-py exception out prints (one line) and exits with: 1, or 2
    for `status` when part of a cluster is out (as its exit codes say). None: not redis-py's."""
    if not is_redis_error(exc):
        return None
    return error_text(exc), 2 if command == "status" and is_cluster_outage(exc) else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    parser = build_parser(name)
    args = parser.parse_args(argv[1:] if name else argv)
    try:
        if name is None:
            from streamtop.commands.dashboard import run

            code = run(args)
        else:
            code = importlib.import_module(SUBCOMMANDS[name][0]).run(args)
    except (ConfigError, ConnectError, UsageError) as exc:
        print(f"streamtop: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)
    except Exception as exc:  # the last net: redis-py's own (a cluster's included) are one line too
        mapped = redis_error_exit(exc, name)
        if mapped is None:
            raise  # a bug of ours: the traceback is what a report needs
        print(f"streamtop: error: {mapped[0]}", file=sys.stderr)
        return mapped[1]
    except KeyboardInterrupt:
        return 130
    return int(code or 0)
