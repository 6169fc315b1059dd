"""Short text forms of the numbers the panels show. Unknown is "?" (never 0)."""

from __future__ import annotations

from rich.text import Text

from ..model import Lag, LagSource, label

UNKNOWN = "?"


def duration_ms(ms: int | float | None) -> str:
    """850ms, 4.2s, 3m04s, 2h05m, 3d04h."""
    if ms is None:
        return UNKNOWN
    if ms < 0:
        return "never"
    if ms < 1000:
        return f"{int(ms)}ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f}s"
    m, s = divmod(int(s), 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"


def age(seconds: float | None) -> str:
    return UNKNOWN if seconds is None else duration_ms(seconds * 1000)


def rate(value: float | None) -> str:
    if value is None:
        return UNKNOWN
    if value >= 1000:
        return f"{value / 1000:.1f}k/s"
    if value >= 10 or value == 0:
        return f"{value:.0f}/s"
    return f"{value:.1f}/s"


def count(value: int | None) -> str:
    return UNKNOWN if value is None else f"{value:,}"


def lag_text(lag: Lag | None) -> Text:
    """Exact lag plain; an estimate ("~N", ">=N") italic yellow; unknown "?" magenta."""
    if lag is None:
        return Text("-", style="dim")
    text = lag.text()
    if lag.source is LagSource.EXACT and lag.value is not None:
        return Text(text, style="bold red" if lag.value > 1000 else "")
    if lag.best is not None:
        return Text(text, style="italic yellow")
    return Text(text, style="magenta")


def name(value: bytes | str | None, limit: int = 60) -> str:
    """A key or name on one line, cut to `limit` characters (only the head is decoded)."""
    if value is None:
        return "-"
    head = value[: limit * 4]
    text = label(head)
    if len(text) > limit or len(head) < len(value):
        return text[: limit - 1] + "…"
    return text


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"
