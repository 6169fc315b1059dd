"""The hub's options, shared by `serve` and `web`: --token-file and --expose-entries."""

from __future__ import annotations

import argparse

from ..cliargs import UsageError
from ..monitor import Monitor
from ..webserver import is_loopback
from .api import Hub, read_token


def add_hub_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--token-file",
        metavar="FILE",
        help="the hub API (/api/v1/, what `streamtop --attach` reads) answers only requests with "
        "this file's first line as a bearer token; required for the API on a non-loopback --bind",
    )
    p.add_argument(
        "--expose-entries",
        action="store_true",
        help="the hub API's messages pages carry the entries' fields (default: their IDs only)",
    )


def hub_from_args(monitor: Monitor, args: argparse.Namespace, interval: float, bind: str) -> Hub:
    token = None
    if args.token_file:
        try:
            token = read_token(args.token_file)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise UsageError(f"--token-file {args.token_file}: {reason}") from None
    return Hub(
        monitor,
        interval,
        monitor.url,
        expose_entries=args.expose_entries,
        token=token,
        loopback=is_loopback(bind),
    )
