"""Short human forms of durations, rates and counts, as plain str: what the headless layers
(health verdicts' reasons, liveness) need of `render`, without Rich (streamtop serve's poll never
imports it: docs/serve-lean.md). `render` re-exports them.

Unknown (None) is always "?", never 0: a missing value must not read as "all fine".
"""

from __future__ import annotations

from streamtop.pipeline.model import TimeLag, TimeLagSource

UNKNOWN = "?"


def duration_ms(ms: float | None) -> str:
    """Compact and sortable by eye: '850ms', '12.4s', '1m05s', '2h03m', '3d04h'."""
    if ms is None:
        return UNKNOWN
    if ms < 0:
        return "-" + duration_ms(-ms)
    if ms < 1000:
        return f"{int(ms)}ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f}s"
    m, s = divmod(int(ms // 1000), 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"


def rate(per_s: float | None) -> str:
    """Events per second: '0/s', '0.5/s', '12/s', '1.2k/s', '3.4M/s'."""
    if per_s is None:
        return UNKNOWN
    if per_s < 10:
        text = f"{per_s:.1f}".rstrip("0").rstrip(".")
        return f"{text}/s"
    if per_s < 1000:
        return f"{per_s:.0f}/s"
    return f"{count(per_s)}/s"


def count(n: float | None) -> str:
    """A count with k/M/G above ten thousand (1234 stays exact: short enough and precise)."""
    if n is None:
        return UNKNOWN
    if abs(n) < 10_000:
        return f"{n:.0f}" if isinstance(n, float) else str(n)
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return str(n)  # pragma: no cover - unreachable


def time_lag(lag: TimeLag) -> str:
    """'0' caught up, '4m05s' exact, '<=4m05s' a bound, 'ids' for manual IDs, '?' unknown."""
    if lag.ms is None:
        return "ids" if lag.source is TimeLagSource.NOT_TIME else UNKNOWN
    shown = "0" if lag.ms == 0 else duration_ms(lag.ms)
    return f"<={shown}" if lag.source is TimeLagSource.AT_MOST else shown
