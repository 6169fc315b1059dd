"""Deleting gone consumers on the four servers: only the ones that hold nothing, and never one
that read again between the preview and the delete (the check runs atomically with the delete).
The workers name their connections after their consumers: a closed one is known from CLIENT LIST."""

from __future__ import annotations

import pytest
import redis

from streamtop.actions import Actions
from streamtop.actions.gone import delete_gone, gone_preview
from streamtop.pipeline.connection import connect, parse_url
from tests.support.waiting import wait_for

GONE_AFTER = 400


@pytest.fixture
async def actions_on(any_server):
    client, info = await connect(parse_url(any_server.url))
    yield lambda read_only=False: Actions(client, info, read_only=read_only)
    await client.aclose()


def names(r) -> set[bytes]:
    return {c["name"] for c in r.xinfo_consumers("s", "g")}


def idle_of(r, name: bytes) -> int:
    return next(c["idle"] for c in r.xinfo_consumers("s", "g") if c["name"] == name)


def worker(srv, name: str) -> redis.Redis:
    """A worker's connection, named after its consumer (what CLIENT LIST then tells)."""
    return redis.Redis(host=srv.host, port=srv.port, protocol=2, client_name=name)


async def test_only_gone_consumers_without_pending_go(any_server, any_r, actions_on):
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    for n in range(2):
        r.xadd("s", {"n": str(n)})
    with worker(any_server, "dead") as w:
        done = w.xreadgroup("g", "dead", {"s": ">"}, count=1)
        w.xack("s", "g", done[0][1][0][0])  # it finished its work, then was killed
    with worker(any_server, "dead-holding") as w:
        w.xreadgroup("g", "dead-holding", {"s": ">"}, count=1)  # killed mid-task: one entry pending
    wait_for(lambda: min(idle_of(r, b"dead"), idle_of(r, b"dead-holding")) > GONE_AFTER, "idle")
    r.xadd("s", {"n": "2"})
    live = worker(any_server, "live")
    live.xreadgroup("g", "live", {"s": ">"}, count=1)
    actions = actions_on()
    pre = await gone_preview(actions, b"s", b"g", gone_after_ms=GONE_AFTER)
    assert pre.ok, pre.message
    assert pre.deletable == [b"dead"]
    assert {name for name, _, _ in pre.gone} == {b"dead", b"dead-holding"}
    assert "claim them first" in pre.message

    refused = await delete_gone(actions_on(read_only=True), b"s", b"g", [b"dead"], GONE_AFTER)
    assert not refused.ok and "read-only" in refused.message and b"dead" in names(r)

    result = await delete_gone(actions, b"s", b"g", pre.deletable, GONE_AFTER)
    assert result.ok and result.deleted == [b"dead"]
    assert names(r) == {b"dead-holding", b"live"}
    live.close()


async def test_a_consumer_that_came_back_is_kept(any_r, actions_on):
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    r.xreadgroup("g", "w", {"s": ">"}, count=1)
    r.xack("s", "g", r.xrange("s")[0][0])
    wait_for(lambda: idle_of(r, b"w") > GONE_AFTER, "idle")
    actions = actions_on()
    r.xadd("s", {"n": "2"})
    r.xreadgroup("g", "w", {"s": ">"}, count=1)  # back after the preview: now holds an entry
    result = await delete_gone(actions, b"s", b"g", [b"w", b"nobody"], GONE_AFTER)
    assert result.deleted == []
    assert dict(result.skipped) == {
        b"w": "holds pending entries now",
        b"nobody": "no longer exists",
    }
    r.xack("s", "g", r.xrange("s")[-1][0])  # done again: no pending, but it read just now
    result = await delete_gone(actions, b"s", b"g", [b"w"], GONE_AFTER)
    assert dict(result.skipped) == {b"w": "read or claimed since"} and b"w" in names(r)
