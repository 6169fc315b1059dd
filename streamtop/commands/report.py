"""`streamtop report FILE [--from T] [--to T] [--html OUT]`: an incident summary of a recording:
per group the verdict timeline, the peaks of lag, time lag and pending with when, consumers that
came and went; the actions taken and the outages. Text on stdout; `--html OUT` also writes one
self-contained HTML file with inline SVG charts (it loads nothing from anywhere)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cliargs import UsageError
from ..record import Recording, RecordingError
from ..record.moments import MomentError, parse_moment
from ..record.report import build, html_page, text


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a recording (streamtop record --out, or --record)")
    p.add_argument("--from", dest="start", metavar="TIME", help="from this moment (03:12, -1h, start)")
    p.add_argument("--to", dest="end", metavar="TIME", help="to this moment (default: the end)")
    p.add_argument("--html", metavar="OUT", help="also write the report as one self-contained HTML file")


def run(args: argparse.Namespace) -> int:
    try:
        rec = Recording(args.file)
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    try:
        span = rec.span
        if span is None:
            raise UsageError(f"{args.file}: no poll recorded yet")
        try:
            start = parse_moment(args.start, *span) if args.start else None
            end = parse_moment(args.end, *span) if args.end else None
        except MomentError as exc:
            raise UsageError(str(exc)) from None
        if start is not None and end is not None and end < start:
            raise UsageError("--to is before --from")
        rep = build(rec, start, end)
    finally:
        rec.close()
    print(text(rep), end="")
    if args.html:
        try:
            Path(args.html).write_text(html_page(rep), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.html}: {exc.strerror or exc}") from None
    return 0
