"""Health off screen (issue 17): a summary (XINFO STREAM + XINFO GROUPS) feeds the window too, the
rules judge what it can tell (no consumers: stopped; caught up: ok or idle; lag growing: falling
behind) and leave what needs the consumers or the PEL unknown, marked off screen, never ok; the
header counts those instead of dropping them."""

from __future__ import annotations

import dataclasses

from streamtop.pipeline.health import GroupSample, OffScreen, RunningWindow, Verdict, facts_of, judge
from streamtop.pipeline.history import History
from streamtop.pipeline.model import GroupInfo, Lag, LagSource, Snapshot, StreamInfo
from streamtop.ui.header import HeaderInfo, header_text
from streamtop.ui.view import health_counts
from tests.support.health import T0, W, sample


def summary(t: float, *, pos: int, last: int, pending: int = 0, consumers: int = 1, **kw) -> GroupSample:
    """What a summary knows of a group: no consumers' times, no PEL head."""
    s = sample(t, pos=pos, last=last, pending=pending, consumers=consumers, **kw)
    return dataclasses.replace(
        s,
        seen_ms=None,
        read_ago_ms=None,
        oldest_pending_id=None,
        oldest_pending_idle_ms=None,
        oldest_pending_deliveries=None,
        oldest_pending_consumer=None,
        summary=True,
    )


def every(seconds: float, n: int, **kw) -> list[GroupSample]:
    return [summary(i * seconds, **{k: v(i) if callable(v) else v for k, v in kw.items()}) for i in range(n)]


def both_ways(samples: list[GroupSample]):
    """judge() over the polls and the RunningWindow the dashboard keeps: the same verdict."""
    running = RunningWindow(4096)
    for s in samples:
        running.append(s)
    a, b = judge(samples, W), running.judge(W)
    assert (a.verdict, a.reason, a.off_screen) == (b.verdict, b.reason, b.off_screen)
    return a


def test_a_group_without_consumers_is_stopped_off_screen_too():
    h = both_ways(every(5, 3, pos=10, last=lambda i: 20 + i, consumers=0))
    assert h.verdict is Verdict.STOPPED and "no consumers" in h.reason and h.off_screen is None


def test_consumers_and_a_position_unchanged_for_a_window_are_not_moving_never_stopped_nor_ok():
    """A summary cannot tell stopped from stalled (no consumers' idle): unknown, flagged."""
    h = both_ways(every(5, 14, pos=10, last=lambda i: 20 + i))  # 65 s, lag 10.. at every poll
    assert h.verdict is Verdict.UNKNOWN and h.off_screen is OffScreen.NOT_MOVING
    assert "stopped or stalled" in h.reason


def test_a_position_unchanged_for_less_than_a_window_is_not_judged():
    h = both_ways(every(5, 3, pos=10, last=lambda i: 20 + i))
    assert h.verdict is Verdict.UNKNOWN and h.off_screen is OffScreen.NOT_JUDGED
    # a full read here would say stopped (no consumer seen): the summary never does
    full = [sample(5 * i, pos=10, last=20 + i, seen=None) for i in range(3)]
    assert judge(full, W).verdict is Verdict.STOPPED


def test_pending_entries_off_screen_are_not_judged_even_while_the_group_reads():
    """Failing needs the PEL's head: a reading group with pending entries is not called ok."""
    h = both_ways(every(5, 14, pos=lambda i: 10 + 2 * i, last=lambda i: 12 + 2 * i, pending=3))
    assert h.verdict is Verdict.UNKNOWN and h.off_screen is OffScreen.NOT_JUDGED
    assert "pending" in h.reason


def test_what_a_summary_can_tell_is_judged_as_a_full_read_would():
    caught_up = both_ways(every(5, 14, pos=lambda i: 10 + i, last=lambda i: 10 + i))
    assert caught_up.verdict is Verdict.OK and caught_up.off_screen is None
    idle = both_ways(every(5, 14, pos=10, last=10))
    assert idle.verdict is Verdict.IDLE
    # reads go on, but the lag grew in every interval of a full window
    behind = both_ways(every(5, 14, pos=lambda i: 10 + i, last=lambda i: 20 + 3 * i))
    assert behind.verdict is Verdict.FALLING_BEHIND and behind.off_screen is None


