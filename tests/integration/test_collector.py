"""The collector against real servers: Redis 6.2, Redis 7.0, Valkey 8.1 and Valkey 9.1.

Streams use explicit IDs ("N-1") so every server stores the same thing and the expected values
are plain numbers. On 6.2 there is no lag field: there the lag must be an estimate, never an
exact-looking number.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis
from redis.asyncio.connection import AbstractConnection

from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import connect, parse_url
from streamtop.pipeline.model import Focus, LagSource, Snapshot, StreamInfo


def has_lag(r: redis.Redis) -> bool:
    """7.0+ (Valkey too): XINFO GROUPS reports entries-read and lag."""
    return int(r.info("server")["redis_version"].split(".")[0]) >= 7


def add(r: redis.Redis, key, ids, field=b"f", value=b"v") -> None:
    for i in ids:
        r.xadd(key, {field: value}, id=f"{i}-1")


def one(snap: Snapshot, key: bytes) -> StreamInfo:
    s = snap.stream(key)
    assert s is not None, f"{key!r} not in snapshot: {[x.key for x in snap.streams]}"
    return s


def assert_lag(group, expected: int, exact_on_7: bool, lag_field: bool) -> None:
    """Exact where the server says it; otherwise an estimate of the entries still to read."""
    if lag_field and exact_on_7:
        assert group.lag.source is LagSource.EXACT
        assert group.lag.value == expected
        assert group.lag.text() == str(expected)
    else:
        assert group.lag.source is LagSource.ESTIMATE
        assert group.lag.value is None
        assert group.lag.estimate == expected
        assert group.lag.text() == f"~{expected}"


async def test_lengths_ids_groups_consumers_pending(any_server, any_r, collector_for):
    r = any_r
    add(r, "orders", range(1, 6))
    r.xgroup_create("orders", "g0", id="0")
    r.xgroup_create("orders", "gend", id="$")
    r.xreadgroup("g0", "c1", {"orders": ">"}, count=2)
    r.xreadgroup("g0", "c2", {"orders": ">"}, count=1)
    r.xack("orders", "g0", "3-1")
    r.xdel("orders", "5-1")  # the last entry: last-generated-id stays 5-1
    col = await collector_for(any_server)
    await col.poll()
    snap = await col.poll()
    s = one(snap, b"orders")
    lag_field = has_lag(r)
    assert s.error is None
    assert (s.length, s.first_entry_id, s.last_entry_id, s.last_generated_id) == (4, "1-1", "4-1", "5-1")
    if lag_field:
        assert (s.entries_added, s.max_deleted_entry_id, s.recorded_first_entry_id) == (5, "5-1", "1-1")
    else:
        assert (s.entries_added, s.max_deleted_entry_id, s.recorded_first_entry_id) == (None, None, None)
    assert [g.name for g in s.groups] == [b"g0", b"gend"]
    assert s.total_pending == 2

    g0 = s.group(b"g0")
    assert (g0.consumers, g0.pending, g0.last_delivered_id, g0.error) == (2, 2, "3-1", None)
    assert g0.entries_read == (3 if lag_field else None)
    # only 4-1 is left to read; the XDEL of 5-1 was in g0's unread range, so 7.0+ says NULL too
    assert_lag(g0, 1, exact_on_7=False, lag_field=lag_field)
    consumers = {c.name: c for c in g0.consumer_list}
    assert set(consumers) == {b"c1", b"c2"}
    assert (consumers[b"c1"].pending, consumers[b"c2"].pending) == (2, 0)
    for c in consumers.values():  # `inactive` exists from 7.2 (the Valkeys), not on 6.2 or 7.0
        assert c.idle_ms >= 0
        assert (c.inactive_ms is not None) == (snap.server.name == "valkey")
    ps = g0.pending_summary
    assert (ps.count, ps.smallest_id, ps.greatest_id, ps.consumers) == (2, "1-1", "2-1", ((b"c1", 2),))
    assert (ps.oldest.id, ps.oldest.consumer, ps.oldest.deliveries) == ("1-1", b"c1", 1)
    assert g0.oldest_pending_idle_ms == ps.oldest.idle_ms
    assert s.oldest_pending_idle_ms == ps.oldest.idle_ms

    gend = s.group(b"gend")
    assert (gend.consumers, gend.pending, gend.last_delivered_id, gend.consumer_list) == (0, 0, "5-1", ())
    # at the last entry: nothing is after it, exactly, on every server (6.2 too: the stream says so)
    assert_lag(gend, 0, exact_on_7=True, lag_field=True)
    assert gend.pending_summary.count == 0 and gend.pending_summary.oldest is None
    assert s.max_lag == g0.lag


async def test_lag_null_cases_give_estimates(any_server, any_r, collector_for):
    """After an XDEL in the unread range, and for a group created at an arbitrary ID, the server
    says NULL (7.0+) or nothing (6.2): the collector counts what is left, marked as an estimate."""
    r = any_r
    lag_field = has_lag(r)
    add(r, "dol", range(1, 11))
    r.xgroup_create("dol", "g", id="0")
    r.xreadgroup("g", "c1", {"dol": ">"}, count=2)
    r.xdel("dol", "5-1")
    add(r, "arb", range(1, 11))
    r.xgroup_create("arb", "g", id="4-1")
    add(r, "zero", range(1, 4))
    r.xgroup_create("zero", "g", id="0")
    col = await collector_for(any_server)
    for snap in (await col.poll(), await col.poll()):
        assert_lag(one(snap, b"dol").groups[0], 7, exact_on_7=False, lag_field=lag_field)
        assert_lag(one(snap, b"arb").groups[0], 6, exact_on_7=False, lag_field=lag_field)
        # below the first entry: the stream's length, exactly, on every server
        assert_lag(one(snap, b"zero").groups[0], 3, exact_on_7=True, lag_field=True)
    assert snap.round_trips == 1


async def test_lag_after_trim_past_the_group(any_server, any_r, collector_for):
    """Trimming past last-delivered-id: the servers disagree (see SERVERS.md: Redis 7.0 and both
    Valkeys say lag 8 here, counting trimmed entries; 6.2 has no lag). The group is below the first
    entry, so every entry left is still to read: the lag is the stream's length, exactly, on every
    server (issue 25: "lag 36 with 30 entries left" was shown as exact)."""
    r = any_r
    add(r, "tr", range(1, 11))
    r.xgroup_create("tr", "g", id="0")
    r.xreadgroup("g", "c1", {"tr": ">"}, count=2)
    r.xtrim("tr", maxlen=5, approximate=False)
    col = await collector_for(any_server)
    for _ in range(2):
        g = one(await col.poll(), b"tr").groups[0]
        assert (g.lag.source, g.lag.value, g.lag.text()) == (LagSource.EXACT, 5, "5")


async def test_lag_turning_null_between_polls_gets_an_estimate(any_server, any_r, collector_for):
    """The steady-state pipeline is planned from the previous poll. When an exact lag turns NULL
    (an XDEL in the unread range), the estimate comes in one extra round trip, not a '?'."""
    r = any_r
    add(r, "s", range(1, 11))
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "c1", {"s": ">"}, count=2)
    col = await collector_for(any_server)
    await col.poll()
    await col.poll()
    r.xdel("s", "7-1")
    snap = await col.poll()
    g = one(snap, b"s").groups[0]
    assert (g.lag.source, g.lag.estimate) == (LagSource.ESTIMATE, 7)
    assert snap.round_trips == (2 if has_lag(r) else 1)
    snap = await col.poll()
    assert (one(snap, b"s").groups[0].lag.estimate, snap.round_trips) == (7, 1)


async def test_estimate_follows_readers_between_polls(any_server, any_r, collector_for):
    """The XRANGE estimate starts at the previous poll's last-delivered-id; it must count only
    what is after the current one, in the same single round trip."""
    r = any_r
    add(r, "s", range(1, 21))
    r.xgroup_create("s", "g", id="3-1")  # arbitrary ID: NULL lag on 7.0+ too
    col = await collector_for(any_server)
    await col.poll()
    assert one(await col.poll(), b"s").groups[0].lag.estimate == 17
    r.xreadgroup("g", "c1", {"s": ">"}, count=5)
    snap = await col.poll()
    g = one(snap, b"s").groups[0]
    assert g.last_delivered_id == "8-1"
    assert (g.lag.source, g.lag.estimate, g.lag.capped) == (LagSource.ESTIMATE, 12, False)
    assert snap.round_trips == 1


async def test_capped_estimate(any_server, any_r, collector_for):
    r = any_r
    add(r, "s", range(1, 21))
    r.xgroup_create("s", "g", id="2-1")
    col = await collector_for(any_server, estimate_cap=5)
    await col.poll()
    g = one(await col.poll(), b"s").groups[0]
    assert (g.lag.source, g.lag.estimate, g.lag.capped, g.lag.text()) == (LagSource.ESTIMATE, 5, True, ">=5")
    r.xreadgroup("g", "c1", {"s": ">"}, count=15)  # past everything the capped XRANGE returned
    snap = await col.poll()
    g = one(snap, b"s").groups[0]
    assert (g.lag.estimate, g.lag.capped, g.lag.text()) == (3, False, "~3")
    assert snap.round_trips <= 2


async def test_stream_deleted_between_discovery_and_poll(any_server, any_r, collector_for):
    r = any_r
    add(r, "s:a", [1])
    add(r, "s:b", [1])
    r.xgroup_create("s:a", "g", id="0")
    col = await collector_for(any_server, ["s:*"])
    snap = await col.poll()
    assert [s.key for s in snap.streams] == [b"s:a", b"s:b"]
    r.delete("s:a")
    snap = await col.poll()
    gone = one(snap, b"s:a")
    assert gone.error is not None and "no such key" in gone.error.lower()
    assert gone.groups == () and gone.length == 0
    assert one(snap, b"s:b").error is None
    snap = await col.poll()  # the error asked for a rescan
    assert [s.key for s in snap.streams] == [b"s:b"]
    assert snap.discovery_round_trips >= 1


async def test_wrongtype(any_server, any_r, collector_for):
    r = any_r
    add(r, "s:a", [1])
    r.set("s:str", "x")  # matches the pattern but is no stream: SCAN TYPE stream skips it
    r.set("plain", "x")
    col = await collector_for(any_server, ["s:*"])
    snap = await col.poll()
    assert [s.key for s in snap.streams] == [b"s:a"]
    r.delete("s:a")
    r.set("s:a", "now a string")  # retyped between discovery and poll
    snap = await col.poll()
    assert one(snap, b"s:a").error.startswith("WRONGTYPE")
    assert (await col.poll()).streams == ()

    explicit = await collector_for(any_server, ["plain"])
    for _ in range(2):  # named explicitly: stays, as an error entry
        snap = await explicit.poll()
        assert [s.key for s in snap.streams] == [b"plain"]
        assert snap.streams[0].error.startswith("WRONGTYPE")


async def test_empty_streams_and_missing_parts(any_server, any_r, collector_for):
    r = any_r
    add(r, "emptied", [1])
    r.xdel("emptied", "1-1")
    r.xgroup_create("made", "g", id="$", mkstream=True)
    add(r, "nogroups", [1, 2])
    col = await collector_for(any_server)
    await col.poll()
    snap = await col.poll()
    e = one(snap, b"emptied")
    assert (e.length, e.first_entry_id, e.last_entry_id, e.last_generated_id) == (0, None, None, "1-1")
    assert (e.groups, e.max_lag, e.total_pending, e.oldest_pending_idle_ms) == ((), None, 0, None)
    m = one(snap, b"made")
    assert (m.length, m.first_entry_id, m.last_entry_id, m.last_generated_id) == (0, None, None, "0-0")
    g = m.groups[0]
    assert (g.name, g.consumers, g.pending, g.consumer_list, g.error) == (b"g", 0, 0, (), None)
    assert (g.pending_summary.count, g.pending_summary.oldest, g.pending_summary.consumers) == (0, None, ())
    assert_lag(g, 0, exact_on_7=True, lag_field=True)  # an empty stream: 0 to read, exactly
    n = one(snap, b"nogroups")
    assert (n.length, n.groups, n.max_lag, n.error) == (2, (), None, None)


async def test_non_utf8_names_and_values(any_server, any_r, collector_for):
    r = any_r
    key, group, consumer = b"s:\xff\xfe\n", b"g\xc3", b"c\x80"
    r.xadd(key, {b"\xff": b"\x00\xfe"}, id="1-1")
    r.xgroup_create(key, group, id="0")
    r.xreadgroup(group, consumer, {key: ">"})
    col = await collector_for(any_server, [b"s:*"])
    await col.poll()
    col.focus = Focus(key=key, group=group)
    snap = await col.poll()
    s = one(snap, key)
    assert s.label == "s:\\xff\\xfe\\n"
    g = s.groups[0]
    assert (g.name, g.label) == (group, "g\\xc3")
    assert [c.name for c in g.consumer_list] == [consumer]
    assert g.pending_summary.consumers == ((consumer, 1),)
    assert g.pending_summary.oldest.consumer == consumer
    assert snap.focus.error is None
    assert [(e.id, e.fields) for e in snap.focus.messages] == [("1-1", ((b"\xff", b"\x00\xfe"),))]
    assert [(p.id, p.consumer) for p in snap.focus.pending] == [("1-1", consumer)]
    assert snap.discovery.keys == (key,)


async def test_pattern_matching_nothing_is_an_empty_snapshot(any_server, any_r, collector_for):
    add(any_r, "other", [1])
    col = await collector_for(any_server, ["nomatch:*"])
    snap = await col.poll()
    assert (snap.streams, snap.discovery.keys, snap.discovery.capped) == ((), (), False)
    assert snap.discovery.patterns == ("nomatch:*",)


async def test_max_streams_cap_is_reported(any_server, any_r, collector_for):
    r = any_r
    for i in range(5):
        add(r, f"s:{i}", [1])
    capped = await (await collector_for(any_server, max_streams=3)).poll()
    assert len(capped.streams) == 3 and capped.discovery.capped
    assert capped.discovery.max_streams == 3
    exact = await (await collector_for(any_server, max_streams=5)).poll()
    assert len(exact.streams) == 5 and not exact.discovery.capped
    named = await (await collector_for(any_server, ["s:0", "s:1", "s:2"], max_streams=2)).poll()
    assert [s.key for s in named.streams] == [b"s:0", b"s:1"] and named.discovery.capped
    for bad in (0, -1):
        with pytest.raises(ValueError, match="max-streams"):
            await collector_for(any_server, max_streams=bad)


# round trips ---------------------------------------------------------------------------------


class SendCounter:
    """Counts real writes to the server socket (every command or pipeline is one send)."""

    def __init__(self, monkeypatch) -> None:
        self.sends = 0
        original = AbstractConnection.send_packed_command

        async def counting(conn, command, check_health=True):
            self.sends += 1
            return await original(conn, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)


async def test_large_estimates_are_counted_again_only_every_interval(any_server, any_r, collector_for):
    """A group far behind costs an XRANGE of estimate_cap entries: with estimate_interval the
    dashboard counts it again only that often (still shown as an estimate); a nearly caught-up
    group (estimate below 100) is counted every poll, since that is cheap."""
    r = any_r
    add(r, "far", range(1, 301))
    r.xgroup_create("far", "g", id="2-1")  # arbitrary ID: NULL lag on 7.0+, none on 6.2
    add(r, "near", range(1, 11))
    r.xgroup_create("near", "g", id="2-1")
    col = await collector_for(any_server, estimate_interval=60)
    await col.poll()
    before = stream_command_calls(r).get("xrange", 0)
    for _ in range(3):
        snap = await col.poll()
    # "near" counted once per poll; "far" only reads its first undelivered entry (COUNT 1, the
    # time lag) instead of counting again
    assert stream_command_calls(r)["xrange"] - before == 6
    far, near = one(snap, b"far").groups[0], one(snap, b"near").groups[0]
    assert (far.lag.source, far.lag.text()) == (LagSource.ESTIMATE, "~298")
    assert near.lag.text() == "~8"
    r.xreadgroup("g", "c1", {"near": ">"}, count=4)
    assert one(await col.poll(), b"near").groups[0].lag.text() == "~4"
    col.options = replace(col.options, estimate_interval=0)  # counted every poll again
    r.xreadgroup("g", "c1", {"far": ">"}, count=99)
    assert one(await col.poll(), b"far").groups[0].lag.text() == "~199"


async def test_a_rescan_of_a_large_keyspace_is_spread_over_polls(server, r, collector_for):
    """The first discovery runs to the end; later rescans make at most SCAN_CALLS_PER_POLL SCAN
    calls per poll, keep showing the streams known so far, and publish when complete."""
    from streamtop.pipeline.collector import SCAN_CALLS_PER_POLL

    pipe = r.pipeline(transaction=False)
    for i in range(30_000):
        pipe.set(f"other:{i}", b"x")
    pipe.execute()
    for key in ("s1", "s2"):
        r.xadd(key, {"f": "v"})
    col = await collector_for(server, discovery_interval=3600)
    first = await col.poll()
    assert first.discovery_round_trips > SCAN_CALLS_PER_POLL  # the whole keyspace, at once
    assert [s.key for s in first.streams] == [b"s1", b"s2"]
    r.xadd("s3", {"f": "v"})
    col.request_discovery()
    polls = []
    for _ in range(20):
        snap = await col.poll()
        polls.append(snap)
        if snap.stream(b"s3") is not None:
            break
    assert polls[-1].stream(b"s3") is not None  # found once the rescan completed
    assert len(polls) > 1  # ... which took several polls
    assert all(p.discovery_round_trips <= SCAN_CALLS_PER_POLL for p in polls)
    assert all({b"s1", b"s2"} <= {s.key for s in p.streams} for p in polls)
    assert all(p.round_trips == 1 for p in polls)  # the poll itself stays one round trip


def stream_command_calls(r: redis.Redis) -> dict[str, int]:
    """INFO commandstats for the stream commands and SCAN (6.2 has no `xinfo|stream` entries)."""
    out: dict[str, int] = {}
    for name, stats in r.info("commandstats").items():
        base = name.removeprefix("cmdstat_").split("|")[0]
        if base in ("xinfo", "xpending", "xrange", "xrevrange", "scan"):
            out[base] = out.get(base, 0) + stats["calls"]
    return out


def make_streams(r: redis.Redis, n: int) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        key = f"st:{i:03}"
        for j in (1, 2, 3):
            pipe.xadd(key, {"f": "v"}, id=f"{j}-1")
        pipe.xgroup_create(key, "g1", id="0")
        pipe.xgroup_create(key, "g2", id="$")
        pipe.xreadgroup("g1", "c1", {key: ">"}, count=1)
        pipe.xreadgroup("g1", "c2", {key: ">"}, count=1)
        pipe.xgroup_createconsumer(key, "g2", "c1")
        pipe.xgroup_createconsumer(key, "g2", "c2")
    pipe.execute()


async def test_steady_state_poll_is_one_round_trip(any_server, any_r, collector_for, monkeypatch):
    """100 streams x 2 groups x 2 consumers: our counter, the socket writes and the server's own
    command statistics all agree that the second poll is one pipeline and no SCAN."""
    r = any_r
    make_streams(r, 100)
    col = await collector_for(any_server)
    first = await col.poll()
    assert len(first.streams) == 100
    assert first.round_trips == 2  # every group is new on the first poll
    counter = SendCounter(monkeypatch)
    r.config_resetstat()
    snap = await col.poll()
    calls = stream_command_calls(r)
    assert (snap.round_trips, snap.discovery_round_trips, counter.sends) == (1, 0, 1)
    # per group one XRANGE: the first undelivered entry (time lag) with COUNT 1, or on 6.2 the
    # bounded count of the lag estimate, which gives the time lag too
    expected = {"xinfo": 100 * 2 + 200, "xpending": 200 * 2, "xrange": 200}
    assert calls == expected
    assert len(snap.streams) == 100
    for s in snap.streams:
        assert [(g.name, g.consumers, g.pending, len(g.consumer_list)) for g in s.groups] == [
            (b"g1", 2, 2, 2),
            (b"g2", 2, 0, 2),
        ]
        assert s.groups[0].lag.best == 1 and s.groups[1].lag.best == 0


async def test_new_groups_cost_at_most_one_extra_round_trip(any_server, any_r, collector_for, monkeypatch):
    r = any_r
    make_streams(r, 20)
    col = await collector_for(any_server)
    await col.poll()
    await col.poll()
    for i in range(0, 20, 2):
        r.xgroup_create(f"st:{i:03}", "late", id="0")
    counter = SendCounter(monkeypatch)
    snap = await col.poll()
    assert (snap.round_trips, counter.sends) == (2, 2)
    assert sum(1 for s in snap.streams if s.group(b"late")) == 10
    assert one(snap, b"st:000").group(b"late").lag.best == 3
    snap = await col.poll()
    assert (snap.round_trips, counter.sends) == (1, 3)
    assert col.total_round_trips >= 5


# the GC pause -------------------------------------------------------------------------------


def test_gc_pause_is_counted_across_overlapping_polls():
    """Two polls parsing at once (a cluster's nodes): the first to finish must not turn the
    cyclic GC back on under the other; the last one does, and only if it was on before."""
    import gc

    from streamtop.pipeline.collector import GcPause

    pause = GcPause()
    assert gc.isenabled()
    try:
        a, b = pause.__enter__(), pause.__enter__()
        assert (pause.active, gc.isenabled()) == (2, False)
        a.__exit__(None, None, None)
        assert (pause.active, gc.isenabled()) == (1, False)  # b still parses
        b.__exit__(None, None, None)
        assert (pause.active, gc.isenabled()) == (0, True)
        with pytest.raises(RuntimeError), pause:
            raise RuntimeError("a parser bug")
        assert (pause.active, gc.isenabled()) == (0, True)  # an error does not leave it off
        gc.disable()  # someone else turned it off: a pause must not turn it on
        with pause:
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_the_gc_pause_ends_by_itself_when_a_poll_takes_too_long():
    """A poll that waits for a server that does not answer holds the pause for up to its 30 s
    timeout: after max_seconds the GC runs again, and the pause still ends as it began."""
    import asyncio
    import gc

    from streamtop.pipeline.collector import GcPause

    pause = GcPause(max_seconds=0.05)
    assert gc.isenabled()
    try:
        with pause:
            assert not gc.isenabled()
            with pause:  # a second poll joining does not restart the clock
                await asyncio.sleep(0.2)  # the 0.05 s timer was due first: it has run
                assert gc.isenabled() and pause.active == 2
        assert gc.isenabled() and pause.active == 0
        with pause:  # a new pause starts off again
            assert not gc.isenabled()
    finally:
        gc.enable()


async def test_concurrent_polls_keep_the_gc_off_until_the_last_ends(server, r, collector_for):
    """Two collectors polling 450 streams each at once (as a cluster's nodes do): a task watching
    the loop never sees the GC on while a poll is in flight, and sees it on once both ended."""
    import asyncio
    import gc

    from streamtop.pipeline.collector import GC_PAUSE

    pipe = r.pipeline(transaction=False)
    for i in range(450):
        pipe.xadd(f"gc:{i:03}", {"f": "v"})
    pipe.execute()
    cols = [await collector_for(server, ["gc:*"]) for _ in range(2)]
    samples: list[tuple[int, bool]] = []
    polling = True

    async def watch() -> None:
        while polling:
            samples.append((GC_PAUSE.active, gc.isenabled()))
            await asyncio.sleep(0)

    assert gc.isenabled()
    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0)
    snaps = await asyncio.gather(*(c.poll() for c in cols))
    polling = False
    await watcher
    assert [len(s.streams) for s in snaps] == [450, 450]
    assert max(active for active, _ in samples) == 2, "the two polls never overlapped"
    assert all(not on for active, on in samples if active), "GC on while a poll was in flight"
    assert gc.isenabled() and GC_PAUSE.active == 0


async def test_a_poll_hanging_on_a_stopped_server_does_not_keep_the_gc_off(own_server, monkeypatch):
    import asyncio
    import gc
    import os
    import signal
    import time

    from streamtop.pipeline.collector import GC_PAUSE

    monkeypatch.setattr(GC_PAUSE, "max_seconds", 0.1)
    with redis.Redis(port=own_server.port) as r:
        r.xadd("s", {"f": "v"})  # something to ask for: a poll of nothing sends nothing
    client, info = await connect(parse_url(own_server.url))
    col = Collector(client, info)
    try:
        await col.poll()
        os.kill(own_server.process.pid, signal.SIGSTOP)
        try:
            task = asyncio.create_task(col.poll())
            while not GC_PAUSE.active and not task.done():
                await asyncio.sleep(0)
            assert GC_PAUSE.active == 1 and not gc.isenabled()
            deadline = time.monotonic() + 10
            while not gc.isenabled() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert gc.isenabled() and not task.done()  # still waiting, GC running
        finally:
            os.kill(own_server.process.pid, signal.SIGCONT)
        await task
        assert gc.isenabled() and GC_PAUSE.active == 0
    finally:
        await client.aclose()
