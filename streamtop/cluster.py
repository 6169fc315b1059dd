"""Redis Cluster: one Collector per primary, polled concurrently, merged into one Snapshot.

Each primary only holds the keys of its slots, so discovery (SCAN TYPE stream) and the poll
pipeline run per node, all nodes at once: a poll costs one round trip per node, in parallel, not
one per stream. A node that stops answering keeps its last streams on screen marked stale, with its
address, and is retried with backoff while the others stay live. MOVED/ASK replies mean the
cluster resharded: the topology is read again and every node rediscovers its keys.

Each node's poll is its own task with its own deadline: `poll()` waits for the nodes at most
`node_wait` seconds, and a node still in flight then is left running and reported next time, so a
hung node (SIGSTOP, a full event loop) never holds the others back. Once a node's poll has gone
unanswered for `answer_timeout` (the hung-server rule: max(2 x interval, 2 s)) the node is "not
answering for N s", its streams are stale, and the topology is read again from the other nodes
(a replica may have taken over) without waiting for the socket timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from redis.crc import key_slot

from .collector import Collector, is_pattern, to_bytes
from .connection import AsyncClient, ConnectionSpec, describe_error, host_port, retry_delay
from .model import Discovery, Focus, NodeStatus, PollCost, ServerInfo, Snapshot, StreamInfo
from .options import POLL_DEFAULTS, PollOptions

SLOTS = 16384
NODE_WAIT = 0.5  # seconds poll() waits for a slow node before returning without it
TOPOLOGY_TIMEOUT = 1.0  # seconds one node may take to answer CLUSTER SLOTS


class ClusterError(RuntimeError):
    """The cluster cannot be used at all (no node answers, or it is not a cluster)."""


@dataclass(frozen=True, slots=True)
class Topology:
    """Primaries by address, with the slot ranges each serves."""

    primaries: dict[str, tuple[tuple[int, int], ...]]

    @property
    def uncovered(self) -> int:
        return SLOTS - sum(e - s + 1 for ranges in self.primaries.values() for s, e in ranges)

    def uncovered_ranges(self) -> tuple[tuple[int, int], ...]:
        """The slot ranges no primary serves (a key there answers CLUSTERDOWN)."""
        served = sorted(r for ranges in self.primaries.values() for r in ranges)
        gaps: list[tuple[int, int]] = []
        nxt = 0
        for s, e in served:
            if s > nxt:
                gaps.append((nxt, s - 1))
            nxt = max(nxt, e + 1)
        if nxt < SLOTS:
            gaps.append((nxt, SLOTS - 1))
        return tuple(gaps)

    def owner(self, key: bytes) -> str | None:
        slot = key_slot(key)
        for address, ranges in self.primaries.items():
            if any(s <= slot <= e for s, e in ranges):
                return address
        return None


def parse_cluster_slots(reply: Any, seed_host: str) -> Topology:
    """CLUSTER SLOTS: [[start, end, [host, port, id, ...], replicas...], ...] (any version)."""
    primaries: dict[str, list[tuple[int, int]]] = {}
    for row in reply or ():
        if not isinstance(row, list | tuple) or len(row) < 3:
            continue
        host = row[2][0].decode() if isinstance(row[2][0], bytes) else str(row[2][0])
        address = host_port(host or seed_host, int(row[2][1]))  # [::1]:7000 for IPv6
        primaries.setdefault(address, []).append((int(row[0]), int(row[1])))
    return Topology({a: tuple(sorted(r)) for a, r in primaries.items()})


@dataclass
class _Node:
    address: str
    client: AsyncClient
    collector: Collector
    last: tuple[StreamInfo, ...] = ()
    error: str | None = None
    stale_since: float | None = None
    retry_at: float = 0.0
    failures: int = 0
    task: asyncio.Task[Snapshot | None] | None = None  # its poll in flight, if any
    sent_at: float = 0.0  # time.monotonic() when that poll was sent
    not_answering_for: float | None = None  # seconds its poll in flight has gone unanswered
    # the node's stream as its collector made it -> the same with the node's address: a stream the
    # collector carried (issue 17) stays the same object here too, so nothing above redoes it
    tagged: dict[bytes, tuple[StreamInfo, StreamInfo]] = field(default_factory=dict)


@dataclass
class ClusterCollector:
    """The Collector interface (poll, focus, request_discovery) over every primary."""

    spec: ConnectionSpec
    server: ServerInfo
    targets: Sequence[str | bytes] = ()
    options: PollOptions = POLL_DEFAULTS  # every node's collector polls with these
    focus: Focus | None = None
    topology: Topology | None = None
    nodes: dict[str, _Node] = field(default_factory=dict)
    total_round_trips: int = 0
    answer_timeout: float = 2.0  # a node's poll in flight this long: the node is "not answering"
    node_wait: float = NODE_WAIT  # poll() returns after this long without the slower nodes
    # issue 17, handed to every node's collector: each node keeps its own server budget
    follow_screen: bool = False
    visible: frozenset[bytes] = frozenset()
    everything_visible: bool = False
    interval: float = 1.0

    def __post_init__(self) -> None:
        raw = [to_bytes(t) for t in self.targets] or [b"*"]
        self._patterns = [t for t in raw if is_pattern(t)]
        self._explicit = [t for t in raw if not is_pattern(t)]
        self._refresh = True
        self._topology_retry_at = 0.0  # a node is down: read the slots again then (failover)

    def request_discovery(self) -> None:
        self._refresh = True

    @property
    def explicit(self) -> tuple[bytes, ...]:
        """Keys named by the user (not patterns), as Collector.explicit."""
        return tuple(self._explicit)

    def _node_spec(self, address: str) -> ConnectionSpec:
        host, _, port = address.rpartition(":")
        return replace(self.spec, host=host.strip("[]"), port=int(port), db=0, cluster=False)

    def _share(self, keys: tuple[bytes, ...]) -> tuple[bytes, ...]:
        """A node's part of --max-streams, a total for the cluster: of the keys every node found,
        the first max_streams in key order (as shown), so no node polls streams that are cut."""
        found = sorted(k for n in self.nodes.values() for k in n.collector.discovery.keys)
        limit = self.options.max_streams
        if len(found) <= limit:
            return keys
        last = found[limit - 1]
        return tuple(k for k in keys if k <= last)

    async def _read_topology(self) -> Topology:
        """Ask the known nodes (then the seed) for CLUSTER SLOTS; the first answer wins."""
        errors: list[BaseException] = []
        healthy = sorted(self.nodes.values(), key=lambda n: (n.error is not None, n.task is not None))
        candidates = [n.client for n in healthy]
        seed = None
        if not candidates:
            seed = self.spec.make_client(raw=True)
            candidates = [seed]
        try:
            for client in candidates:
                try:
                    # a hung node must not hold up the read: each gets TOPOLOGY_TIMEOUT
                    reply = await asyncio.wait_for(
                        client.execute_command("CLUSTER", "SLOTS"), TOPOLOGY_TIMEOUT
                    )
                    self.total_round_trips += 1
                    return parse_cluster_slots(reply, self.spec.host)
                except Exception as exc:  # try the next node
                    errors.append(exc)
        finally:
            if seed is not None:
                await seed.aclose()
        raise ClusterError(describe_error(errors[-1], self.spec) if errors else "no cluster node")

    async def refresh_topology(self) -> None:
        topo = await self._read_topology()
        if topo == self.topology and not self._refresh:
            return  # read again while a node is down, and nothing moved: no rediscovery
        self.topology = topo
        for address in list(self.nodes):
            if address not in topo.primaries:
                await _drop(self.nodes.pop(address))
        for address in topo.primaries:
            node = self.nodes.get(address)
            if node is None:
                client = self._node_spec(address).make_client(raw=True)
                collector = Collector(client, self.server, options=self.options)
                collector.key_filter = self._share
                node = self.nodes[address] = _Node(address, client, collector)
            owned = tuple(k for k in self._explicit if topo.owner(k) == address)
            node.collector.patterns = tuple(self._patterns)
            node.collector.explicit = owned
            node.collector.request_discovery()
        self._refresh = False

    async def _poll_node(self, node: _Node, focus: Focus | None) -> Snapshot | None:
        if not node.collector.patterns and not node.collector.explicit:
            return None
        node.collector.focus = focus
        node.collector.follow_screen = self.follow_screen
        node.collector.visible = self.visible
        node.collector.everything_visible = self.everything_visible
        node.collector.interval = self.interval
        return await node.collector.poll()

    def _start_polls(self, focus: Focus | None) -> None:
        """A poll task for every node that has none in flight and is not waiting out a backoff."""
        assert self.topology is not None
        focus_owner = self.topology.owner(focus.key) if focus else None
        now = time.monotonic()
        for node in self.nodes.values():
            if node.task is None and node.retry_at <= now:
                node_focus = focus if node.address == focus_owner else None
                node.task = asyncio.ensure_future(self._poll_node(node, node_focus))
                node.sent_at = now

    def _node_failed(self, node: _Node, error: str, now: float) -> None:
        node.failures += 1
        node.error = error
        node.stale_since = node.stale_since or now
        node.retry_at = time.monotonic() + retry_delay(node.failures)

    async def poll(self) -> Snapshot:
        started = time.perf_counter()
        if self._refresh or self.topology is None:
            await self.refresh_topology()
        elif self._topology_retry_at and time.monotonic() >= self._topology_retry_at:
            # a replica may have taken over the slots of a node that stopped answering; when no
            # node answers CLUSTER SLOTS now, the last topology stays
            with contextlib.suppress(ClusterError):
                await self.refresh_topology()
        assert self.topology is not None
        now = time.time()
        self._start_polls(self.focus)
        in_flight = {n.task for n in self.nodes.values() if n.task is not None}
        if in_flight:  # each node has its own deadline: the slow ones are reported next time
            await asyncio.wait(in_flight, timeout=self.node_wait)
        trips = discovery_trips = 0
        focus_data = None
        costs: list[PollCost] = []
        moved = False
        for node in self.nodes.values():
            task = node.task
            if task is None:
                continue
            if not task.done():
                waited = time.monotonic() - node.sent_at
                if waited >= self.answer_timeout:
                    node.not_answering_for = waited
                    node.error = f"not answering for {int(waited)} s"
                    node.stale_since = node.stale_since or now
                continue
            node.task = None
            node.not_answering_for = None
            if task.cancelled():
                continue
            exc = task.exception()
            if exc is not None:
                self._node_failed(node, describe_error(exc, self._node_spec(node.address)), now)
                continue
            result = task.result()
            node.failures, node.error, node.stale_since, node.retry_at = 0, None, None, 0.0
            if result is None:
                node.last = ()
                continue
            trips += result.round_trips
            discovery_trips += result.discovery_round_trips
            if result.cost is not None:
                costs.append(result.cost)
            if result.focus is not None:
                focus_data = result.focus
            kept = []
            tagged: dict[bytes, tuple[StreamInfo, StreamInfo]] = {}
            for s in result.streams:
                if s.error and s.error.split(" ", 1)[0] in ("MOVED", "ASK"):
                    moved = True  # the key lives elsewhere now: its new owner will report it
                    continue
                before = node.tagged.get(s.key)
                shown = before[1] if before is not None and before[0] is s else replace(s, node=node.address)
                tagged[s.key] = (s, shown)
                kept.append(shown)
            node.last = tuple(kept)
            node.tagged = tagged
        if moved:
            self.request_discovery()
        failing = [n.retry_at for n in self.nodes.values() if n.error is not None and n.task is None]
        if any(n.not_answering_for is not None for n in self.nodes.values()):
            failing.append(time.monotonic())  # a hung primary: has a replica taken over?
        self._topology_retry_at = min(failing) if failing else 0.0
        streams: list[StreamInfo] = []
        statuses = []
        for address, node in self.nodes.items():
            stale = node.error is not None
            streams.extend(replace(s, stale=True) if stale else s for s in node.last)
            ranges = self.topology.primaries.get(address, ())
            statuses.append(
                NodeStatus(
                    address=address,
                    ok=not stale,
                    error=node.error,
                    streams=len(node.last),
                    slots=sum(e - s + 1 for s, e in ranges),
                    stale_since=node.stale_since,
                    not_answering_for=node.not_answering_for,
                    slot_ranges=ranges,
                )
            )
        streams.sort(key=lambda s: s.key)
        max_streams = self.options.max_streams
        capped = len(streams) > max_streams or any(n.collector.discovery.capped for n in self.nodes.values())
        streams = streams[:max_streams]
        self.total_round_trips += trips + discovery_trips
        return Snapshot(
            taken_at=time.time(),
            duration_ms=(time.perf_counter() - started) * 1000,
            round_trips=trips,
            discovery_round_trips=discovery_trips,
            server=replace(self.server, mode="cluster"),
            streams=tuple(streams),
            discovery=Discovery(
                patterns=tuple(p.decode("utf-8", "backslashreplace") for p in self._patterns),
                keys=tuple(s.key for s in streams),
                capped=capped,
                max_streams=max_streams,
                taken_at=now,
            ),
            focus=focus_data,
            nodes=tuple(statuses),
            uncovered=self.topology.uncovered_ranges(),
            cost=merge_costs(costs),
        )

    async def aclose(self) -> None:
        for node in self.nodes.values():
            await _drop(node)
        self.nodes.clear()


def merge_costs(costs: list[PollCost]) -> PollCost | None:
    """The nodes' poll costs as one: counts added, the oldest summary, the busiest node's load
    (each node is a server with its own budget) and the longest cadence."""
    if not costs:
        return None
    ages = [c.summary_age for c in costs if c.summary_age is not None]
    loads = [c.load for c in costs if c.load is not None]
    return PollCost(
        detailed=sum(c.detailed for c in costs),
        summarized=sum(c.summarized for c in costs),
        carried=sum(c.carried for c in costs),
        summary_age=max(ages) if ages else None,
        oldest_read=min((c.oldest_read for c in costs if c.oldest_read is not None), default=None),
        load=max(loads) if loads else None,
        budget=costs[0].budget,
        visible_period=max(c.visible_period for c in costs),
        summary_period=max(c.summary_period for c in costs),
        stretched=any(c.stretched for c in costs),
        met=all(c.met for c in costs),
        round_trip_load=any(c.round_trip_load for c in costs),
        predicted_load=max(c.predicted_load for c in costs),
    )


async def _drop(node: _Node) -> None:
    """Stop a node's poll in flight (it may be hung) and close its client."""
    if node.task is not None and not node.task.done():
        node.task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(node.task, 1.0)
    node.task = None
    with contextlib.suppress(Exception):
        await asyncio.wait_for(node.client.aclose(), 1.0)


__all__ = ["ClusterCollector", "ClusterError", "Topology"]
