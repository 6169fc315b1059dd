"""Consumer liveness on the four servers: 7.2+ (both Valkeys) judge by seen-time; Redis 6.2 and 7.0
only when the others read and the group delivered entries after the consumer was last seen."""

from __future__ import annotations

from streamtop.collector import Collector
from streamtop.connection import connect, parse_url
from streamtop.liveness import group_liveness
from streamtop.options import PollOptions
from tests.support.waiting import wait_for

GONE_AFTER = 400  # ms: a short threshold instead of a minute, the rule is the same


async def poll_group(srv, key: bytes, name: bytes):
    client, info = await connect(parse_url(srv.url))
    try:
        snap = await Collector(client, info, (key,), PollOptions()).poll()
    finally:
        await client.aclose()
    stream = snap.stream(key)
    assert stream is not None
    g = stream.group(name)
    assert g is not None
    return snap, g, info


def idle_of(r, name: bytes) -> int:
    return next(c["idle"] for c in r.xinfo_consumers("s", "g") if c["name"] == name)


async def test_a_stopped_worker_while_another_reads(any_server, any_r):
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    r.xreadgroup("g", "dead", {"s": ">"}, count=1)  # then it stops (killed)
    wait_for(lambda: idle_of(r, b"dead") > GONE_AFTER, "the dead consumer to idle")
    r.xadd("s", {"n": "2"})
    r.xreadgroup("g", "live", {"s": ">"}, count=1)  # the other worker keeps reading
    snap, g, _ = await poll_group(any_server, b"s", b"g")
    states = group_liveness(g, snap.taken_at * 1000, gone_after_ms=GONE_AFTER)
    assert states[b"dead"].gone is True, states[b"dead"]
    assert states[b"live"].gone is False


async def test_all_quiet_is_gone_on_72_and_cannot_tell_before(any_server, any_r):
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    r.xadd("s", {"n": "2"})  # one each: 6.2 creates no consumer for an empty read
    r.xreadgroup("g", "a", {"s": ">"}, count=1)
    r.xreadgroup("g", "b", {"s": ">"}, count=1)
    wait_for(lambda: min(idle_of(r, b"a"), idle_of(r, b"b")) > GONE_AFTER, "both consumers to idle")
    snap, g, info = await poll_group(any_server, b"s", b"g")
    states = group_liveness(g, snap.taken_at * 1000, gone_after_ms=GONE_AFTER)
    expected = True if info.has_inactive else None
    assert [states[n].gone for n in (b"a", b"b")] == [expected, expected], states


async def test_the_status_table_says_gone(any_server, any_r, monkeypatch):
    import io

    from rich.console import Console

    from streamtop import liveness, status

    monkeypatch.setattr(liveness, "GONE_AFTER_MS", GONE_AFTER)
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    r.xreadgroup("g", "dead", {"s": ">"}, count=1)
    wait_for(lambda: idle_of(r, b"dead") > GONE_AFTER, "the dead consumer to idle")
    r.xadd("s", {"n": "2"})
    r.xreadgroup("g", "live", {"s": ">"}, count=1)
    snap, g, _ = await poll_group(any_server, b"s", b"g")
    stream = snap.stream(b"s")
    assert stream is not None
    table = status._consumers_table(stream, snap.taken_at * 1000)
    out = io.StringIO()
    Console(file=out, width=200).print(table)
    dead_line = next(line for line in out.getvalue().splitlines() if "dead" in line)
    assert "gone? " in dead_line
