"""The one place that decides standalone or cluster: which collector polls, which client acts.

`--cluster` is a request and INFO's cluster_enabled is the fact: a cluster is used as one even
without the flag, and the flag against a standalone server is a clear error, not a hang.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from .cluster import ClusterCollector
from .collector import Collector
from .connection import AsyncClient, ConfigError, ConnectionSpec, strip_callbacks
from .model import ServerInfo
from .options import POLL_DEFAULTS, PollOptions


def check_mode(spec: ConnectionSpec, server: ServerInfo) -> None:
    if spec.cluster and server.mode != "cluster":
        raise ConfigError(
            f"--cluster given, but the server at {spec.address} is standalone (cluster_enabled:0);"
            " drop --cluster"
        )


def make_collector(
    spec: ConnectionSpec,
    client: AsyncClient,
    server: ServerInfo,
    targets: Sequence[str | bytes] = (),
    options: PollOptions = POLL_DEFAULTS,
) -> Collector | ClusterCollector:
    """A Collector on `client` (raw), or a ClusterCollector with its own per-node clients
    (close those with `close_collector`), polling as `options` say."""
    check_mode(spec, server)
    if server.mode == "cluster":
        return ClusterCollector(spec, server, targets, options)
    return Collector(client, server, targets, options)


async def close_collector(collector: Collector | ClusterCollector) -> None:
    """Close the per-node clients a ClusterCollector opened (a Collector borrows its client)."""
    if isinstance(collector, ClusterCollector):
        await collector.aclose()


def make_action_client(spec: ConnectionSpec, server: ServerInfo) -> AsyncClient:
    """A raw client for the actions to write through: in a cluster, one that routes each key to
    the node that owns it."""
    if server.mode != "cluster":
        return spec.make_client(raw=True)
    kw = spec.client_kwargs()
    for name in ("db", "client_name", "retry"):
        kw.pop(name, None)
    # keys in the slots that are served still work while some are not (the others say so)
    client = aioredis.RedisCluster(**kw, require_full_coverage=False)
    strip_callbacks(client)
    return client
