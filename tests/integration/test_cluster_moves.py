"""Dead-letter and redrive on a cluster, through the routed client: the MULTI/EXEC check before
the first move goes to the node that owns the DLQ (a transaction with a TYPE of it), and the moves
and the group listing work as on one server (issue 24 item 2, issue 25 item 1)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
import redis

from streamtop.actions import Actions
from streamtop.embedded import ClusterProcess
from streamtop.pipeline.connection import build_spec, connect
from streamtop.session import make_action_client
from tests.integration.test_cluster import cluster  # noqa: F401 (the module-scoped fixture)

pytestmark = pytest.mark.slow  # a cluster of three starts first


@contextlib.asynccontextmanager
async def _cluster_actions(c: ClusterProcess, key: str) -> AsyncIterator[tuple[Actions, redis.RedisCluster]]:
    """Actions through the routed client, and a plain cluster client for setting up and checking;
    key and its dead-letter stream ({key}:dlq) are deleted before and after."""
    spec = build_spec(url=c.url, cluster=True)
    client, info = await connect(spec)
    actions = Actions(make_action_client(spec, info), info)
    rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
    try:
        rc.delete(key, f"{{{key}}}:dlq")
        yield actions, rc
    finally:
        rc.delete(key, f"{{{key}}}:dlq")
        rc.close()
        await actions.client.aclose()
        await client.aclose()


async def test_dead_letter_then_redrive_on_a_cluster(cluster):  # noqa: F811
    key = "moves:orders"
    async with _cluster_actions(cluster, key) as (actions, rc):
        fields = [("a", "1"), ("dlq-missing", "0")]
        rc.execute_command("XADD", key, "*", *[x for kv in fields for x in kv])
        rc.xgroup_create(key, "g", "0")
        rc.xreadgroup("g", "c", {key: ">"})
        dead = await actions.dead_letter(key.encode(), b"g", min_deliveries=1)
        assert dead.ok and len(dead.moved) == 1, dead.message
        dlq = dead.dlq
        back = await actions.redrive(dlq)
        assert back.ok and len(back.moved) == 1, back.message
        raw = rc.execute_command("XRANGE", key, "-", "+")
        assert len(raw) == 2 and rc.xlen(dlq) == 0


async def test_batches_of_several_entries_move_on_a_cluster(cluster):  # noqa: F811
    """5 entries in batches of 2 (2, 2, 1): each batch's WATCH, pipelined read and MULTI/EXEC go to
    the node of the key's slot ({key}:dlq shares it); then back, the same way."""
    key = "moves:batches"
    async with _cluster_actions(cluster, key) as (actions, rc):
        ids = [rc.xadd(key, {"n": str(i)}).decode() for i in range(5)]
        rc.xgroup_create(key, "g", "0")
        rc.xreadgroup("g", "c", {key: ">"})
        dead = await actions.dead_letter(key.encode(), b"g", min_deliveries=1, batch=2)
        assert dead.ok and [i for i, _ in dead.moved] == ids, dead.message
        assert dead.dlq == b"{moves:batches}:dlq" and rc.xlen(dead.dlq) == 5
        assert rc.xpending(key, "g")["pending"] == 0
        back = await actions.redrive(dead.dlq, batch=2)
        assert back.ok and len(back.moved) == 5, back.message
        assert rc.xlen(key) == 10 and rc.xlen(dead.dlq) == 0
