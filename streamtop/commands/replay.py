"""`streamtop replay FILE [--at TIME] [--window DURATION]`: the dashboard on a recording.

The file may still be being written (streamtop record, --record): the replay follows it. A file
that is not a recording, or one from a newer streamtop, is one line and exit 1.
"""

from __future__ import annotations

import argparse

from ..cliargs import UsageError, add_window_argument
from ..record import Recording, RecordingError
from ..record.moments import MomentError, parse_moment
from ..record.session import ReplaySession


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a recording (streamtop record --out, or --record)")
    p.add_argument("--at", metavar="TIME", help="start at this moment (03:12, -5m, start; default: the end)")
    add_window_argument(p)


def run(args: argparse.Namespace) -> int:
    try:
        rec = Recording(args.file)
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    start = None
    if args.at is not None:
        span = rec.span
        try:
            start = parse_moment(args.at, *(span if span else (None, None)))
        except MomentError as exc:
            raise UsageError(f"--at: {exc}") from None
    window = args.window_ms / 1000
    from ..ui.replay import ReplayApp

    app = ReplayApp(ReplaySession(rec, window), start=start)
    try:
        app.run()
    finally:
        rec.close()
    return int(app.return_code or 0)
