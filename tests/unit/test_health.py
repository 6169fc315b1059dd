"""health.judge as a pure function over timelines of polls: one test per verdict and per boundary.

The clock is the polls' own `t`: a timeline is a list of GroupSample, so slow streams, bursts,
restarts and a full or partial window are written down rather than waited for.
"""

from __future__ import annotations

import pytest

from streamtop.pipeline.health import GroupSample, Verdict, judge, window_of, worst
from streamtop.pipeline.history import History
from streamtop.pipeline.model import ConsumerInfo, GroupInfo, Lag, LagSource, Snapshot, StreamInfo
from tests.support.health import T0, W, sample


def steady(n: int, *, dt: float = 1.0, add: int, read: int, start_lag: int = 0, **kw) -> list:
    """n+1 polls dt apart: `add` entries added and `read` read per interval."""
    out = []
    pos, last = 1000, 1000 + start_lag
    for i in range(n + 1):
        out.append(sample(i * dt, pos=pos, last=last, **kw))
        pos, last = pos + read, last + add
    return out


def test_no_polls_is_unknown():
    assert judge([], W).verdict is Verdict.UNKNOWN


# ok ------------------------------------------------------------------------------------------


def test_ok_when_lag_reached_zero_in_the_window():
    polls = [
        sample(0, pos=10, last=15),
        sample(20, pos=30, last=30),
        sample(40, pos=40, last=45),
        sample(60, pos=50, last=60),
    ]
    h = judge(polls, W)
    assert h.verdict is Verdict.OK
    assert h.reason == "lag 0 40.0s ago, 10 now (reads 0.7/s, adds 0.8/s)"


def test_ok_when_shrinking_with_eta():
    polls = steady(60, add=5, read=15, start_lag=1000)  # lag 1000 -> 400, net 10/s
    h = judge(polls, W)
    assert (h.verdict, h.read_rate, h.add_rate) == (Verdict.OK, 15.0, 5.0)
    assert h.eta_s == pytest.approx(40.0)
    assert h.reason == "catching up in ~40.0s (reads 15/s, adds 5/s)"


def test_ok_caught_up_while_entries_arrive():
    h = judge(steady(10, add=3, read=3), W)
    assert (h.verdict, h.reason) == (Verdict.OK, "caught up (reads 3/s, adds 3/s)")


# falling_behind ------------------------------------------------------------------------------


def test_falling_behind_when_lag_grows_in_every_interval_of_a_full_window():
    h = judge(steady(60, add=100, read=70, start_lag=5), W)
    assert h.verdict is Verdict.FALLING_BEHIND
    assert h.reason == ("lag grew in 60 of 60 intervals: falling behind by 30/s (reads 70/s, adds 100/s)")
    assert h.eta_s is None


@pytest.mark.parametrize(("grew", "verdict"), [(8, Verdict.FALLING_BEHIND), (7, Verdict.OK)])
def test_falling_behind_boundary_nearly_every_interval(grew, verdict):
    """10 intervals of 6 s: the lag grows in `grew` of them and holds in the others; 80 %."""
    polls, pos, last = [], 100, 110
    for i in range(11):
        polls.append(sample(i * 6.0, pos=pos, last=last))
        pos, last = pos + 10, last + (11 if i < grew else 10)
    assert judge(polls, W).verdict is verdict


def test_growth_in_a_window_not_yet_full_is_only_watched():
    polls = steady(30, add=100, read=70, start_lag=5)  # 30 s of a 60 s window
    h = judge(polls, W)
    assert h.verdict is Verdict.UNKNOWN
    assert h.reason == "lag grew in 30 of 30 intervals so far (30.0s of 1m00s)"
    assert judge(steady(60, add=100, read=70, start_lag=5), W).verdict is Verdict.FALLING_BEHIND


