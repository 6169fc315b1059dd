"""Streams as the libraries write them, through their own brokers against a real server:
FastStream 0.7 (RedisBroker, a consumer group) and taskiq-redis (RedisStreamBroker). What
streamtop decodes, and for each a worker killed mid-task: shown gone, never the claim default,
claimed by streamtop into the live worker, recovered by the library's own XAUTOCLAIM (taskiq's
idle_timeout, FastStream's StreamSub min_idle_time), then deleted."""

from __future__ import annotations

import signal

import pytest

from streamtop.actions import Actions
from streamtop.actions.gone import delete_gone
from streamtop.options import PollOptions
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import connect, parse_url
from streamtop.pipeline.decode import decode_entry
from streamtop.pipeline.decode.preview import pairs
from streamtop.pipeline.liveness import claim_order, group_liveness, read_clients
from tests.support.libworkers import LibraryWorker, faststream_worker, taskiq_worker
from tests.support.waiting import until, wait_for

faststream_redis = pytest.importorskip("faststream.redis", reason="faststream[redis] is not installed")
taskiq_redis = pytest.importorskip("taskiq_redis", reason="taskiq-redis is not installed")

GONE_AFTER = 400  # ms instead of a minute: the same rules, no test waits a minute


def raw_entries(r, key: str) -> list[tuple[str, tuple[tuple[bytes, bytes], ...]]]:
    return [(i.decode(), tuple(f.items())) for i, f in r.xrange(key)]


async def test_faststream_publish_and_consume_through_a_group(server, r):
    got: list[dict] = []
    broker = faststream_redis.RedisBroker(server.url)

    @broker.subscriber(stream=faststream_redis.StreamSub("orders", group="billing", consumer="worker-1"))
    async def handle(msg: dict) -> None:
        got.append(msg)

    async with broker:
        await broker.start()
        for n in (1, 2):
            await broker.publish(
                {"event": "order_created", "order_id": n, "currency": "EUR"},
                stream="orders",
                headers={"x-tenant": "acme"},
            )
        await until(None, lambda: len(got) == 2, "FastStream to handle both messages")
    assert got[0]["order_id"] == 1
    decoded = [decode_entry(fields) for _, fields in raw_entries(r, "orders")]
    assert all(d is not None and d.format == "faststream" for d in decoded)
    first = decoded[0]
    assert first is not None and first.body == {"event": "order_created", "order_id": 1, "currency": "EUR"}
    headers = dict(first.headers)
    assert headers["content-type"] == "application/json" and headers["x-tenant"] == "acme"
    assert headers["correlation_id"]
    assert [label for label, _ in pairs(first)][0] == "event"
    consumers = r.xinfo_consumers("orders", "billing")
    assert [(c["name"], c["pending"]) for c in consumers] == [(b"worker-1", 0)]


async def poll_group(url: str, key: bytes = b"tasks", name: bytes = b"taskiq"):
    """The group as a poll sees it, and CLIENT LIST (the workers name their connections)."""
    client, info = await connect(parse_url(url))
    try:
        snap = await Collector(client, info, (key,), PollOptions()).poll()
        clients = await read_clients(client)
    finally:
        await client.aclose()
    stream = snap.stream(key)
    assert stream is not None
    group = stream.group(name)
    assert group is not None
    return snap, group, clients


