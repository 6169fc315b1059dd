"""A server that accepts the connection but never answers (SIGSTOP of a real Valkey) is not LIVE.

The header turns to NOT ANSWERING once a poll has gone unanswered for max(2 x interval, 2 s), counts
the seconds, ages what is on screen by the local clock, keeps every key working, and returns to LIVE
by itself after SIGCONT. Waits are bounded loops on conditions, never timed assertions (the time
from SIGSTOP to the state is a figure: bench/hung.py).
"""

from __future__ import annotations

import pytest
import redis

from streamtop.monitor import Monitor, State, aged, answer_timeout
from streamtop.options import SessionOptions
from streamtop.pipeline.connection import parse_url
from streamtop.pipeline.model import (
    ConsumerInfo,
    GroupInfo,
    Lag,
    LagSource,
    PendingEntry,
    PendingSummary,
    Snapshot,
    StreamInfo,
)
from streamtop.ui.app import StreamtopApp
from streamtop.ui.dialogs import ConfirmDialog
from streamtop.ui.header import HeaderInfo, header_text
from streamtop.ui.help import HelpScreen
from tests.support.processes import stopped
from tests.support.waiting import until


def header(app) -> str:
    return str(app.w("header").render())


def seed(port: int) -> None:
    """One stream, one group, a consumer holding one pending entry (so idle times are on screen)."""
    with redis.Redis(port=port) as r:
        r.xadd("k", {"f": "v"})
        r.xgroup_create("k", "g", id="0")
        r.xreadgroup("g", "c1", {"k": ">"}, count=1)


def test_answer_timeout_is_twice_the_interval_at_least_two_seconds():
    assert [answer_timeout(i) for i in (0.1, 1.0, 2.5, 10.0)] == [2.0, 2.0, 5.0, 20.0]


def test_aged_advances_every_idle_time_and_keeps_never_active():
    oldest = PendingEntry("1-0", b"c1", idle_ms=500, deliveries=1)
    group = GroupInfo(
        b"g",
        2,
        1,
        "1-0",
        1,
        Lag(LagSource.EXACT, 0),
        consumer_list=(ConsumerInfo(b"c1", 1, 500, 400), ConsumerInfo(b"c2", 0, 70, -1)),
        pending_summary=PendingSummary(1, "1-0", "1-0", ((b"c1", 1),), oldest),
    )
    snap = Snapshot(streams=(StreamInfo(b"k", 1, groups=(group,)),))
    later = aged(snap, 2.5)
    g = later.streams[0].groups[0]
    assert [(c.idle_ms, c.inactive_ms) for c in g.consumer_list] == [(3000, 2900), (2570, -1)]
    assert g.oldest_pending_idle_ms == 3000 and later.streams[0].oldest_pending_idle_ms == 3000
    assert snap.streams[0].groups[0].oldest_pending_idle_ms == 500  # the original is unchanged
    assert aged(snap, 0) is snap


def test_header_names_the_state_and_counts_the_seconds():
    text = header_text(HeaderInfo(state="not answering", waiting=7.9, stale_age=9.0)).plain
    assert "NOT ANSWERING for 7 s" in text and "last good poll 9.0s ago" in text


async def test_monitor_is_not_answering_while_a_poll_hangs(own_server):
    seed(own_server.port)
    clock = [1000.0]
    m = Monitor(parse_url(own_server.url), clock=lambda: clock[0])
    try:
        assert await m.poll() is not None and m.state is State.LIVE
        m.polling, m.poll_started = True, clock[0]  # as poll() sets them while in flight
        clock[0] += 1.9
        assert m.state is State.LIVE and m.not_answering_for() is None
        clock[0] += 0.2
        assert m.state is State.NOT_ANSWERING
        assert abs(m.not_answering_for() - 2.1) < 1e-9 and abs(m.frozen_for() - 2.1) < 1e-9
        m.polling, m.poll_started = False, None
        assert m.state is State.LIVE and m.frozen_for() is None
    finally:
        await m.close()


@pytest.mark.slow
async def test_sigstop_shows_not_answering_keys_work_sigcont_is_live_again(own_server):
    seed(own_server.port)
    monitor = Monitor(parse_url(own_server.url), SessionOptions(interval=0.5, follow_screen=True))
    app = StreamtopApp(monitor)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and monitor.state is State.LIVE)
        app.select(b"k", b"g")
        await until(pilot, lambda: app.snapshot.focus is not None and app.snapshot.focus.pending)
        assert " LIVE " in header(app)
        with stopped(own_server):
            await until(pilot, lambda: "NOT ANSWERING for" in header(app))
            assert monitor.state is State.NOT_ANSWERING
            real = monitor.last
            first = header(app)
            # the count goes on, and the ages on screen advance from the local clock
            await until(pilot, lambda: header(app) != first and "NOT ANSWERING for" in header(app))
            await until(pilot, lambda: app.snapshot is not real and app._aged_from is real)
            shown_idle = app.snapshot.streams[0].groups[0].consumer_list[0].idle_ms
            assert shown_idle >= real.streams[0].groups[0].consumer_list[0].idle_ms + 1000
            assert app.snapshot.focus.pending[0].idle_ms > real.focus.pending[0].idle_ms
            # keys keep working: help opens and closes, the interval changes, the filter opens
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
            await pilot.press("plus")
            await until(pilot, lambda: app.interval == 1.0 and monitor.answer_timeout == 2.0)
            # an action on the hung server ends with a clear message instead of hanging
            notes: list[str] = []
            app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
            await pilot.press("e")  # not the demo's stream: asked once first
            await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await until(pilot, lambda: notes)
            assert notes[0].startswith("produce failed") and "timeout" in notes[0].lower(), notes
            assert "the server has not answered a poll for" in notes[0], notes
            assert monitor.state in (State.NOT_ANSWERING, State.STALE, State.RECONNECTING)
        # SIGCONT: back to LIVE by itself, with fresh figures
        await until(pilot, lambda: monitor.state is State.LIVE and " LIVE " in header(app), 40)
        await until(pilot, lambda: app._aged_from is None and app.snapshot is monitor.last)
        assert "NOT ANSWERING" not in header(app)