def test_a_full_read_after_summaries_judges_with_the_consumers_again():
    """The window mixes both; the current poll decides which rules can apply."""
    polls = every(5, 13, pos=10, last=lambda i: 20 + i)
    polls.append(sample(65, pos=10, last=33, seen=90_000))  # in view: no consumer seen for 90 s
    h = both_ways(polls)
    assert h.verdict is Verdict.STOPPED and h.off_screen is None
    assert facts_of(polls).all_behind


def group(name: bytes, *, lag: int, pending: int = 0, consumers: int = 1, ldid: str = "5-0") -> GroupInfo:
    """As a summary has it: a consumers count, no consumers."""
    return GroupInfo(
        name=name,
        consumers=consumers,
        pending=pending,
        last_delivered_id=ldid,
        entries_read=5,
        lag=Lag(LagSource.EXACT, value=lag),
    )


def stream(key: bytes, groups: tuple[GroupInfo, ...], last: int, off_screen: bool) -> StreamInfo:
    return StreamInfo(
        key=key,
        length=last,
        last_entry_id=f"{last}-0",
        last_generated_id=f"{last}-0",
        entries_added=last,
        groups=groups,
        summary_only=off_screen,
    )


def test_the_header_counts_off_screen_groups_it_could_not_judge_instead_of_dropping_them():
    """Three off-screen streams: one group stopped (no consumers), one not moving for a window
    (consumers), one with pending entries. Before, the header said nothing of them."""
    history = History(window=W)
    snap = None
    for i in range(14):  # 65 s of polls, 5 s apart, every stream a new summary each time
        last = 20 + i
        streams = (
            stream(b"a", (group(b"g", lag=last - 5, consumers=0),), last, True),
            stream(b"b", (group(b"g", lag=last - 5),), last, True),
            stream(b"c", (group(b"g", lag=0, pending=2, ldid=f"{last}-0"),), last, True),
            stream(b"d", (group(b"g", lag=0, ldid=f"{last}-0"),), last, True),  # caught up: ok
        )
        snap = Snapshot(taken_at=T0 + 5 * i, duration_ms=1, round_trips=1, streams=streams)
        history.update(snap)
    assert snap is not None
    counts = health_counts(snap.streams, history)
    assert counts == (("stopped", 1), ("not moving", 1), ("not judged", 1))
    assert history.health(b"d", b"g").verdict is Verdict.OK
    line = header_text(HeaderInfo(state="live", health=counts)).plain
    assert "1 group stopped; off screen: 1 not moving, 1 not judged" in line


def test_the_header_with_only_off_screen_counts_names_the_groups():
    line = header_text(HeaderInfo(state="live", health=(("not moving", 2), ("not judged", 12_345)))).plain
    assert "off screen: 2 groups not moving, 12.3k not judged" in line


def test_an_offscreen_group_is_sampled_at_most_every_quarter_window_and_in_view_every_poll():
    """Thousands of summaries change every poll on a busy server: each group's window takes one
    every 15 s (of 60), which is enough for the rules; a stream in view adds every poll."""
    history = History(window=W)
    for i in range(31):  # a summary that changed, every second for 30 s
        last = 20 + i
        snap = Snapshot(taken_at=T0 + i, streams=(stream(b"a", (group(b"g", lag=last - 5),), last, True),))
        history.update(snap)
    assert [s.t - T0 for s in history.samples[(b"a", b"g")]] == [0, 15, 30]
    for i in range(31, 34):  # in view: read in full
        last = 20 + i
        snap = Snapshot(taken_at=T0 + i, streams=(stream(b"a", (group(b"g", lag=last - 5),), last, False),))
        history.update(snap)
    assert [s.t - T0 for s in history.samples[(b"a", b"g")]][-4:] == [30, 31, 32, 33]
