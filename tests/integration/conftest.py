"""Fixtures shared by the integration tests: clients and collectors on the real servers of
tests/conftest.py, closed after each test."""

from __future__ import annotations

import pytest

from streamtop.options import PollOptions
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import connect, parse_url
from tests.support.streams import make_actions


@pytest.fixture
async def collector_for():
    """make(srv, targets, **kw) -> a Collector on a raw client; the clients are closed after."""
    clients = []

    async def make(srv, targets=(), **kw) -> Collector:
        client, info = await connect(parse_url(srv.url))
        clients.append(client)
        return Collector(client, info, targets, PollOptions(**kw))

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
async def acts(server):
    """The actions layer on the Valkey 9.1 server."""
    a = await make_actions(server)
    yield a
    await a.client.aclose()


@pytest.fixture
async def any_acts(any_server):
    """The actions layer on each server flavour in turn."""
    a = await make_actions(any_server)
    yield a
    await a.client.aclose()
