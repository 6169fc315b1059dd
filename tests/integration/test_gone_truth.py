"""Gone means gone (issue 25, item 2), with the libraries the cases came from, on every server.

- A walrus reader blocked with `cg.read(block=0)` on a quiet stream (the tutorial's pattern) was
  called gone after 60 s on 7.2+, and `group s delconsumer --gone --no-pending --yes` deleted it.
  Now it is `waiting` (7.2+; before 7.2 the server cannot tell), it survives the command, and it
  gets the next entry.
- A FastStream handler busy longer than the gone-after time was flagged gone and its entry offered
  to "claim from gone consumers". Now it is `busy` (7.2+; cannot tell before), never gone, never
  in the gone list, and not the claim dialog's default... only behind the live worker.

The gone-after time is shortened (no test waits a minute); the rules are the same.
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
import redis

from streamtop.actions import Actions
from streamtop.actions.gone import gone_preview
from streamtop.pipeline import liveness
from streamtop.pipeline.connection import connect, parse_url
from tests.support.commands import cli_main, run
from tests.support.libworkers import faststream_worker
from tests.support.waiting import until, wait_for

walrus = pytest.importorskip("walrus")
faststream_redis = pytest.importorskip("faststream.redis", reason="faststream[redis] is not installed")

GONE_AFTER = 400


@pytest.fixture(autouse=True)
def short_gone_after(monkeypatch):
    monkeypatch.setattr(liveness, "GONE_AFTER_MS", GONE_AFTER)


def consumer(r: redis.Redis, key: str, group: str, name: bytes) -> dict | None:
    return next((c for c in r.xinfo_consumers(key, group) if c["name"] == name), None)


def has_inactive(r: redis.Redis) -> bool:
    return "inactive" in r.xinfo_consumers("s", "g")[0]


def status_consumers(srv, capsys, key: str) -> dict[str, dict]:
    code, out, _ = run(srv, capsys, "status", key, "--json")
    assert code == 0, out
    start = out.index('{\n  "schema_version"')  # FastStream's log lines share stdout
    doc, _ = json.JSONDecoder().raw_decode(out[start:])
    return {c["name"]: c for g in doc["streams"][0]["groups"] for c in g["consumers"]}


@pytest.mark.slow
def test_a_walrus_reader_blocked_with_block_0_is_waiting_and_survives_delconsumer_gone(
    any_server, any_r, capsys
):
    r = any_r
    db = walrus.Database(host=any_server.host, port=any_server.port, socket_timeout=None)
    cg = db.consumer_group("g", ["s"], consumer="c1")
    cg.create()
    r.xadd("s", {"n": "1"})
    cg.read(count=1)  # the first one (6.2 and 7.0 list a consumer once it was served)
    r.xack("s", "g", r.xrange("s")[0][0])
    wait_for(lambda: consumer(r, "s", "g", b"c1")["idle"] > 5, "a later millisecond")  # else idle == inactive
    got: list = []
    reader = threading.Thread(target=lambda: got.append(cg.read(count=1, block=0)), daemon=True)
    reader.start()
    try:
        wait_for(lambda: consumer(r, "s", "g", b"c1")["idle"] > 2 * GONE_AFTER, "the reader to block a while")
        assert not got  # still blocked: nothing came
        seen = status_consumers(any_server, capsys, "s")["c1"]
        if has_inactive(r):  # 7.2+: it asked, and nothing came since
            assert (seen["gone"], seen["liveness"]) == (False, "waiting"), seen
            assert seen["gone_reason"].startswith("waiting: no read attempted for")
        else:  # before 7.2 idle counts from its last success: a blocked and a dead reader look alike
            assert (seen["gone"], seen["liveness"]) == (None, "cannot tell"), seen
        code, out, err = run(
            any_server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--yes"
        )
        assert code == 2 and out.startswith("nothing to delete"), (out, err)
        assert "'g' / 'c1': " in err and "kept" in err
        assert consumer(r, "s", "g", b"c1") is not None
    finally:
        r.xadd("s", {"n": "2"})  # wakes the reader
        reader.join(10)
    assert got and got[0][0][1][0][1] == {b"n": b"2"}, got  # it was alive: it got the next entry


@pytest.mark.slow
async def test_a_busy_faststream_handler_is_busy_not_gone_and_its_entry_not_offered(any_server, any_r):
    """Its handler takes longer than the gone-after time (it sleeps); another worker reads on. Its
    connections are named after it (the test worker names them), and stay open: busy."""
    r = any_r
    busy = faststream_worker(any_server.url, "worker-busy", "hang")
    live = None
    publisher = faststream_redis.RedisBroker(any_server.url)
    try:
        wait_for(lambda: busy.said("ready"), "the busy worker")
        async with publisher:
            await publisher.publish({"event": "order_created", "order_id": 1}, stream="orders")
            wait_for(lambda: busy.said("got 1"), "the busy worker to take the first")
            live = faststream_worker(any_server.url, "worker-live", "work")
            wait_for(lambda: live is not None and live.said("ready"), "the live worker")
            wait_for(
                lambda: consumer(r, "orders", "billing", b"worker-busy")["idle"] > 2 * GONE_AFTER,
                "the handler to run longer than the gone-after time",
            )
            await publisher.publish({"event": "order_paid", "order_id": 2}, stream="orders")
            wait_for(lambda: live is not None and live.said("got 2"), "the live worker to take the second")
        client, info = await connect(parse_url(any_server.url))
        try:
            pre = await gone_preview(Actions(client, info), b"orders", b"billing")
        finally:
            await client.aclose()
        assert pre.ok and pre.gone == [], pre
        kept = {name: state for name, _, state in pre.kept}
        assert kept[b"worker-busy"].state is liveness.State.BUSY, kept
        assert "(named after it) is open" in kept[b"worker-busy"].reason
        assert r.xpending("orders", "billing")["consumers"][0]["name"] == b"worker-busy"
    finally:
        busy.stop()
        if live is not None:
            live.stop()


@pytest.mark.slow
async def test_an_unnamed_busy_handler_is_busy_or_cannot_tell_never_gone(any_server, any_r, capsys):
    """The same handler without connection names (FastStream's default): from the streams alone it
    is busy on 7.2+ (its last read got the entry it holds) and cannot tell before; never gone."""
    r = any_r
    r.xgroup_create("orders", "billing", id="0", mkstream=True)
    broker = faststream_redis.RedisBroker(any_server.url)
    started, release = threading.Event(), asyncio.Event()

    @broker.subscriber(
        stream=faststream_redis.StreamSub("orders", group="billing", consumer="handler", polling_interval=100)
    )
    async def handle(msg: dict) -> None:
        started.set()
        await release.wait()

    async with broker:
        await broker.start()
        await broker.publish({"order_id": 1}, stream="orders")
        await until(None, started.is_set, "the handler to start")
        await until(
            None,
            lambda: consumer(r, "orders", "billing", b"handler")["idle"] > 2 * GONE_AFTER,
            "the handler to run past the gone-after time",
        )
        seen = await asyncio.to_thread(status_consumers, any_server, capsys, "orders")
        info = r.xinfo_consumers("orders", "billing")[0]
        expected = ("busy", False) if "inactive" in info else ("cannot tell", None)
        assert (seen["handler"]["liveness"], seen["handler"]["gone"]) == expected, seen
        release.set()
        await until(None, lambda: r.xpending("orders", "billing")["pending"] == 0, "the handler to ack")


def test_without_the_right_to_client_list_a_dead_named_worker_is_never_gone(any_server, any_r, capsys):
    """A user without +client: CLIENT LIST is refused, so the closed connection cannot be known.
    The dead worker holding its entry is then busy (7.2+) or cannot tell (6.2, 7.0), never gone."""
    r = any_r
    r.acl_setuser("watcher", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-client"])
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    with redis.Redis(host=any_server.host, port=any_server.port, protocol=2, client_name="dead") as w:
        w.xreadgroup("g", "dead", {"s": ">"}, count=1)
    live = redis.Redis(host=any_server.host, port=any_server.port, protocol=2, client_name="live")
    try:
        r.xadd("s", {"n": "2"})
        live.xreadgroup("g", "live", {"s": ">"}, count=1)  # (6.2 and 7.0 list a consumer once served)
        wait_for(lambda: consumer(r, "s", "g", b"dead")["idle"] > 2 * GONE_AFTER, "the dead one to idle")
        url = f"redis://watcher:pw@{any_server.host}:{any_server.port}/0"
        code = cli_main(["status", "s", "--json", "--url", url])
        doc = json.loads(capsys.readouterr().out)
        seen = {c["name"]: c for c in doc["streams"][0]["groups"][0]["consumers"]}["dead"]
        assert code == 0 and seen["gone"] is not True, seen
        assert seen["liveness"] == ("busy" if seen["inactive_ms"] is not None else "cannot tell"), seen
        # with the right, the same server says gone: its name is no longer in CLIENT LIST
        seen = status_consumers(any_server, capsys, "s")["dead"]
        assert (seen["gone"], seen["liveness"]) == (True, "gone"), seen
    finally:
        live.close()


@pytest.mark.slow
def test_a_blocked_reader_that_sees_another_served_first_is_kept(any_server, any_r, capsys):
    """Two walrus readers on BLOCK 0: an XADD hands the entry to the one that waited longest, so c2
    watches c1 take an entry added after c2 asked. On 7.2+ the server runs c2's read again at that
    XADD (its idle resets: active); before 7.2 cannot tell. Kept by `delconsumer --gone` either way,
    and it gets the next entry."""
    r = any_r
    db = walrus.Database(host=any_server.host, port=any_server.port, socket_timeout=None)
    for name in ("c1", "c2"):
        db.consumer_group("g", ["s"], consumer=name).create()
    for n in range(2):  # one each first (6.2 and 7.0 list a consumer once it was served)
        r.xadd("s", {"n": str(n)})
    for name in ("c1", "c2"):
        db.consumer_group("g", ["s"], consumer=name).read(count=1)
    r.xack("s", "g", *[i for i, _ in r.xrange("s")])
    got: dict[str, list] = {"c1": [], "c2": []}

    def block(name: str) -> threading.Thread:
        cg = walrus.Database(host=any_server.host, port=any_server.port, socket_timeout=None).consumer_group(
            "g", ["s"], consumer=name
        )
        t = threading.Thread(target=lambda: got[name].append(cg.read(count=1, block=0)), daemon=True)
        t.start()
        return t

    first = block("c1")
    wait_for(lambda: sum(1 for c in r.client_list() if "b" in c["flags"]) == 1, "c1 to block")
    second = block("c2")
    wait_for(lambda: sum(1 for c in r.client_list() if "b" in c["flags"]) == 2, "c2 to block")
    wait_for(lambda: consumer(r, "s", "g", b"c2")["idle"] > 2 * GONE_AFTER, "c2 to wait a while")
    r.xadd("s", {"n": "late"})
    first.join(10)
    assert got["c1"] and not got["c2"]  # c1 waited longer: it was served
    try:
        seen = status_consumers(any_server, capsys, "s")["c2"]
        assert seen["gone"] is (False if seen["inactive_ms"] is not None else None), seen
        code, out, _ = run(any_server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--yes")
        assert code == 2 and consumer(r, "s", "g", b"c2") is not None, out
    finally:
        r.xadd("s", {"n": "next"})
        second.join(10)
    assert got["c2"] and got["c2"][0][0][1][0][1] == {b"n": b"next"}
