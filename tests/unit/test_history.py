"""Rates and sparkline series from successive snapshots built by hand with chosen times (from a real
server: tests/integration/test_rates.py; on the sparkline widget: tests/ui/test_sparkline.py)."""

from __future__ import annotations

import dataclasses

import pytest

from streamtop.pipeline.history import HISTORY_POINTS, History, Series
from streamtop.pipeline.model import GroupInfo, Lag, LagSource, Snapshot, StreamInfo


def group(name=b"g", entries_read=None, lag=None) -> GroupInfo:
    return GroupInfo(
        name=name,
        consumers=1,
        pending=0,
        last_delivered_id="0-0",
        entries_read=entries_read,
        lag=lag or Lag(LagSource.UNKNOWN),
    )


def snap(t: float, *streams: StreamInfo) -> Snapshot:
    return Snapshot(taken_at=t, streams=streams)


def test_rates_from_entries_added_and_entries_read():
    h = History()
    h.update(snap(100.0, StreamInfo(b"s", length=10, entries_added=10, groups=(group(entries_read=4),))))
    assert h.stream_rate(b"s") is None  # one point is no rate
    assert h.group_rate(b"s", b"g") is None
    h.update(snap(102.0, StreamInfo(b"s", length=10, entries_added=30, groups=(group(entries_read=10),))))
    assert h.stream_rate(b"s") == pytest.approx(10.0)  # 20 added in 2 s; length stayed (trimmed)
    assert h.group_rate(b"s", b"g") == pytest.approx(3.0)
    assert list(h.in_rate[b"s"].points) == [None, pytest.approx(10.0)]
    assert h.in_rate[b"s"].values() == [pytest.approx(10.0)]  # the leading unknown is left out


def test_length_based_rate_on_62_and_trims_give_no_rate():
    """6.2 has no entries-added: the length delta, and nothing (not a negative) when it shrinks."""
    h = History()
    h.update(snap(0.0, StreamInfo(b"s", length=10, groups=(group(),))))
    h.update(snap(4.0, StreamInfo(b"s", length=18, groups=(group(),))))
    assert h.stream_rate(b"s") == pytest.approx(2.0)
    assert h.group_rate(b"s", b"g") is None  # no entries-read on 6.2: unknown, not 0
    h.update(snap(5.0, StreamInfo(b"s", length=3)))
    assert h.stream_rate(b"s") is None


def test_deleted_and_recreated_stream_gives_no_negative_rate():
    h = History()
    h.update(snap(0.0, StreamInfo(b"s", length=100, entries_added=100, groups=(group(entries_read=90),))))
    h.update(snap(1.0, StreamInfo(b"s", length=3, entries_added=3, groups=(group(entries_read=1),))))
    assert h.stream_rate(b"s") is None
    assert h.group_rate(b"s", b"g") is None
    h.update(snap(2.0, StreamInfo(b"s", length=5, entries_added=5, groups=(group(entries_read=2),))))
    assert h.stream_rate(b"s") == pytest.approx(2.0)
    assert h.group_rate(b"s", b"g") == pytest.approx(1.0)
    # gone for a poll, then back: the gap gives no rate either
    h.update(snap(3.0))
    assert h.stream_rate(b"s") is None and b"s" not in h.in_rate
    h.update(snap(4.0, StreamInfo(b"s", length=1, entries_added=1)))
    assert h.stream_rate(b"s") is None
    assert all(v is None or v >= 0 for series in h.in_rate.values() for v in series.points)


def test_error_entries_and_vanished_groups_drop_their_series():
    h = History()
    h.update(snap(0.0, StreamInfo(b"s", entries_added=1, groups=(group(b"a", 1), group(b"b", 1)))))
    h.update(snap(1.0, StreamInfo(b"s", entries_added=2, groups=(group(b"a", 2),))))
    assert set(h.read_rate) == {(b"s", b"a")} and set(h.lag) == {(b"s", b"a")}
    h.update(snap(2.0, StreamInfo(b"s", error="WRONGTYPE Operation against a key")))
    assert h.in_rate == {} and h.read_rate == {}
    h.update(snap(3.0, StreamInfo(b"s", entries_added=5)))
    assert h.stream_rate(b"s") is None  # the previous one was an error: no delta to take


def test_non_increasing_time_gives_no_rate():
    h = History()
    h.update(snap(5.0, StreamInfo(b"s", entries_added=1)))
    h.update(snap(5.0, StreamInfo(b"s", entries_added=9)))
    assert h.stream_rate(b"s") is None


def test_lag_series_keeps_unknown_as_unknown():
    h = History()
    lags = [
        Lag(LagSource.EXACT, value=4),
        Lag(LagSource.ESTIMATE, estimate=7, capped=True),
        Lag(LagSource.UNKNOWN),
    ]
    for t, lag in enumerate(lags):
        h.update(snap(float(t), StreamInfo(b"s", groups=(group(lag=lag),))))
    assert list(h.lag[(b"s", b"g")].points) == [4, 7, None]


def test_ring_buffers_hold_the_last_120_points():
    assert HISTORY_POINTS == 120
    h = History()
    for t in range(130):  # t entries added by time t... at t*t: rate 2t+1 per second
        h.update(snap(float(t), StreamInfo(b"s", entries_added=t * t, groups=(group(entries_read=t),))))
    points = list(h.in_rate[b"s"].points)
    assert len(points) == 120 and len(h.read_rate[(b"s", b"g")].points) == 120
    assert len(h.lag[(b"s", b"g")].points) == 120
    assert points[0] == pytest.approx(2 * 10 - 1)  # points for t = 10 .. 129 remain
    assert points[-1] == pytest.approx(2 * 129 - 1)


def test_series_values_never_draw_unknown_as_zero():
    s = Series()
    for v in (None, None, 5.0, None, 7.0, None, None):
        s.add(v)
    assert s.values() == [5.0, 5.0, 7.0, 7.0, 7.0]
    assert Series().values() == []


def test_a_quiet_groups_window_shares_its_unchanged_values_and_keeps_the_changed():
    """Issue 29 (serve's memory): each poll's sample of a group that did not move refers to the
    previous sample's ID tuples and numbers instead of copies; what changed is its own."""
    h = History()

    def poll(t: float, entries_read: int, last: str) -> None:
        g = GroupInfo(b"g", 1, 0, "1700000000000-5", entries_read, Lag(LagSource.EXACT, 0))
        s = StreamInfo(b"s", length=10, entries_added=123456789, last_entry_id=last, last_generated_id=last)
        h.update(snap(t, dataclasses.replace(s, groups=(g,))))

    poll(100.0, 987654321, "1700000000000-9")
    poll(101.0, 987654321, "1700000000000-9")
    poll(102.0, 987654322, "1700000000001-0")
    a, b, c = h.samples[(b"s", b"g")]
    assert b.position == a.position and b.position is a.position
    assert b.last_id is a.last_id and b.entries_read is a.entries_read and b.added is a.added
    assert c.last_id == (1700000000001, 0) and c.last_id is not b.last_id  # changed: its own value
    assert c.entries_read == 987654322 and c.position is b.position  # the position did not move
    assert (a.t, b.t, c.t) == (100.0, 101.0, 102.0)
