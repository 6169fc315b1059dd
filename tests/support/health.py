"""Health samples written down (no server, no clock): a poll of one group as `health.GroupSample`,
for the tests of the verdicts (tests/unit/test_health.py, test_health_offscreen.py)."""

from __future__ import annotations

from streamtop.pipeline.health import GroupSample

W = 60.0  # the window of these timelines, in seconds
T0 = 1_800_000_000.0  # epoch seconds of the first poll (2027)


def sample(
    t: float,
    *,
    pos: int,
    last: int,
    lag: int | None = None,
    read: int | None = None,
    added: int | None = None,
    pending: int = 0,
    oldest: str | None = None,
    idle: int | None = None,
    consumers: int = 1,
    seen: int | None = 100,
    read_ago: int | None = None,
    capped: bool = False,
    time_lag: int | None = None,
    length: int = 0,
) -> GroupSample:
    """A poll at T0 + t: positions and last IDs are entry numbers (ID `n-0`); `lag` defaults to
    last - pos, entries_read to pos and entries-added to last (a 7.0+ server)."""
    lag = last - pos if lag is None and not capped else lag
    return GroupSample(
        t=T0 + t,
        position=(pos, 0),
        last_id=(last, 0),
        entries_read=pos if read is None else read,
        added=last if added is None else added,
        length=length or last,
        lag=None if capped else lag,
        lag_at_least=lag if capped else None,
        behind=(lag or 0) > 0 or capped,
        time_lag_ms=time_lag,
        pending=pending,
        oldest_pending_id=oldest,
        oldest_pending_idle_ms=idle,
        oldest_pending_deliveries=1 if oldest else None,
        oldest_pending_consumer=b"c2" if oldest else None,
        consumers=consumers,
        seen_ms=seen if consumers else None,
        read_ago_ms=read_ago,
    )
