"""What a person types for a recording: a moment (--at, --from, --to, the replay's go-to), a
retention age (--keep 7d) and a size (--max-size 2GB). Each refusal is one line."""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta

_AGE_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d|w)?", re.ASCII)
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, None: 1}
_SIZE_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(b|k|kb|m|mb|g|gb|t|tb)?", re.ASCII)
_SIZE_UNITS = {None: 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9}
_SIZE_UNITS |= {"t": 10**12, "tb": 10**12}
_CLOCK_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(\.[0-9]+)?)?", re.ASCII)
_RELATIVE_RE = re.compile(r"([+-])\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d)?", re.ASCII)


MAX_AGE = 100 * 365 * 86_400.0
MAX_SIZE = 10.0**15


class MomentError(ValueError):
    """What was typed is not a moment, an age or a size: the message says what is."""


def parse_age(text: str) -> float:
    """'7d', '12h', '90m', '3600' (seconds) -> seconds."""
    m = _AGE_RE.fullmatch(text.strip().lower())
    age = float(m.group(1)) * _AGE_UNITS[m.group(2)] if m else 0.0
    if not m or not 0 < age <= MAX_AGE:
        raise MomentError(f"--keep must be an age like 7d, 12h or 90m (up to 100 years), got {text[:24]!r}")
    return age


def parse_size(text: str) -> int:
    """'2GB', '500MB', '1.5g', '1000000' (bytes) -> bytes."""
    m = _SIZE_RE.fullmatch(text.strip().lower())
    size = float(m.group(1)) * _SIZE_UNITS[m.group(2)] if m else 0.0
    if not m or not 1_000_000 <= size <= MAX_SIZE:
        raise MomentError(f"--max-size must be a size like 2GB or 500MB (1MB to 1PB), got {text[:24]!r}")
    return round(size)


def parse_moment(text: str, start: float | None = None, end: float | None = None) -> float:
    """Epoch seconds from: epoch seconds ('1765080000'), an ISO date and time
    ('2026-12-07T03:12:04', local time unless it has an offset), a time of day ('03:12', '03:12:04':
    on the day of the recording's end, local time), 'start' / 'end', or an offset from the end
    ('-5m', '-90s') or from the start ('+10m')."""
    raw = text.strip()
    low = raw.lower()
    if low in ("start", "end"):
        edge = start if low == "start" else end
        if edge is None:
            raise MomentError("the recording holds no poll yet")
        return edge
    if m := _RELATIVE_RE.fullmatch(low):
        base = end if m.group(1) == "-" else start
        if base is None:
            raise MomentError("the recording holds no poll yet")
        delta = float(m.group(2)) * _AGE_UNITS[m.group(3)]
        return base - delta if m.group(1) == "-" else base + delta
    if m := _CLOCK_RE.fullmatch(raw):
        day = datetime.fromtimestamp(end) if end is not None else datetime.now()
        hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise MomentError(f"{text!r} is not a time of day")
        moment = day.replace(hour=hour, minute=minute, second=second, microsecond=0)
        if end is not None and moment.timestamp() > end + 1:  # after the end: the day before
            moment -= timedelta(days=1)
        return moment.timestamp() + float(m.group(4) or 0)
    try:
        return float(raw) if raw.replace(".", "", 1).isdigit() else datetime.fromisoformat(raw).timestamp()
    except ValueError:
        raise MomentError(
            f"{text!r} is not a moment: give 03:12, 03:12:04, 2026-12-07T03:12:04, epoch seconds, "
            "start, end, -5m (before the end) or +10m (after the start)"
        ) from None


def age_arg(text: str) -> float:
    try:
        return parse_age(text)
    except MomentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def size_arg(text: str) -> int:
    try:
        return parse_size(text)
    except MomentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_record_arguments(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    """--record FILE (or --out FILE for `streamtop record`), --keep and --max-size."""
    if required:
        p.add_argument("--out", dest="record", required=True, metavar="FILE", help="the recording (SQLite)")
    else:
        p.add_argument(
            "--record", metavar="FILE", help="also record every poll to FILE (SQLite; streamtop replay FILE)"
        )
    p.add_argument(
        "--keep", type=age_arg, metavar="AGE", help="drop recorded polls older than this (7d, 12h)"
    )
    p.add_argument(
        "--max-size", type=size_arg, metavar="SIZE", help="drop the oldest polls beyond this size (2GB)"
    )
