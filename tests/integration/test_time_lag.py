"""Time lag per group from the first undelivered entry's ID, on every server flavour.

The collector reads `XRANGE key (last-delivered-id + COUNT 1` in the poll's round trip (or reuses
the estimate's XRANGE on 6.2 and after a NULL lag) and the server's TIME: the lag is the server's
clock minus that entry's ms part. IDs here are set a known time in the past, so the expected value
is exact arithmetic, never a timed assertion.
"""

from __future__ import annotations

import redis

from streamtop.pipeline import render
from streamtop.pipeline.model import Snapshot, StreamInfo, TimeLagSource, id_ms

HOUR = 3_600_000


def server_ms(r: redis.Redis) -> int:
    secs, micros = r.time()
    return secs * 1000 + micros // 1000


def one(snap: Snapshot, key: bytes) -> StreamInfo:
    s = snap.stream(key)
    assert s is not None and s.error is None
    return s


def add_past(r: redis.Redis, key: str, ages_ms: list[int]) -> list[str]:
    """Entries whose IDs say they were added `age` ms ago (oldest first)."""
    base = server_ms(r)
    ids = [f"{base - age}-0" for age in ages_ms]
    for i in ids:
        r.xadd(key, {b"f": b"v"}, id=i)
    return ids


async def test_time_lag_is_the_age_of_the_first_undelivered_entry(any_server, any_r, collector_for):
    r = any_r
    ids = add_past(r, "s", [3 * HOUR, 2 * HOUR, HOUR])
    r.xgroup_create("s", "behind", id="0")
    r.xgroup_create("s", "one_read", id="0")
    r.xreadgroup("one_read", "c1", {"s": ">"}, count=1)
    r.xgroup_create("s", "caught_up", id="$")
    col = await collector_for(any_server)
    for _ in range(2):  # the first poll (new groups) and the steady state give the same answer
        snap = await col.poll()
        s = one(snap, b"s")
        now = col.server_time_ms
        behind, one_read, caught = s.group(b"behind"), s.group(b"one_read"), s.group(b"caught_up")
        assert (behind.time_lag.source, behind.time_lag.ms) == (TimeLagSource.EXACT, now - id_ms(ids[0]))
        assert (one_read.time_lag.source, one_read.time_lag.ms) == (TimeLagSource.EXACT, now - id_ms(ids[1]))
        assert (caught.time_lag.source, caught.time_lag.ms) == (TimeLagSource.EXACT, 0)
        # the oldest pending entry's age comes from its ID too
        assert one_read.oldest_pending_age_ms == now - id_ms(ids[0])
        assert behind.oldest_pending_age_ms is None


async def test_read_between_polls_is_a_bound_then_exact(any_server, any_r, collector_for):
    """The XRANGE is queued with the previous poll's last-delivered-id: when the group read
    past that entry meanwhile, the lag is at most the age of the new last-delivered-id."""
    r = any_r
    ids = add_past(r, "s", [3 * HOUR, 2 * HOUR, HOUR, HOUR // 2])
    r.xgroup_create("s", "g", id="0")
    col = await collector_for(any_server)
    await col.poll()
    await col.poll()
    r.xreadgroup("g", "c1", {"s": ">"}, count=2)
    g = one(await col.poll(), b"s").group(b"g")
    if g.lag.source.value == "exact":  # 7.0+: COUNT 1 returned ids[0], now delivered
        assert (g.time_lag.source, g.time_lag.ms) == (
            TimeLagSource.AT_MOST,
            col.server_time_ms - id_ms(ids[1]),
        )
    else:  # 6.2: the estimate's XRANGE returned every entry after the old position
        assert (g.time_lag.source, g.time_lag.ms) == (TimeLagSource.EXACT, col.server_time_ms - id_ms(ids[2]))
    g = one(await col.poll(), b"s").group(b"g")
    assert (g.time_lag.source, g.time_lag.ms) == (TimeLagSource.EXACT, col.server_time_ms - id_ms(ids[2]))
    assert render.time_lag(g.time_lag) == "1h00m"


async def test_manual_ids_are_not_times(any_server, any_r, collector_for):
    """IDs 1-1, 2-1 ... were not made by XADD *: their ms part is no time, the lag is marked."""
    r = any_r
    for i in (1, 2, 3):
        r.xadd("manual", {b"f": b"v"}, id=f"{i}-1")
    r.xgroup_create("manual", "g", id="0")
    future = server_ms(r) + 10 * HOUR
    r.xadd("future", {b"f": b"v"}, id=f"{future}-0")
    r.xgroup_create("future", "g", id="0")
    col = await collector_for(any_server)
    snap = await col.poll()
    for key in (b"manual", b"future"):
        g = one(snap, key).group(b"g")
        assert (g.time_lag.source, g.time_lag.ms, render.time_lag(g.time_lag)) == (
            TimeLagSource.NOT_TIME,
            None,
            "ids",
        )


async def test_lag_unknown_is_not_zero(any_server, any_r, collector_for):
    """A group behind whose first undelivered entry was deleted is still judged from what is
    left; nothing claims 0 while entries wait."""
    r = any_r
    ids = add_past(r, "s", [2 * HOUR, HOUR, HOUR // 2])
    r.xgroup_create("s", "g", id="0")
    r.xdel("s", ids[0])
    col = await collector_for(any_server)
    await col.poll()
    g = one(await col.poll(), b"s").group(b"g")
    assert g.time_lag.ms == col.server_time_ms - id_ms(ids[1])
    assert g.time_lag.ms > 0


async def test_a_large_first_entry_gives_its_time_lag_without_being_read(server, r, collector_for):
    big = {b"blob": b"x" * (200 * 1024)}
    base = server_ms(r)
    first = f"{base - HOUR}-0"
    r.xadd("big", big, id=first)
    r.xadd("big", {b"f": b"v"}, id=f"{base - 1000}-0")
    r.xgroup_create("big", "g", id="0")
    col = await collector_for(server)
    await col.poll()  # the full XINFO STREAM that finds the large entry
    before = int(r.info("stats")["total_net_output_bytes"])
    snap = await col.poll()
    g = one(snap, b"big").group(b"g")
    assert (g.time_lag.source, g.time_lag.ms) == (TimeLagSource.EXACT, col.server_time_ms - id_ms(first))
    assert int(r.info("stats")["total_net_output_bytes"]) - before < 100 * 1024