def test_capped_estimates_fall_back_to_time_lag():
    """6.2 far behind: the count is capped (>=1000) every poll, but the exact time lag grows."""
    polls = [
        sample(
            i,
            pos=1000 + 10 * i,
            last=5000 + 20 * i,
            lag=1000,
            capped=True,
            read=None,
            added=None,
            time_lag=60_000 + 500 * i,
        )
        for i in range(61)
    ]
    polls = [
        GroupSample(
            **{**{f: getattr(p, f) for f in GroupSample.__slots__}, "entries_read": None, "added": None}
        )
        for p in polls
    ]
    h = judge(polls, W)
    assert h.verdict is Verdict.FALLING_BEHIND
    assert h.read_rate is None


def test_bursty_producer_is_not_falling_behind():
    """Bursts of 300 every 10 s, drained in 3 s: the lag jumps and falls back to 0."""
    polls, pos, last = [], 0, 0
    for i in range(61):
        if i % 10 == 0:
            last += 300
        pos = min(last, pos + 100)
        polls.append(sample(i, pos=pos, last=last))
    h = judge(polls, W)
    assert h.verdict is Verdict.OK
    assert h.reason.startswith("lag 0")


def test_slow_stream_is_ok_or_idle():
    """One entry every 30 s, read at once: ok while entries come, idle once none came for the
    whole window."""
    polls = [sample(i, pos=i // 30, last=i // 30) for i in range(61)]
    assert judge(polls, W).verdict is Verdict.OK
    quiet = [sample(i, pos=5, last=5) for i in range(61)]
    assert judge(quiet, W).verdict is Verdict.IDLE


# stalled -------------------------------------------------------------------------------------


def test_stalled_when_seen_consumers_do_not_move_for_the_window():
    polls = [sample(i, pos=100, last=100 + 5 * i + 5) for i in range(61)]
    h = judge(polls, W)
    assert h.verdict is Verdict.STALLED
    assert h.reason == ("consumers seen 100ms ago, but the position has not moved for 1m00s with 305 to read")


def test_stalled_boundary_the_position_must_hold_for_the_whole_window():
    polls = [sample(i, pos=100, last=110) for i in range(60)]  # 59 s
    h = judge(polls, W)
    assert h.verdict is Verdict.UNKNOWN
    assert h.reason.startswith("position unchanged for 59.0s with 10 to read")
    polls.append(sample(60, pos=100, last=110))
    assert judge(polls, W).verdict is Verdict.STALLED


def test_one_move_in_the_window_is_not_stalled():
    polls = [sample(i, pos=100 if i != 60 else 101, last=110) for i in range(61)]
    assert judge(polls, W).verdict is Verdict.OK


@pytest.mark.parametrize(("read_ago", "verdict"), [(60_000, Verdict.STALLED), (59_999, Verdict.UNKNOWN)])
def test_stalled_from_inactive_without_a_full_window(read_ago, verdict):
    """7.2+: `inactive` says since when no consumer read anything, so two polls are enough."""
    polls = [
        sample(0, pos=100, last=110, read_ago=read_ago - 1000),
        sample(1, pos=100, last=110, read_ago=read_ago),
    ]
    assert judge(polls, W).verdict is verdict


# stopped -------------------------------------------------------------------------------------


def test_stopped_without_consumers_from_one_poll():
    h = judge([sample(0, pos=0, last=12, consumers=0)], W)
    assert (h.verdict, h.reason) == (Verdict.STOPPED, "12 to read and the group has no consumers")


@pytest.mark.parametrize(("seen", "verdict"), [(60_000, Verdict.STOPPED), (59_999, Verdict.UNKNOWN)])
def test_stopped_boundary_no_consumer_seen_during_the_window(seen, verdict):
    h = judge([sample(0, pos=0, last=12, seen=seen)], W)
    assert h.verdict is verdict
    if verdict is Verdict.STOPPED:
        assert h.reason == "12 to read; no consumer seen for 1m00s (window 1m00s)"


def test_stopped_with_pending_held_by_vanished_consumers():
    """Nothing new to read, but entries held longer than the window and nobody around."""
    h = judge([sample(0, pos=12, last=12, pending=3, oldest="5-0", idle=90_000, seen=90_000)], W)
    assert h.verdict is Verdict.STOPPED
    assert h.reason.startswith("3 pending held 1m30s")


def test_group_created_at_dollar_with_nothing_added_is_idle_not_stopped():
    polls = [sample(i * 10, pos=50, last=50, consumers=0) for i in range(7)]
    assert judge(polls, W).verdict is Verdict.IDLE
    polls.append(sample(70, pos=50, last=51, consumers=0))
    assert judge(polls, W).verdict is Verdict.STOPPED


# stuck ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("idle", "verdict"), [(60_000, Verdict.STUCK), (59_999, Verdict.OK)])
def test_stuck_boundary_oldest_held_for_the_window_while_reads_go_on(idle, verdict):
    polls = [
        sample(0, pos=100, last=100, pending=5, oldest="7-0", idle=idle - 2000),
        sample(1, pos=110, last=110, pending=6, oldest="7-0", idle=idle - 1000),
        sample(2, pos=120, last=120, pending=7, oldest="7-0", idle=idle),
    ]
    h = judge(polls, W)
    assert h.verdict is verdict
    if verdict is Verdict.STUCK:
        assert h.reason == (
            "reads go on but 7-0 is not acknowledged: held 1m00s by c2, 1 deliveries; pending 5 -> 7"
        )


def test_stuck_when_retries_keep_the_same_entry_at_the_head_for_a_full_window():
    """Redelivered every 10 s (idle resets), never acknowledged: the same head all window."""
    polls = [
        sample(i, pos=100 + i, last=100 + i, pending=2, oldest="7-0", idle=(i % 10) * 1000) for i in range(61)
    ]
    assert judge(polls, W).verdict is Verdict.STUCK
    assert judge(polls[:-1], W).verdict is Verdict.OK  # 59 s: not yet the whole window


def test_acked_head_is_ok_again():
    """After the claim and ack the head changes: the group is judged ok at once."""
    polls = [
        sample(i, pos=100 + i, last=100 + i, pending=2, oldest="7-0", idle=70_000 + i) for i in range(10)
    ]
    assert judge(polls, W).verdict is Verdict.STUCK
    polls.append(sample(10, pos=110, last=110, pending=1, oldest="108-0", idle=200))
    assert judge(polls, W).verdict is Verdict.OK


def test_held_entries_in_a_lull_are_stuck_not_idle():
    """Issue 25: c1 read 2 entries and never acked, c2 polls a quiet stream (seen every second):
    nothing added, nothing to read, yet the PEL holds entries older than the window. Was `idle`."""
    polls = [
        sample(i, pos=100, last=100, pending=2, oldest="7-0", idle=70_000 + i * 1000, seen=1000)
        for i in range(3)
    ]
    h = judge(polls, W)
    assert (h.verdict, h.verdict.healthy) == (Verdict.STUCK, False)
    assert h.reason.startswith("nothing read for 1m00s and 7-0 is not acknowledged: held 1m12s by c2")


def test_held_entries_in_a_lull_are_stuck_by_the_running_window_too():
    from streamtop.pipeline.health import RunningWindow

    run = RunningWindow(100)
    for i in range(3):
        run.append(sample(i, pos=100, last=100, pending=2, oldest="7-0", idle=70_000 + i * 1000, seen=1000))
    assert run.judge(W).verdict is Verdict.STUCK


# idle ----------------------------------------------------------------------------------------


def test_idle_nothing_added_nothing_to_read():
    h = judge([sample(i, pos=9, last=9) for i in range(3)], W)
    assert (h.verdict, h.reason) == (Verdict.IDLE, "nothing added for 1m00s and nothing to read")


def test_idle_from_one_poll_needs_the_last_entry_older_than_the_window():
    last_ms = int(T0 * 1000) - 60_000
    old = GroupSample(t=T0, position=(last_ms, 0), last_id=(last_ms, 0), lag=0, behind=False)
    assert judge([old], W).verdict is Verdict.IDLE
    recent = GroupSample(t=T0, position=(last_ms + 1, 0), last_id=(last_ms + 1, 0), lag=0, behind=False)
    assert (judge([recent], W).verdict, judge([recent], W).reason) == (Verdict.OK, "caught up")


# unknown and resets --------------------------------------------------------------------------


def test_one_poll_behind_with_consumers_seen_is_unknown():
    h = judge([sample(0, pos=0, last=12)], W)
    assert h.verdict is Verdict.UNKNOWN
    assert h.reason.startswith("one poll: 12 to read")


def test_lag_unknown_is_unknown_never_ok():
    p = GroupSample(t=T0, position=(5, 0), last_id=None, behind=None, seen_ms=10, consumers=1)
    q = GroupSample(t=T0 + 1, position=(6, 0), last_id=None, behind=None, seen_ms=10, consumers=1)
    assert judge([p, q], W).verdict is Verdict.UNKNOWN


def test_a_restart_in_the_window_starts_the_window_again():
    """Before the restart the position held for 50 s; the server came back from an older save
    (position and entries-added went back): only the polls after it count."""
    before = [sample(i, pos=100, last=110) for i in range(50)]
    after = [sample(50 + i, pos=90, last=105) for i in range(11)]
    w = window_of(before + after, W)
    assert w == after
    h = judge(before + after, W)
    assert h.verdict is Verdict.UNKNOWN  # 10 s of polls since: not yet a whole window
    assert (
        judge(before + [sample(50 + i, pos=100, last=110) for i in range(11)], W).verdict is Verdict.STALLED
    )  # without a reset, the same 60 s is a stall


def test_window_keeps_the_poll_just_before_its_start():
    polls = [sample(i * 7, pos=1, last=1) for i in range(20)]  # t = 0 .. 133
    w = window_of(polls, W)
    assert w[0].t == T0 + 70 and w[-1].t == T0 + 133  # 70 <= 133 - 60 < 77


def test_worst_verdict_of_a_stream():
    assert worst([Verdict.OK, Verdict.STUCK, Verdict.IDLE]) is Verdict.STUCK
    assert worst([Verdict.OK, Verdict.IDLE]) is Verdict.OK
    assert worst([]) is None
    assert [v for v in Verdict if v.healthy] == [Verdict.OK, Verdict.IDLE]


def test_history_keeps_the_window_and_judges_each_group():
    """History feeds GroupSample.of from snapshots: a group without consumers and lag is
    stopped, a caught-up one with no adds idle."""
    hist = History(window=10)
    for i in range(30):
        stream = StreamInfo(
            key=b"s",
            length=5,
            last_entry_id="5-0",
            last_generated_id="5-0",
            entries_added=5,
            groups=(
                GroupInfo(b"gone", 0, 0, "2-0", 2, Lag(LagSource.EXACT, value=3)),
                GroupInfo(
                    b"done",
                    1,
                    0,
                    "5-0",
                    5,
                    Lag(LagSource.EXACT, value=0),
                    consumer_list=(ConsumerInfo(b"c", 0, 10),),
                ),
            ),
        )
        hist.update(Snapshot(taken_at=T0 + i, streams=(stream,)))
    assert len(hist.samples[(b"s", b"gone")]) == 11  # 10 s of polls and the one before
    assert hist.health(b"s", b"gone").verdict is Verdict.STOPPED
    assert hist.health(b"s", b"done").verdict is Verdict.IDLE
    assert hist.stream_health(b"s", [b"gone", b"done"]) is Verdict.STOPPED


def test_history_drops_the_polls_before_a_reset():
    """History judges reset-free windows: a poll whose counters went back starts them again."""
    hist = History(window=60)

    def snap(t: float, ldid: str, added: int) -> Snapshot:
        g = GroupInfo(
            b"g", 1, 0, ldid, None, Lag(LagSource.EXACT, value=2), consumer_list=(ConsumerInfo(b"c", 0, 10),)
        )
        s = StreamInfo(
            key=b"s", length=5, last_entry_id="9-0", last_generated_id="9-0", entries_added=added, groups=(g,)
        )
        return Snapshot(taken_at=T0 + t, streams=(s,))

    for i in range(5):
        hist.update(snap(i, "7-0", 9))
    hist.update(snap(5, "3-0", 9))  # SETID back: the group was reset
    assert [s.position for s in hist.samples[(b"s", b"g")]] == [(3, 0)]
    assert hist.health(b"s", b"g").verdict is Verdict.UNKNOWN  # one poll since the reset
