"""The recording's codec and what a person types for it (issue 30): a stream comes back as it was,
an idle consumer encodes the same poll after poll, a moment, an age and a size parse or say why not."""

from __future__ import annotations

from datetime import datetime

import pytest

from streamtop.pipeline.model import (
    ConsumerInfo,
    GroupInfo,
    Lag,
    LagSource,
    PendingEntry,
    PendingSummary,
    StreamInfo,
    TimeLag,
    TimeLagSource,
)
from streamtop.record.codec import AGE_SLACK_MS, Encoded, decode_stream, encode_stream
from streamtop.record.moments import MomentError, parse_age, parse_moment, parse_size

NOW = 1_765_000_000_000


def stream(idle: int = 5_000, lag: Lag | None = None) -> StreamInfo:
    """Every age grows with `idle` (a later poll of the same server)."""
    more = idle - 5_000
    oldest = PendingEntry("1764999990000-0", b"c\xff1", idle + 10, 3)
    return StreamInfo(
        key=b"orders\n\xff",
        length=12,
        first_entry_id="1764999990000-0",
        last_entry_id="1764999999000-1",
        last_generated_id="1764999999000-1",
        entries_added=40,
        max_deleted_entry_id="0-0",
        recorded_first_entry_id="1764999990000-0",
        groups=(
            GroupInfo(
                name=b"g1",
                consumers=2,
                pending=3,
                last_delivered_id="1764999995000-0",
                entries_read=30,
                lag=lag or Lag(LagSource.ESTIMATE, None, 7, True, 1_764_999_999.5),
                consumer_list=(
                    ConsumerInfo(b"c\xff1", 3, idle, idle + 1),
                    ConsumerInfo(b"c2", 0, 100 + more, -1),
                    ConsumerInfo(b"old", 0, 9 + more, None),
                ),
                pending_summary=PendingSummary(
                    3, "1764999990000-0", "1764999995000-0", ((b"c\xff1", 3),), oldest
                ),
                time_lag=TimeLag(TimeLagSource.EXACT, 5_000 + more),
                oldest_pending_age_ms=10_000 + more,
            ),
            GroupInfo(
                b"caught-up",
                0,
                0,
                "1764999999000-1",
                40,
                Lag(LagSource.EXACT, 0),
                time_lag=TimeLag(TimeLagSource.EXACT, 0),
            ),
        ),
        stale=True,
        info_taken_at=1_764_999_999.0,
    )


def test_a_stream_comes_back_exactly_as_it_was() -> None:
    s = stream()
    e = encode_stream(s, NOW)
    assert decode_stream(Encoded.unpack(e.packable()), NOW) == s


def test_ages_move_on_with_the_poll_that_reads_them_and_an_idle_consumer_encodes_the_same() -> None:
    a = encode_stream(stream(idle=5_000), NOW)
    later = encode_stream(stream(idle=6_000), NOW + 1_000)  # one poll on: idle 1 s longer
    assert later.same(a)
    moved = decode_stream(a, NOW + 1_000)
    assert moved.groups[0].consumer_list[0].idle_ms == 6_000  # read a second later
    assert moved.groups[0].consumer_list[1].inactive_ms == -1  # "never" stays so
    assert moved.groups[1].time_lag.ms == 0  # caught up stays 0, not an age
    jitter = encode_stream(stream(idle=5_000 + AGE_SLACK_MS + 1), NOW)
    assert not jitter.same(a)  # more than the slack: written again
    assert not encode_stream(stream(lag=Lag(LagSource.EXACT, 3)), NOW).same(a)


def test_moments_ages_and_sizes() -> None:
    start, end = 1_765_000_000.0, 1_765_003_600.0
    assert parse_moment("end", start, end) == end
    assert parse_moment("-5m", start, end) == end - 300
    assert parse_moment("+10m", start, end) == start + 600
    assert parse_moment("1765001000.5", start, end) == 1_765_001_000.5
    clock = datetime.fromtimestamp(end).replace(second=0, microsecond=0)
    assert parse_moment(clock.strftime("%H:%M"), start, end) == clock.timestamp()
    assert parse_moment(clock.isoformat(), start, end) == clock.timestamp()
    assert parse_age("7d") == 7 * 86_400 and parse_age("90m") == 5_400
    assert parse_size("2GB") == 2_000_000_000 and parse_size("500mb") == 500_000_000
    for bad, fn in (
        ("yesterday", parse_moment),
        ("7 days", parse_age),
        ("2 PB", parse_size),
        ("10k", parse_size),
    ):
        with pytest.raises(MomentError):
            fn(bad)