@pytest.mark.slow
async def test_taskiq_worker_killed_mid_task(server, r):
    broker = taskiq_redis.RedisStreamBroker(server.url, queue_name="tasks")

    @broker.task(task_name="app.images:resize")
    async def resize(image: str, width: int) -> None: ...

    await broker.startup()
    dead = taskiq_worker(server.url, "worker-dead", "hang")
    live: LibraryWorker | None = None
    try:
        # the group exists once a worker started; then the first task goes to the worker that hangs
        wait_for(
            lambda: (
                any(g["name"] == b"taskiq" for g in r.xinfo_groups("tasks")) if r.exists("tasks") else False
            ),
            "the worker's group",
        )
        first = (await resize.kiq("cat.png", 640)).task_id
        wait_for(lambda: dead.said(f"got {first}"), "the first worker to take the task")
        dead.stop(signal.SIGKILL)
        entries = raw_entries(r, "tasks")
        decoded = decode_entry(entries[0][1])
        assert decoded is not None and decoded.format == "taskiq"
        assert pairs(decoded)[:2] == [("task_name", "app.images:resize"), ("args", '["cat.png",640]')]

        live = taskiq_worker(server.url, "worker-live", "work")
        wait_for(
            lambda: any(c["name"] == b"worker-live" for c in r.xinfo_consumers("tasks", "taskiq")),
            "the second worker to ask",
        )
        wait_for(
            lambda: (
                next(c["idle"] for c in r.xinfo_consumers("tasks", "taskiq") if c["name"] == b"worker-dead")
                > GONE_AFTER * 2
            ),
            "the dead worker to idle",
        )
        second = (await resize.kiq("dog.png", 320)).task_id
        wait_for(lambda: live.said(f"acked {second}"), "the live worker to do the second task")

        snap, group, clients = await poll_group(server.url)
        states = group_liveness(group, snap.taken_at * 1000, GONE_AFTER, clients)
        assert states[b"worker-dead"].gone is True, states
        assert states[b"worker-live"].gone is False
        order = [c.name for c in claim_order(group, snap.taken_at * 1000, GONE_AFTER, clients)]
        assert order == [b"worker-live", b"worker-dead"]  # the claim dialog's default comes first

        client, info = await connect(parse_url(server.url))
        try:
            actions = Actions(client, info)
            claimed = await actions.claim_auto(b"tasks", b"taskiq", order[0], 0)
            assert claimed.ok, claimed.message
            # taskiq's own recovery: after its idle_timeout it XAUTOCLAIMs the entry and runs it
            third = (await resize.kiq("owl.png", 100)).task_id
            wait_for(
                lambda: live.said(f"acked {third}") and live.said(f"acked {first}"),
                "the live worker to recover the first task",
            )
            assert r.xpending("tasks", "taskiq")["pending"] == 0
            result = await delete_gone(actions, b"tasks", b"taskiq", [b"worker-dead"], GONE_AFTER)
            assert result.deleted == [b"worker-dead"], result.message
        finally:
            await client.aclose()
        assert [c["name"] for c in r.xinfo_consumers("tasks", "taskiq")] == [b"worker-live"]
    finally:
        dead.stop(signal.SIGKILL)
        if live is not None:
            live.stop()
        await broker.shutdown()


RECLAIM_MS = 6000  # FastStream's reclaiming subscriber: after streamtop's claim, not before it


@pytest.mark.slow
async def test_faststream_worker_killed_mid_message(server, r):
    """A FastStream worker killed while handling a message: shown gone, never the claim default;
    streamtop claims its entry into the live worker, whose own reclaiming subscriber (StreamSub
    min_idle_time: XAUTOCLAIM) then handles it; the dead consumer is deleted, holding nothing."""
    dead = faststream_worker(server.url, "worker-dead", "hang")
    live: LibraryWorker | None = None
    publisher = faststream_redis.RedisBroker(server.url)
    try:
        wait_for(lambda: dead.said("ready"), "the first worker")
        async with publisher:
            await publisher.publish({"event": "order_created", "order_id": 1}, stream="orders")
            wait_for(lambda: dead.said("got 1"), "the first worker to take the message")
            dead.stop(signal.SIGKILL)
            live = faststream_worker(server.url, "worker-live", "work", RECLAIM_MS)
            wait_for(lambda: live is not None and live.said("ready"), "the second worker")
            wait_for(
                lambda: (
                    next(
                        c["idle"]
                        for c in r.xinfo_consumers("orders", "billing")
                        if c["name"] == b"worker-dead"
                    )
                    > GONE_AFTER * 2
                ),
                "the dead worker to idle",
            )
            await publisher.publish({"event": "order_paid", "order_id": 2}, stream="orders")
            wait_for(lambda: live is not None and live.said("got 2"), "the live worker to take the second")
        wait_for(lambda: r.xpending("orders", "billing")["pending"] == 1, "the second acknowledged")

        snap, group, clients = await poll_group(server.url, b"orders", b"billing")
        states = group_liveness(group, snap.taken_at * 1000, GONE_AFTER, clients)
        assert states[b"worker-dead"].gone is True, states
        assert states[b"worker-live"].gone is False
        order = [c.name for c in claim_order(group, snap.taken_at * 1000, GONE_AFTER, clients)]
        assert order == [b"worker-live", b"worker-dead"]

        client, info = await connect(parse_url(server.url))
        try:
            actions = Actions(client, info)
            claimed = await actions.claim_auto(b"orders", b"billing", order[0], 0)
            assert claimed.ok and "claimed 1 " in claimed.message, claimed.message
            # FastStream's own recovery: the live worker's reclaiming subscriber takes it once idle
            wait_for(
                lambda: live is not None and live.said("got 1"), "the live worker to recover it", timeout=30
            )
            wait_for(lambda: r.xpending("orders", "billing")["pending"] == 0, "the first acknowledged")
            result = await delete_gone(actions, b"orders", b"billing", [b"worker-dead"], GONE_AFTER)
            assert result.deleted == [b"worker-dead"], result.message
        finally:
            await client.aclose()
        assert [c["name"] for c in r.xinfo_consumers("orders", "billing")] == [b"worker-live"]
    finally:
        dead.stop(signal.SIGKILL)
        if live is not None:
            live.stop()
