"""Every number a person types, parsed and bounded in one place (CLI options and dialog fields).

Why one place: Python's `int()` takes '٣' and refuses 4,301 digits with a ValueError, `float()` takes
'nan', 'inf' and '1e308', and `int(float('1e400') * 1000)` raises OverflowError. Each of those used
to reach a traceback, or a sleep of years. Here a text is checked against an ASCII pattern and a
length before any conversion, the result against the field's range, and every refusal is one line
that names the field and its range (`NumberError`, a ValueError).

`FIELDS` below holds every numeric input streamtop has; `Field.arg` is its argparse type and
`Field.parse` what the dialogs and the actions layer call.
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

INT64_MAX = 2**63 - 1  # the largest count a server keeps (MAXLEN, lengths, pending, lag)
MAX_SECONDS = 10 * 365 * 86_400  # ten years: any longer duration means "never" anyway
MAX_SHOWN = 24  # characters of a refused text echoed back in the message

_INT_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_DURATION_RE = re.compile(r"((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?)\s*(ms|s|m|h)?", re.ASCII)
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, None: 1000}
_SPACE = " \t"


class NumberError(ValueError):
    """A refused number: the message is one line, for a person, with the field and its range."""


def shown(text: str) -> str:
    """The refused text as a short repr (control characters escaped, long input cut)."""
    full = repr(text)
    if len(full) <= MAX_SHOWN + 2:
        return full
    cut = text[:MAX_SHOWN]
    while len(repr(cut)) > MAX_SHOWN + 2:  # an escape shows as up to 10 characters: they count
        cut = cut[:-1]
    return repr(cut) + f"... ({len(text):,} characters)"


def _num(value: float) -> str:
    """A bound as a person reads it: 1,000,000 / 0.01 / 1.5."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value if value is not None else "").strip(_SPACE)


def parse_int(value: object, what: str, lo: int = 0, hi: int = INT64_MAX) -> int:
    """A whole number in [lo, hi] from an int or from typed text ("1,000" and "1_000" are fine).
    ASCII digits only; a digit string longer than `hi` is refused before int() converts it."""
    span = f"({_num(lo)} to {_num(hi)})"
    if isinstance(value, bool | float):
        raise NumberError(f"{what} must be a whole number {span}")
    if isinstance(value, int):
        n = value
    else:
        raw = _text(value)
        text = raw.replace(",", "").replace("_", "")
        if not text:
            raise NumberError(f"{what} is empty {span}")
        if not _INT_RE.fullmatch(text):
            raise NumberError(f"{what} must be a whole number, got {shown(raw)} {span}")
        sign, digits = ("-", text[1:]) if text[0] == "-" else ("", text.lstrip("+"))
        digits = digits.lstrip("0") or "0"
        if len(digits) > len(str(max(abs(lo), abs(hi)))):  # out of range: never given to int()
            if sign:
                raise NumberError(_below(what, lo, shown(raw), span))
            raise NumberError(f"{what} must be at most {_num(hi)}, got {shown(raw)} {span}")
        n = int(sign + digits)
    if n < lo:
        raise NumberError(_below(what, lo, f"{n:,}", span))
    if n > hi:
        raise NumberError(f"{what} must be at most {_num(hi)}, got {n:,} {span}")
    return n


def ascii_int(value: object) -> int:
    """int() of ASCII digits only (a port or a database in a URL): int() also takes '٣' and
    '1_0', which no port or db is. Raises ValueError; the caller words the message (a URL's text
    is not echoed: it may hold a password)."""
    text = str(value).strip()
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 12:
        raise ValueError(text)
    return int(text)


def _below(what: str, lo: float, got: str, span: str) -> str:
    if lo == 0:
        return f"{what} cannot be negative, got {got} {span}"
    return f"{what} must be at least {_num(lo)}, got {got} {span}"


