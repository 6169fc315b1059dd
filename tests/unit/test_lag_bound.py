"""The lag checked against the stream (parse.group_lag with model.entries_after_bound): a server lag
above the entries that can be after the group's position is never exact; below the first entry the
lag is the stream's length, exactly; at or past the last entry, 0."""

from __future__ import annotations

from streamtop.pipeline.model import Lag, LagSource, StreamInfo, entries_after_bound
from streamtop.pipeline.parse import group_lag

STREAM = StreamInfo(key=b"s", length=30, first_entry_id="100-0", last_entry_id="129-0")


def group(position: str, lag: int | None) -> dict:
    return {"name": b"g", "last-delivered-id": position, "lag": lag}


def test_below_the_first_entry_the_lag_is_the_length_exactly():
    assert group_lag(group("3-0", 36), stream=STREAM) == Lag(LagSource.EXACT, value=30)
    assert group_lag(group("3-0", None), stream=STREAM) == Lag(LagSource.EXACT, value=30)  # NULL or 6.2
    assert group_lag(group("0-0", 30), stream=STREAM) == Lag(LagSource.EXACT, value=30)


def test_a_lag_larger_than_what_can_follow_the_position_is_not_exact():
    # the position is at the first entry: at most 29 entries after it
    assert group_lag(group("100-0", 36), stream=STREAM) == Lag(LagSource.UNKNOWN)
    assert group_lag(group("100-0", 36), 29, False, STREAM) == Lag(LagSource.ESTIMATE, estimate=29)
    assert group_lag(group("100-0", 29), stream=STREAM) == Lag(LagSource.EXACT, value=29)
    assert group_lag(group("110-0", 19), stream=STREAM) == Lag(LagSource.EXACT, value=19)


def test_at_or_past_the_last_entry_nothing_is_left_and_an_empty_stream_has_nothing():
    assert group_lag(group("129-0", 4), stream=STREAM) == Lag(LagSource.EXACT, value=0)
    empty = StreamInfo(key=b"s", length=0)
    assert group_lag(group("5-0", None), stream=empty) == Lag(LagSource.EXACT, value=0)


def test_without_the_stream_or_with_a_stale_one_the_servers_number_stands():
    assert group_lag(group("3-0", 36)) == Lag(LagSource.EXACT, value=36)
    stale = StreamInfo(key=b"s", length=30, first_entry_id="100-0", last_entry_id="129-0", stale=True)
    assert group_lag(group("3-0", 36), stream=stale) == Lag(LagSource.EXACT, value=36)
    assert entries_after_bound("not-an-id", 30, "100-0", "129-0") is None
