"""Issue 29: a poll reads its streams READ_CHUNK a round trip (each part's replies parsed and
dropped before the next is sent: the first poll of 100,000 streams held every reply at once), and
with the last poll's keys it looks only at the plan's keys, every other row the very object shown
before, in its place.

READ_CHUNK is made 3 here so that 10 streams take 4 round trips."""

from __future__ import annotations

import redis

import streamtop.pipeline.collector as collector_mod
from streamtop.pipeline.model import Focus


def arrange(r: redis.Redis, n: int) -> list[bytes]:
    keys = [f"ch:{i:02d}".encode() for i in range(n)]
    for i, k in enumerate(keys):
        for _ in range(i + 1):
            r.xadd(k, {"f": "v"})
        r.xgroup_create(k, "g", id="0")
        r.xreadgroup("g", "c1", {k: ">"}, count=1)
    return keys


async def test_a_full_poll_in_parts_reads_every_stream_once_in_order(server, r, collector_for, monkeypatch):
    keys = arrange(r, 10)
    monkeypatch.setattr(collector_mod, "READ_CHUNK", 3)
    col = await collector_for(server, ["ch:*"])
    col.focus = Focus(key=keys[4], group=b"g")
    assert (await col.poll()).round_trips == 5  # the groups, new to it: one more round trip
    snap = await col.poll()
    assert snap.round_trips == 4  # 3 + 3 + 3 + 1 streams
    assert [s.key for s in snap.streams] == keys
    assert [s.length for s in snap.streams] == list(range(1, 11))
    assert all(s.groups[0].pending == 1 and s.groups[0].consumer_list for s in snap.streams)
    assert snap.server_time_ms is not None  # TIME, in the first part
    assert snap.focus is not None and len(snap.focus.pending) == 1  # the focus, in the last part


async def test_with_the_same_keys_only_the_plans_streams_are_read_and_replaced_in_place(
    server, r, collector_for, monkeypatch
):
    keys = arrange(r, 10)
    monkeypatch.setattr(collector_mod, "READ_CHUNK", 3)
    col = await collector_for(server, ["ch:*"])
    col.follow_screen = True
    col.visible = frozenset(keys[2:4])
    first = await col.poll()
    assert [s.key for s in first.streams] == keys
    r.xadd(keys[3], {"f": "v"})
    second = await col.poll()
    assert [s.key for s in second.streams] == keys
    assert second.stream(keys[3]).length == 5  # on screen: read again, in its place
    assert second.cost is not None
    carried = [k for k in keys if second.stream(k) is first.stream(k)]
    # the rest: the very objects shown before (and a summary read again that did not change)
    assert len(carried) >= second.cost.carried > 0
    assert keys[2] not in carried and keys[3] not in carried  # on screen: read in full


async def test_streams_read_in_full_go_fewer_a_round_trip_and_new_groups_in_parts(
    server, r, collector_for, monkeypatch
):
    """`serve` reads every stream in full each poll: FULL_READ_CHUNK of them a round trip (their
    replies are several times a summary's: 2,000 in one trip stood as ~17 MB), and the groups new
    to the collector (every one, at the first poll) NEW_GROUPS_CHUNK a round trip."""
    keys = arrange(r, 10)
    monkeypatch.setattr(collector_mod, "FULL_READ_CHUNK", 4)
    monkeypatch.setattr(collector_mod, "NEW_GROUPS_CHUNK", 3)
    col = await collector_for(server, ["ch:*"])
    first = await col.poll()
    assert first.round_trips == 3 + 4  # 4 + 4 + 2 streams; 10 new groups: 3 + 3 + 3 + 1
    snap = await col.poll()
    assert snap.round_trips == 3
    for poll in (first, snap):
        assert [s.key for s in poll.streams] == keys
        assert [s.length for s in poll.streams] == list(range(1, 11))
        assert all(s.groups[0].pending == 1 and s.groups[0].consumer_list for s in poll.streams)