def parse_float(
    value: object, what: str, lo: float, hi: float, *, above: bool = False, unit: str = ""
) -> float:
    """A finite decimal number in [lo, hi] (or (lo, hi] with `above`): no nan, inf, hex or
    non-ASCII digits; "1e308" is refused by its range, not by a crash later."""
    u = f" {unit}" if unit else ""
    span = f"({'more than' if above else 'from'} {_num(lo)}{u if above else ''} to {_num(hi)}{u})"
    if isinstance(value, bool):
        raise NumberError(f"{what} must be a number {span}")
    if isinstance(value, int | float):
        x = float(value) if abs(value) < 10**300 else math.copysign(math.inf, value)
        raw = repr(value)
    else:
        raw = _text(value)
        text = raw.replace("_", "")
        if not text:
            raise NumberError(f"{what} is empty {span}")
        if not _FLOAT_RE.fullmatch(text):  # float() alone would take nan, inf and "١"
            raise NumberError(f"{what} must be a number, got {shown(raw)} {span}")
        x = float(text)
    if math.isnan(x):
        raise NumberError(f"{what} must be a number, got {shown(raw)} {span}")
    if x < lo or (above and x <= lo):
        if lo == 0 and not above:
            raise NumberError(f"{what} cannot be negative, got {shown(raw)} {span}")
        raise NumberError(
            f"{what} must be {'more than' if above else 'at least'} {_num(lo)}{u}, got {shown(raw)} {span}"
        )
    if x > hi:
        raise NumberError(f"{what} must be at most {_num(hi)}{u}, got {shown(raw)} {span}")
    return x


def parse_duration_ms(value: object, what: str, lo_ms: int = 0, hi_ms: int = MAX_SECONDS * 1000) -> int:
    """A duration typed by a person, in whole ms: "90" is seconds, or "500ms", "1.5s", "2m", "1h".
    An int is already ms."""
    span = f"({_num(lo_ms / 1000)} s to {_num(hi_ms / 1000)} s)"
    if isinstance(value, int) and not isinstance(value, bool):
        return parse_int(value, f"{what} (ms)", lo_ms, hi_ms)
    raw = _text(value)
    text = raw.lower()
    if not text:
        raise NumberError(f"{what} is empty {span}")
    if text.startswith("-"):
        raise NumberError(f"{what} cannot be negative, got {shown(raw)} {span}")
    m = _DURATION_RE.fullmatch(text)
    if not m:
        raise NumberError(f"{what} must be a number of seconds (or 500ms, 2m, 1h), got {shown(raw)} {span}")
    ms = float(m.group(1)) * _UNITS_MS[m.group(2)]
    if not math.isfinite(ms) or ms > hi_ms:
        raise NumberError(f"{what} must be at most {_num(hi_ms / 1000)} s, got {shown(raw)} {span}")
    if ms < lo_ms:
        raise NumberError(f"{what} must be at least {_num(lo_ms / 1000)} s, got {shown(raw)} {span}")
    return round(ms)


N = TypeVar("N", bound=float)  # what a Field gives: int ("int", "duration" in ms) or float


@dataclass(frozen=True)
class Field(Generic[N]):
    """One numeric input: its name in messages, its kind and its range.

    kind: "int" (whole number), "float" (above `lo` when `above`), "seconds" (a float of seconds),
    "duration" (typed seconds or 500ms/2m/1h, returned as int ms)."""

    what: str
    kind: str
    lo: float
    hi: float
    above: bool = False
    unit: str = ""

    def parse(self, value: object) -> N:
        if self.kind == "int":
            return cast(N, parse_int(value, self.what, int(self.lo), int(self.hi)))
        if self.kind == "duration":
            return cast(N, parse_duration_ms(value, self.what, int(self.lo * 1000), int(self.hi * 1000)))
        return cast(N, parse_float(value, self.what, self.lo, self.hi, above=self.above, unit=self.unit))

    def arg(self, text: str) -> N:
        """The argparse type: a refusal becomes argparse's one-line error (exit 1 in cli)."""
        try:
            return self.parse(text)
        except NumberError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None


