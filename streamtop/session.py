"""The one place that decides standalone or cluster: which collector polls, which client acts.

`--cluster` is a request and INFO's cluster_enabled is the fact: a cluster is used as one even
without the flag, and the flag against a standalone server is a clear error, not a hang.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import AskError, TryAgainError, WatchError

from streamtop.pipeline.cluster import ClusterCollector
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import (
    AsyncClient,
    ConfigError,
    ConnectionSpec,
    execute_raw,
    host_port,
    strip_callbacks,
)
from streamtop.pipeline.model import ServerInfo, Snapshot
from streamtop.pipeline.source import PollSource

from .options import POLL_DEFAULTS, PollOptions


def check_mode(spec: ConnectionSpec, server: ServerInfo) -> None:
    if spec.cluster and server.mode != "cluster":
        raise ConfigError(
            f"--cluster given, but the server at {spec.address} is standalone (cluster_enabled:0);"
            " drop --cluster"
        )


class ServerSource(PollSource, Protocol):
    """A PollSource on a server: a Collector (standalone) or a ClusterCollector, told apart by
    no caller. `poll()` always has a snapshot (or raises connection trouble)."""

    server: ServerInfo

    async def poll(self) -> Snapshot: ...

    @property
    def explicit(self) -> tuple[bytes, ...]:
        """The keys named by the user (not patterns)."""
        ...

    def node_client(self, node: str | None) -> AsyncClient | None:
        """The raw client that polls `node` (a StreamInfo's node; None on a standalone server),
        for a command of the caller's own in the same place; None when there is none now."""
        ...


def make_collector(
    spec: ConnectionSpec,
    client: AsyncClient,
    server: ServerInfo,
    targets: Sequence[str | bytes] = (),
    options: PollOptions = POLL_DEFAULTS,
) -> ServerSource:
    """A Collector on `client` (raw), or a ClusterCollector with its own per-node clients
    (`aclose()` closes those), polling as `options` say."""
    check_mode(spec, server)
    if server.mode == "cluster":
        return ClusterCollector(spec, server, targets, options)
    return Collector(client, server, targets, options)


async def close_collector(collector: PollSource) -> None:
    """Close what the collector opened (a cluster's node clients; a Collector borrows its client)."""
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
    client = ActionCluster(**kw, require_full_coverage=False)
    client.node_spec = spec
    strip_callbacks(client)
    return client


REPLAYS = 3  # nodes a transaction refused with ASK or MOVED is sent to, one after the other


class ActionCluster(aioredis.RedisCluster):
    """redis-py's cluster client, whose transactions also follow ASK: redis-py takes an ASK in a
    MULTI for a MOVED and ends up refused, so an ack or a trim of a key already moved to the node
    importing its slot failed half-way through a reshard. Here such a transaction is sent to that
    node after ASKING (nothing ran on the first: an ASK aborts the MULTI at queue time)."""

    node_spec: ConnectionSpec | None = None
    _node_clients: dict[str, AsyncClient]

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> Any:
        pipe = super().pipeline(transaction=transaction, shard_hint=shard_hint)
        return AskingTransaction(self, pipe) if transaction else pipe

    def node_client(self, exc: AskError) -> AsyncClient:
        """A raw client of the node an ASK names (kept until the cluster client is closed)."""
        assert self.node_spec is not None
        host = exc.host or self.node_spec.host
        address = host_port(host, exc.port)
        clients = self.__dict__.setdefault("_node_clients", {})
        if address not in clients:
            spec = replace(self.node_spec, host=host, port=exc.port, db=0, cluster=False)
            clients[address] = spec.make_client(raw=True)
        return clients[address]

    async def aclose(self) -> None:
        for client in self.__dict__.pop("_node_clients", {}).values():
            await client.aclose()
        await super().aclose()


class AskingTransaction:
    """A cluster transaction (MULTI/EXEC) that moves to the importing node when EXEC's reply is
    an ASK: the queued commands are sent there after ASKING, in one round trip. With WATCH it
    does not move: an ASK there means a key of the transaction is not on the node that has the
    others (a new dead-letter stream goes to the importing node, the stream stays until it is
    moved), which no node can run as one until the reshard is done: that is the error raised."""

    def __init__(self, cluster: ActionCluster, pipe: Any) -> None:
        self._cluster = cluster
        self._pipe = pipe
        self._queued: list[tuple[Any, ...]] = []
        self._watching = False

    async def __aenter__(self) -> AskingTransaction:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.reset()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipe, name)

    async def reset(self) -> None:
        self._queued.clear()
        self._watching = False
        await self._pipe.reset()

    async def watch(self, *names: Any) -> Any:
        try:
            result = await self._pipe.watch(*names)
        except AskError as exc:  # or MOVED: redis-py's retries go back and forth, ending on either
            raise TryAgainError(
                f"slot {exc.slot_id} is being migrated to {host_port(exc.host, exc.port)} and"
                " the keys of this change are not all on one node yet: retry once the reshard"
                " is done (nothing was changed)"
            ) from None
        self._watching = True
        return result

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        if not self._watching:  # what a replay would send (never one after a WATCH)
            self._queued.append(args)
        return self._pipe.execute_command(*args, **kwargs)

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        try:
            return list(await self._pipe.execute(raise_on_error=raise_on_error))
        except AskError as exc:  # MovedError too: redis-py's retries may end on either
            if self._watching:
                raise
            queued, redirect = list(self._queued), exc
            await self.reset()
        for _ in range(REPLAYS):
            # ASKING is harmless on the slot's owner, and lets the importing node take it
            client = self._cluster.node_client(redirect)
            replies = await execute_raw(client, [("ASKING",), ("MULTI",), *queued, ("EXEC",)])
            result = replies[-1]
            if isinstance(result, Exception):  # aborted at queue time: nothing ran
                refused = next((r for r in replies[2:-1] if isinstance(r, Exception)), result)
                if isinstance(refused, AskError):
                    redirect = refused
                    continue
                raise refused from None
            if result is None:
                raise WatchError("Watched variable changed.") from None
            if raise_on_error:
                failed = next((r for r in result if isinstance(r, Exception)), None)
                if failed is not None:
                    raise failed from None
            return list(result)
        raise redirect
