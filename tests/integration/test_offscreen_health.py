"""Off-screen groups on a real server (issue 17 follow-ups): a summary's health is counted or said
to be not judged, never dropped; a NULL lag keeps its last estimate while nothing it counted can
have changed, so sorting by lag does not move rows up and down as they are counted in view."""

from __future__ import annotations

import asyncio

import redis

from streamtop.pipeline.history import History
from streamtop.pipeline.model import Focus
from streamtop.ui.streams import visible_streams
from streamtop.ui.view import health_counts
from tests.support.streams import pending_streams, screen_monitor


async def test_an_offscreen_stopped_group_is_counted_and_the_rest_said_not_judged(server, r) -> None:
    """Off screen: a group with no consumers and entries to read is stopped from its summary alone;
    groups whose consumers hold pending entries need the PEL and consumers: not judged, counted."""
    keys = pending_streams(r, 4)  # group g, consumer c1 holding 3 pending entries, in each
    r.xgroup_create(keys[3], "nobody", id="0")  # no consumers, 3 entries to read
    m = screen_monitor(server)
    history = History()
    try:
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:1])))
        snap = await m.poll()
        history.update(snap)
        assert snap.stream(keys[3]).summary_only
        assert history.health(keys[3], b"nobody").verdict == "stopped"
        assert history.health(keys[3], b"g").off_screen == "not judged"
        assert health_counts(snap.streams, history) == (("stopped", 1), ("not judged", 3))

        m.set_focus(Focus(key=keys[0], visible=frozenset(keys)))  # all in view: judged in full
        snap = await m.poll()
        history.update(snap)
        assert not snap.stream(keys[3]).summary_only
        assert history.health(keys[3], b"g").off_screen is None
        assert ("not judged", 3) not in health_counts(snap.streams, history)
    finally:
        await m.close()


def null_lag(r: redis.Redis, key: bytes) -> None:
    """Two entries after the group's position with one deleted between: the server's lag is NULL."""
    ids = [r.xadd(key, {"f": str(i)}).decode() for i in range(3)]
    r.xdel(key, ids[1])


async def poll_until_summary_read(m, key: bytes, before):
    """Polls (0.05 s apart, every summary due each poll) until `key` is a summary read after `before`."""
    for _ in range(40):
        await asyncio.sleep(0.06)
        snap = await m.poll()
        s = snap.stream(key)
        if s.summary_only and s is not before:
            return snap
    raise AssertionError("the summary was not read again")


async def test_an_offscreen_null_lag_keeps_its_estimate_until_position_or_last_id_moves(server, r) -> None:
    keys = pending_streams(r, 3)
    for _ in range(5):
        r.xadd(keys[1], {"f": "more"})  # exact lag 5
    null_lag(r, keys[2])
    m = screen_monitor(server, summary_period=0.05)
    m.set_interval(0.05)
    try:
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:1])))
        first = await m.poll()
        assert first.stream(keys[2]).max_lag.text() == "?"  # never counted: unknown, sorts first

        m.set_focus(Focus(key=keys[0], visible=frozenset(keys)))  # in view: counted
        counted = await m.poll()
        lag = counted.stream(keys[2]).groups[0].lag
        assert lag.text() == "~2" and lag.as_of is None

        def order(snap) -> list[bytes]:
            return [s.key for s in visible_streams(snap.streams, "", "lag", False, lambda k: None)]

        assert order(counted) == [keys[1], keys[2], keys[0]]

        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:1])))  # off screen again
        snap = await poll_until_summary_read(m, keys[2], counted.stream(keys[2]))
        kept = snap.stream(keys[2]).groups[0].lag
        assert kept.text() == "~2" and kept.as_of is not None and kept.as_of <= counted.taken_at
        assert order(snap) == order(counted)  # no move back to the top
        for _ in range(3):  # read again, unchanged: the same estimate, of the same age
            await asyncio.sleep(0.06)
            snap = await m.poll()
            assert snap.stream(keys[2]).groups[0].lag == kept
            assert order(snap) == order(counted)

        r.xadd(keys[2], {"f": "new"})  # the stream's last ID moved: the count may be wrong now
        snap = await poll_until_summary_read(m, keys[2], snap.stream(keys[2]))
        assert snap.stream(keys[2]).length == 6
        assert snap.stream(keys[2]).max_lag.text() == "?"
    finally:
        await m.close()


async def test_an_offscreen_estimate_goes_unknown_when_the_group_reads(server, r) -> None:
    keys = pending_streams(r, 2)
    null_lag(r, keys[1])
    m = screen_monitor(server, summary_period=0.05)
    m.set_interval(0.05)
    try:
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys)))
        counted = await m.poll()
        assert counted.stream(keys[1]).max_lag.text() == "~2"
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:1])))
        snap = await poll_until_summary_read(m, keys[1], counted.stream(keys[1]))
        assert snap.stream(keys[1]).max_lag.text() == "~2"
        r.xreadgroup("g", "c1", {keys[1]: ">"}, count=1)  # the position moves; the deleted one is next
        snap = await poll_until_summary_read(m, keys[1], snap.stream(keys[1]))
        assert snap.stream(keys[1]).groups[0].lag.best is None and snap.stream(keys[1]).max_lag.text() == "?"
    finally:
        await m.close()