def seconds(what: str, lo: float, hi: float, *, above: bool = True) -> Field[float]:
    return Field(what, "seconds", lo, hi, above=above, unit="s")


# ---- every numeric input of streamtop ---------------------------------------------------------

# the connection options of every command (-p, -n/--db; a URL's are checked in connection.py)
PORT: Field[int] = Field("port", "int", 1, 65535)
DB: Field[int] = Field("database", "int", 0, 2**31 - 1)
# the dashboard (and demo)
INTERVAL = seconds("interval", 0.05, 3600, above=False)
STUCK_AFTER = seconds("stuck-after", 0.001, MAX_SECONDS, above=False)
POISON_DELIVERIES: Field[int] = Field("poison deliveries", "int", 1, 1_000_000_000)
MAX_STREAMS: Field[int] = Field("max streams", "int", 1, 1_000_000)
MAX_SERVER_LOAD: Field[float] = Field("max server load", "float", 0, 100, above=True, unit="%")
# status
RATES_INTERVAL = seconds("rates interval", 0.05, 600, above=False)
MAX_LAG: Field[int] = Field("max lag", "int", 0, INT64_MAX)
MAX_PENDING: Field[int] = Field("max pending", "int", 0, INT64_MAX)
MAX_IDLE = seconds("max idle", 0, MAX_SECONDS, above=False)
MAX_LENGTH: Field[int] = Field("max length", "int", 0, INT64_MAX)
# health: the sliding window of the verdicts (status samples for that long; the dashboard keeps it)
WINDOW: Field[int] = Field("window", "duration", 0, 86_400)
# serve: 0 asks the system for a free port (printed on stderr)
METRICS_PORT: Field[int] = Field("metrics port", "int", 0, 65535)
# produce: a floor on the rate, so no wait between two entries is longer than 100 s
PRODUCE_COUNT: Field[int] = Field("count", "int", 1, 10_000_000)
PRODUCE_RATE: Field[float] = Field("rate", "float", 0.01, 1_000_000, unit="entries/s")
PRODUCE_MAXLEN: Field[int] = Field("maxlen", "int", 1, INT64_MAX)
# tail
TAIL_COUNT: Field[int] = Field("count", "int", 0, 1_000_000)
# demo
DEMO_RATE: Field[float] = Field(
    "rate", "float", 0, 100_000, above=True, unit="events/s"
)  # as workload.check_rate
FAIL_ABOVE: Field[float] = Field("fail-above", "float", -1000, 1000)
DEMO_CONSUMERS: Field[int] = Field("consumers", "int", 1, 100)
DEMO_MAXLEN: Field[int] = Field("maxlen", "int", 1, INT64_MAX)
DEMO_LESSON: Field[int] = Field("lesson", "int", 1, 12)  # demo/lessons.py LESSONS (a test holds them equal)
# dialogs (and the actions layer, which checks again)
BURST_COUNT: Field[int] = Field("burst size", "int", 1, 1_000_000)
BURST_MAXLEN: Field[int] = Field("MAXLEN", "int", 0, INT64_MAX)
CLAIM_MIN_IDLE: Field[int] = Field("min idle time", "duration", 0, MAX_SECONDS)
CLAIM_COUNT: Field[int] = Field("cap", "int", 1, 1_000_000)
TRIM_MAXLEN: Field[int] = Field("MAXLEN", "int", 0, INT64_MAX)
DLQ_DELIVERIES: Field[int] = Field("minimum deliveries", "int", 1, INT64_MAX)
# the action commands (streamtop trim / claim / ack / deadletter / redrive / group)
MIN_IDLE_MS: Field[int] = Field("min idle (ms)", "int", 0, MAX_SECONDS * 1000)
MOVE_COUNT: Field[int] = Field("count", "int", 1, 1_000_000)

# streamtop web
WEB_PORT: Field[int] = Field("web port", "int", 1, 65_535)
WEB_SESSIONS: Field[int] = Field("max sessions", "int", 1, 1000)

FIELDS = {name: f for name, f in globals().items() if isinstance(f, Field)}
