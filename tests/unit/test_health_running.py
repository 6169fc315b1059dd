"""health.RunningWindow keeps a window's facts poll by poll (what History judges every poll); it must
say exactly what facts_of and judge say over the same polls, whatever the timeline: unknown lags,
positions and adds, polls far apart, polls dropped by the cap, the head of the PEL changing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamtop.pipeline.health import GroupSample, RunningWindow, facts_of, judge

T0 = 1_800_000_000.0
WINDOW = 10.0


@st.composite
def timelines(draw) -> list[GroupSample]:
    """Polls of one group with counters that never go back (History clears on a reset)."""
    n = draw(st.integers(1, 40))
    t, pos, last, read, added = T0, 100, 100, 100, 100
    out = []
    for _ in range(n):
        t += draw(st.sampled_from([0.1, 0.5, 1.0, 3.0, 11.0]))
        step = draw(st.integers(0, 3))
        pos += step
        read += step
        last += draw(st.integers(0, 3))
        added = last
        lag = draw(st.one_of(st.none(), st.integers(0, 6)))
        out.append(
            GroupSample(
                t=t,
                position=draw(st.sampled_from([(pos, 0), None])) if draw(st.booleans()) else (pos, 0),
                last_id=(last, 0),
                entries_read=draw(st.sampled_from([read, None])),
                added=draw(st.sampled_from([added, None])),
                length=last,
                lag=lag,
                behind=draw(st.sampled_from([True, False, None])) if lag is None else lag > 0,
                time_lag_ms=draw(st.one_of(st.none(), st.integers(0, 5000))),
                pending=draw(st.integers(0, 2)),
                oldest_pending_id=draw(st.sampled_from([None, "1-0", "2-0"])),
                oldest_pending_idle_ms=draw(st.one_of(st.none(), st.integers(0, 20_000))),
                consumers=draw(st.integers(0, 2)),
                seen_ms=draw(st.one_of(st.none(), st.integers(0, 20_000))),
                read_ago_ms=draw(st.one_of(st.none(), st.integers(0, 20_000))),
            )
        )
    return out


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(polls=timelines(), maxlen=st.sampled_from([3, 8, 4096]))
def test_running_window_says_what_a_pass_over_the_polls_says(polls, maxlen):
    rw = RunningWindow(maxlen)
    for s in polls:
        rw.append(s)
        while len(rw) > 2 and rw[1].t <= s.t - WINDOW:  # as History trims it
            rw.popleft()
        held = list(rw)
        assert len(held) <= maxlen
        assert rw.facts() == facts_of(held)
        assert rw.judge(WINDOW) == judge(held, WINDOW, reset_free=True)


def test_clear_starts_again():
    s = GroupSample(t=T0, position=(1, 0), last_id=(2, 0), lag=1, behind=True)
    rw = RunningWindow(10)
    rw.append(s)
    rw.append(GroupSample(t=T0 + 1, position=(2, 0), last_id=(2, 0), lag=0, behind=False))
    rw.clear()
    rw.append(s)
    assert rw.facts() == facts_of([s]) and len(rw) == 1
