"""Short text forms of the numbers the panels show. Unknown is "?" (never 0)."""

from __future__ import annotations

from rich.text import Text

from streamtop.pipeline.model import Lag, LagSource
from streamtop.pipeline.render import (
    HEALTH_STYLES,
    UNKNOWN,
    count,
    duration_ms,
    health_text,
    name_text,
    rate,
    text,
    time_lag,
)

__all__ = [
    "HEALTH_STYLES",
    "NOT_READ",
    "UNKNOWN",
    "age",
    "count",
    "duration_ms",
    "health_text",
    "lag_text",
    "name",
    "rate",
    "size",
    "text",
    "time_lag",
]


def not_read() -> Text:
    """A value an off-screen summary does not carry (issue 17): read when the row comes into view.
    Neither "-" (none) nor a number."""
    return Text(NOT_READ, "dim")


NOT_READ = "…"


def age(seconds: float | None) -> str:
    return UNKNOWN if seconds is None else duration_ms(seconds * 1000)


def lag_text(lag: Lag | None) -> Text:
    """Exact lag plain; an estimate ("~N", ">=N") italic yellow (dim when kept); unknown "?" magenta."""
    if lag is None:
        return Text("-", style="dim")
    text = lag.text()
    if lag.source is LagSource.EXACT and lag.value is not None:
        return Text(text, style="bold red" if lag.value > 1000 else "")
    if lag.best is not None:  # dim: an off-screen row's estimate kept from an earlier count
        return Text(text, style="italic yellow" if lag.as_of is None else "dim italic yellow")
    return Text(text, style="magenta")


def name(value: bytes | str | None, limit: int = 60, style: str = "") -> Text:
    """A key or name on one line: escaped, never markup, cut to `limit` cells (render.name_text)."""
    return name_text(value, limit, style)


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"
