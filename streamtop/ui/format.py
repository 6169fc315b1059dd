"""Short text forms of the numbers the panels show. Unknown is "?" (never 0)."""

from __future__ import annotations

from rich.text import Text

from ..model import Lag, LagSource
from ..render import UNKNOWN, count, duration_ms, name_text, rate, text

__all__ = ["UNKNOWN", "age", "count", "duration_ms", "lag_text", "name", "rate", "size", "text"]


def age(seconds: float | None) -> str:
    return UNKNOWN if seconds is None else duration_ms(seconds * 1000)


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


def name(value: bytes | str | None, limit: int = 60, style: str = "") -> Text:
    """A key or name on one line: escaped, never markup, cut to `limit` cells (render.name_text)."""
    return name_text(value, limit, style)


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"
