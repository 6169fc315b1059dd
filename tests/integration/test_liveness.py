"""Consumer liveness on the four servers (issue 25): gone only on evidence, never on idle time alone.

7.2+ (both Valkeys) report `idle` since the last attempt and `inactive` since the last success; 6.2
and 7.0 only `idle`, since the last success (an empty XREADGROUP does not touch it, and a reader
blocked with nothing to read is not even listed until served). Evidence that holds everywhere:
entries waiting for the group, undelivered, after the consumer stopped asking; a connection known
closed (CLIENT LIST, names)."""

from __future__ import annotations

import redis

from streamtop.options import PollOptions
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import connect, parse_url
from streamtop.pipeline.liveness import State, group_liveness, poll_clock, read_clients
from tests.support.waiting import wait_for

GONE_AFTER = 400  # ms: a short threshold instead of a minute, the rule is the same


async def poll_group(srv, key: bytes, name: bytes, with_clients: bool = False):
    client, info = await connect(parse_url(srv.url))
    try:
        snap = await Collector(client, info, (key,), PollOptions()).poll()
        clients = await read_clients(client) if with_clients else None
    finally:
        await client.aclose()
    stream = snap.stream(key)
    assert stream is not None
    g = stream.group(name)
    assert g is not None
    return snap, g, info, clients


def idle_of(r, name: bytes) -> int:
    return next(c["idle"] for c in r.xinfo_consumers("s", "g") if c["name"] == name)


def worker(srv, name: str) -> redis.Redis:
    return redis.Redis(host=srv.host, port=srv.port, protocol=2, client_name=name)


def dead_worker_holding_an_entry(srv, r) -> None:
    """Group g of stream s; consumer "dead" read its one entry and closed its connection, idle
    longer than GONE_AFTER now."""
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    with worker(srv, "dead") as w:
        w.xreadgroup("g", "dead", {"s": ">"}, count=1)
    wait_for(lambda: idle_of(r, b"dead") > GONE_AFTER, "the dead consumer to idle")


async def test_a_worker_killed_mid_task_is_gone_only_once_its_connection_is_known_closed(any_server, any_r):
    """It holds the entry its last read got: from the streams alone that is a busy handler (7.2+)
    or cannot tell (before). Its workers name their connections: with CLIENT LIST it is gone."""
    r = any_r
    dead_worker_holding_an_entry(any_server, r)
    r.xadd("s", {"n": "2"})
    live = worker(any_server, "live")
    try:
        live.xreadgroup("g", "live", {"s": ">"}, count=1)  # the other worker keeps reading
        snap, g, info, clients = await poll_group(any_server, b"s", b"g", with_clients=True)
        alone = group_liveness(g, snap.taken_at * 1000, GONE_AFTER)
        assert alone[b"dead"].state is (State.BUSY if info.has_inactive else State.UNKNOWN), alone
        assert alone[b"dead"].gone is not True
        states = group_liveness(g, snap.taken_at * 1000, GONE_AFTER, clients)
        assert states[b"dead"].gone is True, states[b"dead"]
        assert "no open connection is named after it" in states[b"dead"].reason
        assert states[b"live"].gone is False
    finally:
        live.close()


async def test_entries_left_waiting_after_its_last_attempt_make_it_gone(any_server, any_r):
    """It read, acked and asked once more in vain (a poller), then stopped; entries came and nobody
    took them. A blocked reader would have been handed them: gone, on every server (before 7.2
    once the entry waited the whole gone-after time)."""
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    got = r.xreadgroup("g", "c", {"s": ">"}, count=1)
    r.xack("s", "g", got[0][1][0][0])
    wait_for(lambda: idle_of(r, b"c") > 5, "a later millisecond")
    r.xreadgroup("g", "c", {"s": ">"}, count=1)  # nothing: on 7.2+ idle < inactive now
    wait_for(lambda: idle_of(r, b"c") > GONE_AFTER, "the consumer to idle")
    r.xadd("s", {"n": "2"})
    wait_for(lambda: idle_of(r, b"c") > 2 * GONE_AFTER + 100, "the entry to wait a gone-after time")
    snap, g, _, _ = await poll_group(any_server, b"s", b"g")
    state = group_liveness(g, snap.taken_at * 1000, GONE_AFTER)[b"c"]
    assert (state.gone, state.state) == (True, State.GONE), state
    assert "entries wait for its group, undelivered" in state.reason


async def test_quiet_consumers_holding_what_they_read_are_never_gone(any_server, any_r):
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    r.xadd("s", {"n": "2"})  # one each: 6.2 creates no consumer for an empty read
    r.xreadgroup("g", "a", {"s": ">"}, count=1)
    r.xreadgroup("g", "b", {"s": ">"}, count=1)
    wait_for(lambda: min(idle_of(r, b"a"), idle_of(r, b"b")) > GONE_AFTER, "both consumers to idle")
    snap, g, info, clients = await poll_group(any_server, b"s", b"g", with_clients=True)
    for with_clients in (None, clients):  # the test's own connection is older: it could be theirs
        states = group_liveness(g, snap.taken_at * 1000, GONE_AFTER, with_clients)
        expected = State.BUSY if info.has_inactive else State.UNKNOWN
        assert [states[n].state for n in (b"a", b"b")] == [expected, expected], states
        assert not any(s.gone for s in states.values())


async def test_the_status_table_says_gone_with_the_reason(any_server, any_r, monkeypatch):
    import io

    from rich.console import Console

    from streamtop.commands import status
    from streamtop.pipeline import liveness

    monkeypatch.setattr(liveness, "GONE_AFTER_MS", GONE_AFTER)
    r = any_r
    dead_worker_holding_an_entry(any_server, r)
    live = worker(any_server, "live")
    try:
        r.xadd("s", {"n": "2"})
        live.xreadgroup("g", "live", {"s": ">"}, count=1)
        snap, g, _, clients = await poll_group(any_server, b"s", b"g", with_clients=True)
    finally:
        live.close()
    stream = snap.stream(b"s")
    assert stream is not None
    table = status._consumers_table(stream, snap.taken_at * 1000, clients)
    out = io.StringIO()
    Console(file=out, width=250).print(table)
    dead_line = next(line for line in out.getvalue().splitlines() if "dead" in line)
    assert "gone: no read attempted for" in dead_line


async def test_a_poller_that_stopped_while_others_take_new_entries_is_gone_on_72(any_server, any_r):
    """It asked in vain, then stopped (killed between two polls); entries came and another consumer
    took them. On 7.2+ a reader blocked on the stream would have been run again at each XADD: gone
    (the poll's TIME compares the entry IDs with its last attempt). Before 7.2: cannot tell."""
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    got = r.xreadgroup("g", "c", {"s": ">"}, count=1)
    r.xack("s", "g", got[0][1][0][0])
    wait_for(lambda: idle_of(r, b"c") > 5, "a later millisecond")
    r.xreadgroup("g", "c", {"s": ">"}, count=1)  # nothing; then it stops
    wait_for(lambda: idle_of(r, b"c") > GONE_AFTER, "the consumer to idle")
    r.xadd("s", {"n": "2"})
    r.xreadgroup("g", "other", {"s": ">"}, count=1)  # taken: nothing waits
    snap, g, info, _ = await poll_group(any_server, b"s", b"g")
    assert snap.server_time_ms is not None
    now_ms, server_clock = poll_clock(snap)
    state = group_liveness(g, now_ms, GONE_AFTER, server_clock=server_clock)[b"c"]
    if info.has_inactive:
        assert (state.gone, state.state) == (True, State.GONE), state
        assert "(others took them)" in state.reason
    else:
        assert state.gone is None, state
