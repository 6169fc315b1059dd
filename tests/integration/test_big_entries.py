"""A stream whose first or last entry is large is not re-read every poll, and stays correct.

XINFO STREAM returns the first and last entries in full; the collector reads such a stream with
XLEN, the entries added since the last one seen and (when small) the first entry instead, and its
full XINFO STREAM only now and then. Bytes are counted on the server's side (INFO stats
total_net_output_bytes), so what is asserted is what crossed the wire.
"""

from __future__ import annotations

import time

import pytest
import redis

from streamtop.pipeline.collector import BIG_ENTRY

BIG = 2 * 2**20  # 2 MB: a full XINFO STREAM per poll would send 10 MB over 5 polls
SMALL = {b"temp": b"0.5"}
POLLS = 5


def sent(r: redis.Redis) -> int:
    return int(r.info("stats")["total_net_output_bytes"])


def group_truth(r: redis.Redis, key: bytes) -> dict[bytes, dict]:
    return {g["name"]: g for g in r.xinfo_groups(key)}


def assert_matches_server(r: redis.Redis, snap, key: bytes, ids: list[bytes] | None = None) -> None:
    """The snapshot says what the server says. With `ids` (every entry added, none deleted) the
    first and last IDs are checked without reading the large entry (its bytes would count)."""
    s = snap.stream(key)
    assert s is not None and s.error is None
    ends = ids or [r.xrange(key, count=1)[0][0], r.xrevrange(key, count=1)[0][0]]
    first, last = ends[0].decode(), ends[-1].decode()
    assert (s.length, s.first_entry_id, s.last_entry_id) == (r.xlen(key), first, last)
    truth = group_truth(r, key)
    assert {g.name for g in s.groups} == set(truth)
    for g in s.groups:
        t = truth[g.name]
        assert g.pending == t["pending"]
        assert g.last_delivered_id == t["last-delivered-id"].decode()
        if t.get("lag") is not None:
            assert g.lag.value == t["lag"]
    if ids is not None and s.entries_added is not None:  # 7.0+ (derived from the groups when light)
        assert s.entries_added == len(ids)


@pytest.mark.parametrize("where", ["first", "last"])
async def test_big_entry_is_not_fetched_every_poll_and_snapshot_stays_right(
    any_server, any_r, collector_for, where
):
    key = b"big"
    ids = []
    if where == "first":
        ids.append(any_r.xadd(key, {b"blob": b"x" * BIG}))
        ids += [any_r.xadd(key, SMALL) for _ in range(3)]
    else:
        ids += [any_r.xadd(key, SMALL) for _ in range(3)]
        ids.append(any_r.xadd(key, {b"blob": b"x" * BIG}))
    any_r.xgroup_create(key, b"g", id="0")
    # "last": g reads the big entry now, before the bytes are counted (an unread large entry in
    # the middle of the stream is still read by a lag estimate: 6.2, or a NULL lag)
    any_r.xreadgroup(b"g", b"c1", {key: ">"}, count=1 if where == "first" else 4)
    col = await collector_for(any_server, [key])
    assert_matches_server(any_r, await col.poll(), key, ids)  # the one full read that finds it

    before = sent(any_r)
    for i in range(POLLS):
        if where == "first" or i >= 2:  # "last": two polls with the big entry still last
            ids.append(any_r.xadd(key, SMALL))
        any_r.xreadgroup(b"g", b"c1", {key: ">"}, count=1)
        snap = await col.poll()
        assert snap.round_trips == 1
        assert_matches_server(any_r, snap, key, ids)
    assert sent(any_r) - before < 2**20  # < 1 MB over 5 polls; a full read each would be 10 MB


async def test_big_first_entry_marks_fields_as_of_the_last_full_read(server, r, collector_for):
    key = b"big"
    r.xadd(key, {b"blob": b"x" * (BIG_ENTRY + 1)})
    col = await collector_for(server, [key])
    full = (await col.poll()).stream(key)
    assert full.info_taken_at is None  # a full read: everything is fresh
    r.xadd(key, SMALL)
    light = (await col.poll()).stream(key)
    assert light.info_taken_at is not None and light.info_taken_at <= time.time()
    assert light.length == 2 and light.last_entry_id == r.xrevrange(key, count=1)[0][0].decode()


async def test_trimming_the_big_first_entry_away_is_seen(server, r, collector_for):
    key = b"big"
    r.xadd(key, {b"blob": b"x" * BIG})
    for _ in range(5):
        r.xadd(key, SMALL)
    col = await collector_for(server, [key])
    await col.poll()
    await col.poll()
    r.xtrim(key, maxlen=2, approximate=False)
    await col.poll()  # the length went down: the next poll reads XINFO STREAM in full
    snap = await col.poll()
    assert_matches_server(r, snap, key)
    assert snap.stream(key).info_taken_at is None  # no large entry left: back to XINFO STREAM


async def test_small_entries_never_take_the_light_path(server, r, collector_for):
    key = b"small"
    for _ in range(3):
        r.xadd(key, {b"v": b"x" * 1000})
    col = await collector_for(server, [key])
    for _ in range(3):
        snap = await col.poll()
        assert snap.stream(key).info_taken_at is None
    assert_matches_server(r, snap, key)


def test_detail_panel_says_when_the_stream_fields_are_older_than_the_poll():
    from streamtop.pipeline.model import StreamInfo
    from streamtop.ui.detail import detail_rows

    fresh = dict(detail_rows(StreamInfo(key=b"k", length=3), None))
    older = dict(detail_rows(StreamInfo(key=b"k", length=3, info_taken_at=time.time() - 30), None))
    assert "read in full" not in fresh
    assert older["read in full"].startswith(("30 s ago", "31 s ago"))
