"""The issue 25 repro with the real FastStream: one subscriber per group on a shared stream (billing
fails on an order, shipping ships it). Dead-lettering billing's failure and redriving it back to
the stream would ship it twice: the redrive refuses and names `shipping`; a per-group retry stream
(--to) that only billing reads takes it instead, and shipping never sees it again."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.commands import run
from tests.support.waiting import until

faststream_redis = pytest.importorskip("faststream.redis", reason="faststream[redis] is not installed")


def test_faststream_two_subscribers_redrive_refuses_and_retry_stream_works(server, r, capsys):
    asyncio.run(two_subscribers(server))
    pending = r.xpending("orders", "billing")["pending"]
    assert pending == 1, "FastStream left the failed order pending in billing"
    assert r.xpending("orders", "shipping")["pending"] == 0

    code, _, err = run(server, capsys, "deadletter", "orders", "billing", "--min-deliveries", "1", "--yes")
    assert code == 0, err
    code, _, err = run(server, capsys, "redrive", "orders:dlq", "--yes")
    assert code == 2 and "'shipping' (had already acked 1 of 1: it would process them again)" in err
    assert r.xlen("orders") == 3, "nothing redriven"
    code, out, err = run(server, capsys, "redrive", "orders:dlq", "--to", "orders:retry:billing", "--yes")
    assert code == 0 and "redrove 1 entries" in out, err
    assert r.xlen("orders:retry:billing") == 1 and r.xlen("orders") == 3


async def two_subscribers(server) -> None:
    """billing fails on order 2 (left pending), shipping ships all three."""
    shipped: list[int] = []
    billed: list[int] = []
    broker = faststream_redis.RedisBroker(server.url)

    @broker.subscriber(stream=faststream_redis.StreamSub("orders", group="billing", consumer="b1"))
    async def bill(msg: dict) -> None:
        if msg["order_id"] == 2:
            raise RuntimeError("card declined")  # a bug: stays pending in billing
        billed.append(msg["order_id"])

    @broker.subscriber(stream=faststream_redis.StreamSub("orders", group="shipping", consumer="s1"))
    async def ship(msg: dict) -> None:
        shipped.append(msg["order_id"])

    async with broker:
        await broker.start()
        for n in (1, 2, 3):
            await broker.publish({"order_id": n}, stream="orders")
        await until(None, lambda: len(shipped) == 3 and len(billed) == 2, "both groups to handle the orders")
