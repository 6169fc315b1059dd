"""Rates from two polls of a real server: in/s from entries-added, read/s from entries-read."""

from __future__ import annotations

import pytest

from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import connect, parse_url
from streamtop.pipeline.history import History


async def test_rates_from_a_real_server(server, r):
    for i in range(1, 4):
        r.xadd("s", {"f": "v"}, id=f"{i}-1")
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "c", {"s": ">"}, count=1)  # before any read, entries-read is NULL (unknown)
    client, info = await connect(parse_url(server.url))
    try:
        col = Collector(client, info)
        h = History()
        first = await col.poll()
        h.update(first)
        for i in range(4, 9):
            r.xadd("s", {"f": "v"}, id=f"{i}-1")
        r.xreadgroup("g", "c", {"s": ">"}, count=6)
        second = await col.poll()
        h.update(second)
    finally:
        await client.aclose()
    dt = second.taken_at - first.taken_at
    assert dt > 0
    assert h.stream_rate(b"s") == pytest.approx(5 / dt)
    assert h.group_rate(b"s", b"g") == pytest.approx(6 / dt)
