"""Pending entries without data (issue 13): found, acked, and counted apart by the trim preview,
checked against counts worked out by hand after earlier trims, XDELs and with `~`, on every server.

The stream: IDs 1-0 .. 100-0. Group g reads all 100; group h reads 50 (last delivered 50-0). Then a
trim to 80 takes 1..20 (pending in both, data gone) and XDEL takes 30-0 and 31-0. 78 entries stay.
"""

from __future__ import annotations

import pytest
import redis

from streamtop.pipeline.nodata import Bounds, read_bounds, without_data
from tests.support.streams import make_actions, pel


def arrange(r: redis.Redis) -> None:
    for i in range(1, 101):
        r.xadd("s", {"n": str(i)}, id=f"{i}-0")
    r.xgroup_create("s", "g", "0")
    r.xgroup_create("s", "h", "0")
    r.xreadgroup("g", "c1", {"s": ">"}, count=100)
    r.xreadgroup("h", "c1", {"s": ">"}, count=50)
    r.xtrim("s", maxlen=80, approximate=False)
    r.xdel("s", "30-0", "31-0")
    assert r.xlen("s") == 78


GONE = [f"{i}-0" for i in range(1, 21)] + ["30-0", "31-0"]


async def test_without_data_finds_trimmed_and_deleted_ids(any_acts, any_r):
    arrange(any_r)
    res = await any_acts.without_data_preview(b"s", b"g")
    assert res.ok and res.ids == GONE
    assert res.message.startswith("22 pending entries of 'g' have no data")
    res = await any_acts.without_data_preview(b"s", b"h")
    assert res.ids == GONE


async def test_bounds_skip_lookups_when_nothing_was_xdeled(any_acts, any_r):
    for i in range(1, 11):
        any_r.xadd("s", {"n": str(i)}, id=f"{i}-0")
    any_r.xtrim("s", maxlen=6, approximate=False)
    b = await read_bounds(any_acts.client, b"s")
    assert b.first_id == "5-0"
    if any_acts.server.has_lag:  # 7.0+: max-deleted-entry-id, unmoved by a trim
        assert b.max_deleted_id == "0-0" and not b.needs_lookup("7-0")
    else:
        assert b.max_deleted_id is None and b.needs_lookup("7-0")
    assert await without_data(any_acts.client, b"s", ["3-0", "5-0", "10-0"], b) == {"3-0"}
    assert Bounds(None, None).below_first("1-0"), "an empty stream has no data for any ID"


async def test_ack_without_data_acks_exactly_those(any_acts, any_r):
    arrange(any_r)
    res = await any_acts.ack_without_data(b"s", b"g")
    assert res.ok and res.acked == 22, res.message
    assert set(pel(any_r)) == {f"{i}-0" for i in range(21, 101)} - {"30-0", "31-0"}
    assert len(pel(any_r, group="h")) == 50, "another group's PEL is not touched"
    again = await any_acts.ack_without_data(b"s", b"g")
    assert again.ok and again.nothing and "nothing to ack" in again.message
    assert any_r.xlen("s") == 78


async def test_ack_without_data_is_refused_read_only(any_server, any_r):
    arrange(any_r)
    a = await make_actions(any_server, read_only=True)
    try:
        res = await a.ack_without_data(b"s", b"g")
        assert not res.ok and res.message.startswith("read-only mode")
        assert (await a.without_data_preview(b"s", b"g")).ids == GONE  # a read: works
    finally:
        await a.client.aclose()
    assert len(pel(any_r)) == 100


@pytest.mark.parametrize("approx", [False, True])
async def test_trim_preview_counts_against_hand_computed_truth(any_acts, any_r, approx):
    """MAXLEN 40 of the 78 left removes 21..60 without 30, 31: 38 entries, boundary 60-0.
    g: 38 of them pending with data, 22 pending already without data, nothing unread.
    h: 21..50 without 30, 31 = 28 pending with data, the same 22 without, (50, 60] = 10 unread."""
    arrange(any_r)
    res = await any_acts.trim_preview(b"s", "MAXLEN", 40, approx=approx)
    assert res.ok, res.message
    p = res.preview
    assert p.removes_max == 38 and p.last_removed_id == "60-0"
    got = {g.name: (g.pending, g.without_data, g.unread) for g in p.groups}
    assert got == {b"g": (38, 22, 0), b"h": (28, 22, 10)}
    up_to = "up to " if approx else ""
    assert f"group 'g': {up_to}38 still pending" in res.message
    assert f"group 'h': {up_to}28 still pending" in res.message and f"{up_to}10 not yet read" in res.message
    assert "group 'g': 22 pending entries already have no data" in res.message
    if not approx:  # the trim itself: the server agrees with the preview
        done = await any_acts.trim(b"s", "MAXLEN", 40)
        assert done.removed == 38
        after = await any_acts.without_data_preview(b"s", b"g")
        assert after.count == 22 + 38
        h = await any_acts.without_data_preview(b"s", b"h")
        assert h.count == 22 + 28


async def test_trim_preview_minid_after_xdel_beyond_the_boundary(any_acts, any_r):
    """MINID 26-0: removes 21..25 (5 entries). The XDEL'd 30, 31 are above the boundary: not counted."""
    arrange(any_r)
    res = await any_acts.trim_preview(b"s", "MINID", "26-0")
    p = res.preview
    assert p.removes_max == 5
    got = {g.name: (g.pending, g.without_data, g.unread) for g in p.groups}
    assert got == {b"g": (5, 20, 0), b"h": (5, 20, 0)}


async def test_the_pending_page_marks_entries_without_data(any_server, any_r):
    """The collector marks the page's trimmed entries (and, 7.0+, the XDEL'd ones) and counts the
    group's pending entries below the first entry; a group with nothing gone costs no extra trip."""
    from streamtop.pipeline.collector import Collector
    from streamtop.pipeline.connection import connect, parse_url
    from streamtop.pipeline.model import Focus

    arrange(any_r)
    any_r.xadd("t", {"n": "1"})
    any_r.xgroup_create("t", "k", "0")
    any_r.xreadgroup("k", "c1", {"t": ">"})
    client, info = await connect(parse_url(any_server.url))
    try:
        col = Collector(client, info, ())
        await col.poll()
        col.focus = Focus(key=b"s", group=b"g")
        snap = await col.poll()
        fd = snap.focus
        xdel = {"30-0", "31-0"} if info.has_lag else set()
        assert fd.without_data == {f"{i}-0" for i in range(1, 21)} | xdel
        assert (fd.trimmed_pending, fd.trimmed_pending_capped) == (20, False)
        assert snap.round_trips == 2
        col.focus = Focus(key=b"t", group=b"k")
        snap = await col.poll()
        assert snap.focus.without_data == frozenset() and snap.focus.trimmed_pending == 0
        assert snap.round_trips == 1
    finally:
        await client.aclose()
