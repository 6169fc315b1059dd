"""Redis Cluster: one Collector per primary, polled concurrently, merged into one Snapshot.

Each primary only holds the keys of its slots, so discovery (SCAN TYPE stream) and the poll
pipeline run per node, all nodes at once: a poll costs one round trip per node, in parallel, not
one per stream. A node that stops answering keeps its last streams on screen marked stale, with its
address, and is retried with backoff while the others stay live. MOVED/ASK replies mean the
cluster resharded: the topology is read again and every node rediscovers its keys.

Each node's poll is its own task with its own deadline: `poll()` waits for the nodes at most
`node_wait` seconds, and a node still in flight then is left running and reported next time, so a
hung node (SIGSTOP, a full event loop) never holds the others back. Once a node's poll has gone
unanswered for `answer_timeout` (the hung-server rule: max(2 x interval, 2 s)) AND a PING sent then
from a thread of its own (a blocking socket, so a client busy with its own CPU, whose event loop
reads replies late, does not starve it) has gone unanswered for `probe_timeout`, the node is "not
answering for N s", its streams are stale, and the topology is read again from the other nodes
(a replica may have taken over) without waiting for the socket timeout. A node that answers the
PING is slow to read, not down: it is not named (a loaded monitoring host called healthy nodes
down).

A reshard moves keys one at a time: while slot S migrates from A to B, some of its keys are on A,
some on B, and B answers MOVED for them unless the command follows ASKING. So the topology also
reads each primary's CLUSTER NODES (the slots it imports and exports), a node's commands on keys of
a slot it imports go after ASKING, a key named on the command line is asked of both nodes, and an
ASK or MOVED reply sends the key at once to the node it names (an extra collector there, for the
keys sent to it, until its own discovery finds them). A key is shown once, from the node that
answered for it; while it is on its way, its last values stay.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress
from operator import attrgetter, is_not

import redis
from redis.crc import key_slot

from streamtop.options import POLL_DEFAULTS, PollOptions
from streamtop.pipeline.collector import Collector, Execute, is_pattern, to_bytes
from streamtop.pipeline.connection import (
    AsyncClient,
    Command,
    ConnectionSpec,
    describe_error,
    execute_raw,
    host_port,
    retry_delay,
)
from streamtop.pipeline.model import (
    Discovery,
    Focus,
    FocusData,
    NodeStatus,
    PollCost,
    ServerInfo,
    Snapshot,
    StreamInfo,
)
from streamtop.pipeline.parse import Reply
from streamtop.pipeline.source import WaitHook, Wants

SLOTS = 16384
NODE_WAIT = 0.5  # seconds poll() waits for a slow node before returning without it
TOPOLOGY_TIMEOUT = 1.0  # seconds one node may take to answer CLUSTER SLOTS
TOPOLOGY_PERIOD = 5.0  # seconds between reads of the topology when nothing says it changed
CARRY_FOR = 30.0  # seconds a key on its way to another node keeps its last values at most
FIRST_WAIT = 0.75  # of answer_timeout: how long the first poll waits for the slower nodes
PROBE_TIMEOUT = 0.5  # seconds the PING of a node whose poll is late may take (at most half the rule)
REDIRECTS = ("MOVED", "ASK")
KEYLESS = frozenset({b"INFO", b"TIME", b"SCAN", b"PING", b"ASKING", b"CLUSTER"})


class ClusterError(RuntimeError):
    """The cluster cannot be used at all (no node answers, or it is not a cluster)."""


@dataclass(frozen=True, slots=True)
class Topology:
    """Primaries by address, with the slot ranges each serves."""

    primaries: dict[str, tuple[tuple[int, int], ...]]
    importing: dict[str, frozenset[int]] = field(default_factory=dict)  # address -> slots it imports
    migrating: dict[int, str] = field(default_factory=dict)  # slot -> the address importing it

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

    def holders(self, key: bytes) -> tuple[str, ...]:
        """The nodes that may hold `key`: its slot's owner, and the node importing the slot
        while it migrates (the key moves between them at any moment)."""
        owner = self.owner(key)
        importer = self.migrating.get(key_slot(key))
        return tuple(a for a in dict.fromkeys((owner, importer)) if a is not None)


def parse_cluster_nodes(reply: object, seed_host: str) -> tuple[frozenset[int], dict[int, str]]:
    """The `myself` line of CLUSTER NODES: the slots this node imports, and those it exports with
    the address importing each ([slot-<-id], [slot->-id]). Only a node itself shows these."""
    text = reply.decode() if isinstance(reply, bytes) else str(reply or "")
    rows = [line.split() for line in text.splitlines() if line.strip()]
    addresses: dict[str, str] = {}
    for row in rows:
        if len(row) > 1:
            hostport = row[1].split("@", 1)[0].split(",", 1)[0]
            host, _, port = hostport.rpartition(":")
            if port.isdigit():
                addresses[row[0]] = host_port(host.strip("[]") or seed_host, int(port))
    importing: set[int] = set()
    migrating: dict[int, str] = {}
    for row in rows:
        if len(row) < 3 or "myself" not in row[2].split(","):
            continue
        for token in row[8:]:
            if not token.startswith("["):
                continue
            body = token.strip("[]")
            if "->-" in body:
                slot, _, node_id = body.partition("->-")
                if slot.isdigit() and node_id in addresses:
                    migrating[int(slot)] = addresses[node_id]
            elif "-<-" in body:
                slot, _, _ = body.partition("-<-")
                if slot.isdigit():
                    importing.add(int(slot))
    return frozenset(importing), migrating


def command_key(args: Command) -> bytes | None:
    """The key a collector's command reads (XINFO's is its third word), None for INFO, TIME."""
    if not args:
        return None
    name = to_bytes(args[0]).upper() if isinstance(args[0], str | bytes) else b""
    if name in KEYLESS:
        return None
    at = 2 if name == b"XINFO" else 1
    key = args[at] if len(args) > at else None
    return to_bytes(key) if isinstance(key, str | bytes) else None


def asking_execute(slots: set[int]) -> Execute:
    """execute_raw that sends ASKING before each command on a key of `slots` (the slots the node
    imports), in the same round trip, and hands back the replies as if it had not."""

    async def execute(client: AsyncClient, commands: Sequence[Command], timeout: float | None) -> list[Reply]:
        if not slots:
            return await execute_raw(client, commands, timeout)
        sent: list[Command] = []
        keep: list[int] = []
        for args in commands:
            key = command_key(args)
            if key is not None and key_slot(key) in slots:
                sent.append(("ASKING",))
            keep.append(len(sent))
            sent.append(args)
        if len(sent) == len(commands):
            return await execute_raw(client, commands, timeout)
        replies = await execute_raw(client, sent, timeout)
        return [replies[i] for i in keep]

    return execute


def redirect_target(error: str) -> tuple[str, int, str] | None:
    """("ASK" or "MOVED", slot, address) of a redirect reply, else None."""
    words = error.split()
    if len(words) >= 3 and words[0] in REDIRECTS and words[1].isdigit() and ":" in words[2]:
        host, _, port = words[2].rpartition(":")
        if port.isdigit():
            return words[0], int(words[1]), host_port(host.strip("[]"), int(port))
    return None


def merge_ranges(slots: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(slots):
        if out and s <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return tuple(out)


def _rank(s: StreamInfo) -> int:
    """Which of two rows of one key is shown: data before a stale copy before an error before
    'no such key' (the node a key is leaving, or not yet on, says that)."""
    if s.error is None:
        return 1 if s.stale else 0
    return 3 if s.error == "no such key" else 2


def parse_cluster_slots(reply: Reply, seed_host: str) -> Topology:
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
    task: asyncio.Task[tuple[Snapshot | None, Snapshot | None]] | None = None  # its poll in flight
    sent_at: float = 0.0  # time.monotonic() when that poll was sent
    not_answering_for: float | None = None  # seconds its poll in flight has gone unanswered
    # the node's stream as its collector made it -> the same with the node's address: a stream the
    # collector carried (issue 17) stays the same object here too, so nothing above redoes it
    tagged: dict[bytes, tuple[StreamInfo, StreamInfo]] = field(default_factory=dict)
    asking: set[int] = field(default_factory=set)  # slots it imports: ASKING before their keys
    # keys another node's ASK or MOVED sent here, not yet found by this node's own discovery,
    # polled by a collector of their own (on the same client) until it does
    redirected: dict[bytes, float] = field(default_factory=dict)
    redirect: Collector | None = None
    redirect_tagged: dict[bytes, tuple[StreamInfo, StreamInfo]] = field(default_factory=dict)
    reported: bool = False  # its first poll has come back
    probe: asyncio.Future[bool] | None = None  # a PING from a thread, once its poll is late
    probe_after: float = 0.0  # time.monotonic() before which no new probe is sent (it answered)
    known: frozenset[bytes] = frozenset()  # the keys of its collector's last complete discovery
    # its own collector's last streams and the rows taken from them, when every one was a row (no
    # error, no redirect): the next poll's are taken from the streams that changed only (_take_own)
    own_streams: tuple[StreamInfo, ...] = ()
    own_rows: list[StreamInfo] | None = None
    discovered_at: float = 0.0  # that discovery's taken_at

    def follow(self, keys: Iterable[bytes], server: ServerInfo, options: PollOptions) -> None:
        """Poll `keys` here with the redirect collector (ASKING before the slots it imports) until
        this node's own discovery finds them (the list sorted once, however many keys)."""
        mono = time.monotonic()
        self.redirected.update(dict.fromkeys(keys, mono))
        if self.redirect is None:
            self.redirect = Collector(self.client, server, [b"-"], options)
            self.redirect.node = self.address
            self.redirect.execute = asking_execute(self.asking)
        self.redirect.explicit = tuple(sorted(self.redirected))
        self.redirect.request_discovery()


@dataclass
class _Gathered:
    """What one cluster poll took from its nodes' snapshots."""

    rows: list[StreamInfo] = field(default_factory=list)
    trips: int = 0
    discovery_trips: int = 0
    costs: list[PollCost] = field(default_factory=list)
    focus: FocusData | None = None
    redirected: dict[bytes, str] = field(default_factory=dict)  # key -> the ASK/MOVED reply
    lost: dict[str, set[bytes]] = field(default_factory=dict)  # node -> keys its redirect collector lost
    dropped: set[bytes] = field(default_factory=set)  # keys a node's new discovery no longer lists

    def add(self, result: Snapshot) -> None:
        self.trips += result.round_trips
        self.discovery_trips += result.discovery_round_trips
        if result.cost is not None:
            self.costs.append(result.cost)
        if result.focus is not None:
            self.focus = result.focus


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
        self._topology_due = False  # a redirect or CLUSTERDOWN: read the topology on the next poll
        self._topology_read_at = 0.0  # time.monotonic() of the last read
        # keys on their way to another node: their last row, since (monotonic, epoch seconds)
        self._carried: dict[bytes, tuple[StreamInfo, float, float]] = {}
        self._refused: dict[str, set[int]] = {}  # address -> slots answered CLUSTERDOWN last poll
        self._shown: dict[bytes, StreamInfo] = {}  # the last poll's rows, by key (what is carried)
        self._sent_to: dict[bytes, set[str]] = {}  # this poll: redirected key -> the nodes it went to
        # the first scan's keys by node, until every node's first poll has come back (_missed)
        self._first_keys: dict[str, frozenset[bytes]] = {}

    def request_discovery(self) -> None:
        self._refresh = True

    def want(self, wants: Wants, on_wait: WaitHook | None = None) -> None:
        """What the next poll must read (streamtop.pipeline.source.PollSource), handed to every node's
        collector; the nodes' round trips overlap, so `on_wait` is not told of them."""
        self.focus = wants.focus
        self.follow_screen = wants.follow_screen
        self.visible = wants.visible
        self.everything_visible = wants.everything_visible
        self.interval = wants.interval
        self.answer_timeout = wants.answer_timeout  # each node's own deadline
        if wants.one_shot:  # no next poll to report a hung node in: wait it out, then say so
            self.node_wait = self.answer_timeout + 0.1

    def node_client(self, node: str | None) -> AsyncClient | None:
        """The client that polls `node` (None: no such node now)."""
        found = self.nodes.get(node) if node is not None else None
        return found.client if found is not None else None

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
        limit = self.options.max_streams
        if sum(len(n.collector.discovery.keys) for n in self.nodes.values()) <= limit:
            return keys  # (the usual case: no set of every key sorted for each node's poll)
        found = sorted({k for n in self.nodes.values() for k in n.collector.discovery.keys})
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

    async def _read_migrations(self, topo: Topology) -> Topology:
        """Each answering primary's own CLUSTER NODES line: the slots it imports and exports (only
        the node itself says). A node that is down or hung is not asked (it would hold the read up)."""

        async def one(node: _Node) -> tuple[str, Reply]:
            try:
                reply = await asyncio.wait_for(
                    node.client.execute_command("CLUSTER", "NODES"), TOPOLOGY_TIMEOUT
                )
                return node.address, reply
            except Exception:
                return node.address, None

        mono = time.monotonic()
        asked = [
            n
            for n in self.nodes.values()
            if n.error is None
            and n.not_answering_for is None
            and (n.task is None or mono - n.sent_at < self.node_wait)  # late now: maybe hung
        ]
        importing: dict[str, frozenset[int]] = {}
        migrating: dict[int, str] = {}
        before = self.topology
        replies = await asyncio.gather(*(one(n) for n in asked))
        answered = {address for address, reply in replies if reply is not None}
        if before is not None:  # a node not asked (or silent) keeps what it said last time
            for address in set(topo.primaries) - answered:
                if address in before.importing:
                    importing[address] = before.importing[address]
                ranges = topo.primaries[address]
                migrating.update(
                    (slot, to)
                    for slot, to in before.migrating.items()
                    if any(a <= slot <= b for a, b in ranges)
                )
        for address, reply in replies:
            if reply is None:
                continue
            self.total_round_trips += 1
            imports, exports = parse_cluster_nodes(reply, self.spec.host)
            if imports:
                importing[address] = imports
            migrating.update(exports)
        return replace(topo, importing=importing, migrating=migrating)

    async def refresh_topology(self) -> None:
        slots = await self._read_topology()
        self._topology_due = False
        self._topology_read_at = time.monotonic()
        for address in list(self.nodes):
            if address not in slots.primaries:
                await _drop(self.nodes.pop(address))
        for address in slots.primaries:
            if address not in self.nodes:
                client = self._node_spec(address).make_client(raw=True)
                collector = Collector(client, self.server, options=self.options)
                collector.node = address
                collector.key_filter = self._share
                # each node's first scan to its end: a promoted replica's first part alone dropped
                # the old primary's other rows under a LIVE badge (bench/cluster_scale.py)
                collector.progressive_scan = False
                # each node's poll in one round trip, as measured (docs/scale.md). The parts of
                # READ_CHUNK were once blamed for a node "not answering" at 30,000 streams: the
                # cause was the event loop blocked by _missed (fixed), the parts were not re-measured
                collector.chunked = False
                node = self.nodes[address] = _Node(address, client, collector)
                collector.execute = asking_execute(node.asking)
        topo = await self._read_migrations(slots)
        changed = topo != self.topology
        before = self.topology
        self.topology = topo
        if not changed and not self._refresh:
            return  # read again while a node is down, and nothing moved: no rediscovery
        for address, node in self.nodes.items():
            node.asking.clear()
            node.asking.update(topo.importing.get(address, ()))
            owned = tuple(k for k in self._explicit if address in topo.holders(k))
            moved_keys = owned != node.collector.explicit
            node.collector.patterns = tuple(self._patterns)
            node.collector.explicit = owned
            # a reshard rediscovers where keys come or go; a new node, or a full request, everywhere
            ranges_before = before.primaries.get(address) if before is not None else None
            if self._refresh or moved_keys or ranges_before != topo.primaries.get(address):
                node.collector.request_discovery()
        self._refresh = False

    async def _poll_node(
        self, node: _Node, focus: Focus | None, redirect_focus: bool
    ) -> tuple[Snapshot | None, Snapshot | None]:
        """The node's own keys and, on the same client at once, the keys redirected to it."""
        main = node.collector
        polls: list[Awaitable[Snapshot]] = []
        if main.patterns or main.explicit:
            self._configure(main, None if redirect_focus else focus)
            polls.append(main.poll())
        extra = node.redirect if node.redirected else None
        if extra is not None:
            self._configure(extra, focus if redirect_focus else None)
            polls.append(extra.poll())
        results = await asyncio.gather(*polls)
        first = results[0] if polls and (main.patterns or main.explicit) else None
        second = results[-1] if extra is not None else None
        return first, second

    def _configure(self, collector: Collector, focus: Focus | None) -> None:
        collector.focus = focus
        collector.follow_screen = self.follow_screen
        collector.visible = self.visible
        collector.everything_visible = self.everything_visible
        collector.interval = self.interval

    def _focus_node(self, focus: Focus | None) -> tuple[str | None, bool]:
        """The node that last answered for the focused key (a reshard may have moved it), else
        its slot's owner."""
        if focus is None:
            return None, False
        shown = self._shown.get(focus.key)
        node = self.nodes.get(shown.node or "") if shown is not None else None
        if node is not None:  # via its redirect collector while its own discovery lacks the key
            return node.address, focus.key in node.redirected and focus.key not in node.known
        assert self.topology is not None
        return self.topology.owner(focus.key), False

    def _start_polls(self, focus: Focus | None) -> None:
        """A poll task for every node that has none in flight and is not waiting out a backoff."""
        assert self.topology is not None
        focus_owner, via_redirect = self._focus_node(focus)
        now = time.monotonic()
        for node in self.nodes.values():
            if node.task is None and node.retry_at <= now:
                node_focus = focus if node.address == focus_owner else None
                node.task = asyncio.ensure_future(self._poll_node(node, node_focus, via_redirect))
                node.sent_at = now

    def _silent(self, node: _Node) -> bool:
        """Its poll is late: has the node also left a PING unanswered? The PING goes from a thread
        on a socket of its own, so this client's busy event loop cannot make it late. False while
        the probe is out, and for an answer_timeout after one that answered."""
        if node.not_answering_for is not None:
            return True  # said so already: until its poll comes back
        mono = time.monotonic()
        if node.probe is None:
            if mono < node.probe_after:
                return False
            timeout = min(PROBE_TIMEOUT, max(0.1, self.answer_timeout / 2))
            node.probe = asyncio.ensure_future(asyncio.to_thread(self._ping, node.address, timeout))
            return False
        if not node.probe.done():
            return False
        answered = not node.probe.cancelled() and node.probe.exception() is None and node.probe.result()
        node.probe = None
        if answered:
            node.probe_after = mono + self.answer_timeout
            return False
        return True

    def _ping(self, address: str, timeout: float) -> bool:
        """PING on a fresh blocking connection, within `timeout` seconds (run in a thread)."""
        kw = self._node_spec(address).client_kwargs(timeout)
        kw["retry"] = None
        kw["socket_connect_timeout"] = timeout
        client = redis.Redis(**kw)
        try:
            return bool(client.ping())
        except Exception:
            return False
        finally:
            client.close()

    def _node_failed(self, node: _Node, error: str, now: float) -> None:
        node.failures += 1
        node.error = error
        node.stale_since = node.stale_since or now
        node.retry_at = time.monotonic() + retry_delay(node.failures)

    def _redirect(self, key: bytes, error: str, source: _Node) -> set[str]:
        """Send a key `source` answered ASK or MOVED for to the node that has it: the one an ASK
        names (after ASKING), the one a MOVED names and, when the source's own discovery listed
        the key, the source itself after ASKING too (it may import the slot, which the topology
        read did not know yet; or the list is older than the move: the one without the key lets
        it go). It is polled there by a collector of its own until that node's discovery finds
        it. Returns those nodes' addresses (none known yet: the topology is read again)."""
        target = redirect_target(error)
        self._topology_due = True
        if target is None:
            return set()
        kind, slot, address = target
        if key not in self._explicit:
            source.collector.request_discovery()  # it may hold the key no more
        dests = [(address, kind == "ASK")]
        if kind == "MOVED" and key in source.collector.discovery.keys:
            dests.append((source.address, True))
        sent: set[str] = set()
        for where, asking in dests:
            node = self.nodes.get(where)
            if node is None:
                continue
            if asking:
                node.asking.add(slot)
            node.follow((key,), self.server, self.options)
            if node is not source:
                node.collector.request_discovery()  # its own SCAN finds the key, and takes it over
            sent.add(where)
        return sent

    def _settle_redirects(self, lost: dict[str, set[bytes]]) -> None:
        """A key the node's own collector answered for is its own collector's again; a key the
        redirect collector found missing (deleted, or gone on again) is let go."""
        for address, node in self.nodes.items():
            if not node.redirected:
                continue
            handled = {k for k in node.redirected if k in node.tagged and node.tagged[k][0].error is None}
            gone = (handled | lost.get(address, set())) & set(node.redirected)
            if not gone:
                continue
            for key in gone:
                node.redirected.pop(key, None)
            if node.redirect is not None:
                node.redirect.explicit = tuple(sorted(node.redirected))
                node.redirect.request_discovery()

    def _take(
        self, node: _Node, result: Snapshot, tagged_before: dict[bytes, tuple[StreamInfo, StreamInfo]]
    ) -> tuple[list[StreamInfo], dict[bytes, tuple[StreamInfo, StreamInfo]], dict[bytes, str]]:
        """The node's rows tagged with its address (the same object as before when the collector
        carried it), and the keys it redirected elsewhere."""
        kept: list[StreamInfo] = []
        tagged: dict[bytes, tuple[StreamInfo, StreamInfo]] = {}
        redirects: dict[bytes, str] = {}
        for s in result.streams:
            if s.error and s.error.split(" ", 1)[0] in REDIRECTS:
                redirects[s.key] = s.error  # the key lives elsewhere (now, or for good)
                continue
            if s.error and s.error.startswith("CLUSTERDOWN"):
                self._note_refused(node, s)
            before = tagged_before.get(s.key)
            if before is not None and before[0] is s:
                shown = before[1]
            else:
                shown = s if s.node == node.address else replace(s, node=node.address)
            tagged[s.key] = (s, shown)
            kept.append(shown)
        return kept, tagged, redirects

    def _take_own(
        self, node: _Node, result: Snapshot
    ) -> tuple[list[StreamInfo], dict[bytes, tuple[StreamInfo, StreamInfo]], dict[bytes, str]]:
        """_take of the node's own collector's snapshot. A stream it carried is the very object
        at the same place as last time (issue 17): when the keys are the same and no row then or
        now is an error (a redirect, CLUSTERDOWN), only the streams that changed, found in C, are
        tagged again (10,000 streams a node, a few hundred read a poll)."""
        streams, before = result.streams, node.own_streams
        rows = node.own_rows
        if rows is not None and len(streams) == len(before):
            changed = list(compress(range(len(streams)), map(is_not, streams, before)))
            if all(streams[i].error is None and streams[i].key == before[i].key for i in changed):
                rows = list(rows)
                tagged = node.tagged
                for i in changed:
                    s = streams[i]
                    shown = s if s.node == node.address else replace(s, node=node.address)
                    tagged[s.key] = (s, shown)
                    rows[i] = shown
                node.own_streams, node.own_rows = streams, rows
                return rows, tagged, {}
        kept, tagged, moved = self._take(node, result, node.tagged)
        whole = not moved and len(kept) == len(streams) and all(s.error is None for s in kept)
        node.own_streams, node.own_rows = (streams, kept) if whole else ((), None)
        return kept, tagged, moved

    def _note_refused(self, node: _Node, s: StreamInfo) -> None:
        """CLUSTERDOWN: its slot is served by no one ("Hash slot not served"), or the node
        refuses every key (the cluster is down from where it stands): all of its slots."""
        refused = self._refused.setdefault(node.address, set())
        if "not served" in (s.error or ""):
            refused.add(key_slot(s.key))
        elif self.topology is not None:
            for a, b in self.topology.primaries.get(node.address, ()):
                refused.update(range(a, b + 1))
        self._topology_due = True

    async def _follow_now(
        self, redirected: dict[bytes, str], rows: list[StreamInfo], lost: dict[str, set[bytes]]
    ) -> None:
        """The keys redirected this poll that no node reported, read at once from the nodes they
        were sent to (their redirect collectors, a round trip or two; a key sent on again, once
        more), so that a one-shot `status` and a first screen show them. A node still busy, or
        slow, leaves them to the next poll."""
        pending = dict(redirected)
        for _ in range(2):
            found = {s.key for s in rows if s.error is None}
            wanted = {a for k in pending if k not in found for a in self._sent_to.get(k, ())}
            nodes = [
                self.nodes[a]
                for a in wanted
                if a in self.nodes and self.nodes[a].task is None and self.nodes[a].redirect is not None
            ]
            if not nodes:
                return

            async def one(node: _Node) -> tuple[_Node, list[StreamInfo], dict[bytes, str]]:
                assert node.redirect is not None
                self._configure(node.redirect, None)
                snap = await node.redirect.poll()
                got, node.redirect_tagged, moved = self._take(node, snap, node.redirect_tagged)
                return node, got, moved

            done, slow = await asyncio.wait(
                [asyncio.ensure_future(one(n)) for n in nodes], timeout=self.node_wait
            )
            for task in slow:
                task.cancel()
            pending = {}
            for task in done:
                if task.cancelled() or task.exception() is not None:
                    continue
                node, got, moved = task.result()
                rows.extend(got)
                lost.setdefault(node.address, set()).update(s.key for s in got if s.error is not None)
                for key, error in moved.items():
                    lost.setdefault(node.address, set()).add(key)
                    self._sent_to[key] = self._redirect(key, error, node)
                    pending[key] = error

    async def _first_scan(self) -> None:
        """Before the first poll, every node scans once more than it will in the poll: a key that
        moves between two nodes' SCANs (a reshard going on) is missed by both, and a one-shot
        `status` has no later poll to find it in. Every key is found in one of the two rounds
        (the second starts once the first has ended everywhere). What each node found is kept
        for `_missed`, which looks for it once every node's poll has come back."""
        fresh = [
            n for n in self.nodes.values() if n.collector.patterns and not n.collector.discovery.taken_at
        ]
        if not fresh or len(fresh) != len(self.nodes):
            return
        done = await asyncio.gather(*(n.collector.discover() for n in fresh), return_exceptions=True)
        for node, trips in zip(fresh, done, strict=True):
            if isinstance(trips, BaseException):
                continue  # its poll says why
            self._first_keys[node.address] = frozenset(node.collector.discovery.keys)
            node.collector.request_discovery()

    def _missed(self, rows: list[StreamInfo]) -> dict[bytes, str]:
        """Keys the first round found that no node reported: they moved in between. Each is asked
        of every node, after ASKING (harmless on its owner, needed on the node importing it).

        Only once every node's first poll has come back (a node whose poll is late has not
        reported its keys yet: at 30,000 streams, all of them; they are not missed, and asking
        every node for each cost minutes). A node that failed, or left the topology, first is
        not looked at: its keys cannot be told missing (its error, or its successor, says it)."""
        scanned: set[bytes] = set()
        for address, keys in self._first_keys.items():
            node = self.nodes.get(address)
            if node is None or node.error is not None:
                continue
            if not node.reported:
                return {}  # asked again next poll
            scanned |= keys
        self._first_keys = {}
        missed = sorted(scanned.difference(s.key for s in rows))
        if not missed:
            return {}
        slots = {key_slot(key) for key in missed}
        for node in self.nodes.values():
            node.asking.update(slots)
            node.follow(missed, self.server, self.options)
        everywhere = set(self.nodes)
        self._sent_to.update((key, set(everywhere)) for key in missed)
        return dict.fromkeys(missed, "")

    async def poll(self) -> Snapshot:
        """Topology (when due) -> every idle node's poll started -> wait for them (the slow ones are
        reported next time) -> each node's result taken -> redirected keys followed -> one row per
        key -> the snapshot."""
        started = time.perf_counter()
        await self._topology_if_due()
        now = time.time()
        self._refused = {}
        await self._first_scan()
        self._start_polls(self.focus)
        await self._wait_for_nodes()
        got = _Gathered()
        self._sent_to = {}
        for node in self.nodes.values():
            self._gather(node, got, now)
        if self._first_keys:
            got.redirected.update(self._missed(got.rows))
        if got.redirected:
            await self._follow_now(got.redirected, got.rows, got.lost)
        self._settle_redirects(got.lost)
        streams = self._merge(got.rows, {**dict.fromkeys(got.dropped, ""), **got.redirected})
        failing = [n.retry_at for n in self.nodes.values() if n.error is not None and n.task is None]
        if any(n.not_answering_for is not None for n in self.nodes.values()):
            failing.append(time.monotonic())  # a hung primary: has a replica taken over?
        self._topology_retry_at = min(failing) if failing else 0.0
        return self._snapshot(started, now, streams, got)

    async def _topology_if_due(self) -> None:
        mono = time.monotonic()
        due = self._topology_due or (self._refused or mono - self._topology_read_at >= TOPOLOGY_PERIOD)
        if self._refresh or self.topology is None:
            await self.refresh_topology()
        elif due or (self._topology_retry_at and mono >= self._topology_retry_at):
            # a replica may have taken over the slots of a node that stopped answering, a reshard
            # goes on, slots were added or deleted; when no node answers CLUSTER SLOTS now, the
            # last topology stays
            with contextlib.suppress(ClusterError):
                await self.refresh_topology()

    async def _wait_for_nodes(self) -> None:
        """Each node has its own deadline: the slow ones are reported next time. The first screen
        waits longer for every node's first poll (short of the rule that would call the whole poll
        not answering); a node later still is shown as pending (NodeStatus.first_poll: PARTIAL,
        not a LIVE table a third empty)."""
        in_flight = {n.task for n in self.nodes.values() if n.task is not None}
        if in_flight:
            first = any(not n.reported for n in self.nodes.values())
            wait = max(self.node_wait, FIRST_WAIT * self.answer_timeout if first else 0.0)
            await asyncio.wait(in_flight, timeout=wait)

    def _gather(self, node: _Node, got: _Gathered, now: float) -> None:
        """The node's rows this poll: its new ones when its poll came back, else its last ones
        (stale when it failed or is not answering)."""
        task = node.task
        if task is not None and not task.done():
            waited = time.monotonic() - node.sent_at
            if waited >= self.answer_timeout and self._silent(node):
                node.not_answering_for = waited
                node.error = f"not answering for {int(waited)} s"
                node.stale_since = node.stale_since or now
        if task is None or not task.done():
            got.rows.extend(replace(s, stale=True) if node.error else s for s in node.last)
            return
        node.task = None
        node.not_answering_for = None
        node.probe, node.probe_after = None, 0.0
        if task.cancelled():
            got.rows.extend(node.last)
            return
        exc = task.exception()
        if exc is not None:
            self._node_failed(node, describe_error(exc, self._node_spec(node.address)), now)
            got.rows.extend(replace(s, stale=True) for s in node.last)
            return
        main, extra = task.result()
        node.failures, node.error, node.stale_since, node.retry_at = 0, None, None, 0.0
        node.reported = True
        kept = self._take_result(node, main, True, got) + self._take_result(node, extra, False, got)
        node.last = tuple(kept)
        got.rows.extend(kept)

    def _take_result(
        self, node: _Node, result: Snapshot | None, own: bool, got: _Gathered
    ) -> list[StreamInfo]:
        """One of the node's two snapshots (its own collector's, or its redirect collector's)."""
        if result is None:
            if own:
                node.tagged = {}
            return []
        got.add(result)
        if own:
            rows, tagged, moved = self._take_own(node, result)
        else:
            rows, tagged, moved = self._take(node, result, node.redirect_tagged)
        if own:
            node.tagged = tagged
            got.dropped |= self._note_discovery(node)
        else:
            node.redirect_tagged = tagged
            got.lost[node.address] = {s.key for s in rows if s.error is not None} | set(moved)
        for key, error in moved.items():
            got.redirected[key] = error
            self._sent_to[key] = self._redirect(key, error, node)
        return rows

    def _statuses(self, streams: list[StreamInfo]) -> tuple[NodeStatus, ...]:
        assert self.topology is not None
        shown_by = Counter(map(attrgetter("node"), streams))
        statuses = []
        for address, node in self.nodes.items():
            ranges = self.topology.primaries.get(address, ())
            statuses.append(
                NodeStatus(
                    address=address,
                    ok=node.error is None,
                    error=node.error,
                    streams=shown_by[address],
                    slots=sum(e - s + 1 for s, e in ranges),
                    stale_since=node.stale_since,
                    not_answering_for=node.not_answering_for,
                    slot_ranges=ranges,
                    first_poll=not node.reported and node.error is None,
                )
            )
        return tuple(statuses)

    def _snapshot(self, started: float, now: float, rows: list[StreamInfo], got: _Gathered) -> Snapshot:
        assert self.topology is not None
        max_streams = self.options.max_streams
        capped = len(rows) > max_streams or any(n.collector.discovery.capped for n in self.nodes.values())
        streams = rows[:max_streams]
        refused = [(slot, slot) for slots in self._refused.values() for slot in slots]
        self.total_round_trips += got.trips + got.discovery_trips
        return Snapshot(
            taken_at=time.time(),
            duration_ms=(time.perf_counter() - started) * 1000,
            round_trips=got.trips,
            discovery_round_trips=got.discovery_trips,
            server=replace(self.server, mode="cluster"),
            streams=tuple(streams),
            discovery=Discovery(
                patterns=tuple(p.decode("utf-8", "backslashreplace") for p in self._patterns),
                keys=tuple(s.key for s in streams),
                capped=capped,
                max_streams=max_streams,
                taken_at=now,
                # not before every node's first poll has come back (or failed): the dashboard says
                # "discovering", not LIVE, and polls again at once rather than an interval later
                complete=all(n.reported or n.error is not None for n in self.nodes.values()),
            ),
            focus=got.focus,
            nodes=self._statuses(streams),
            uncovered=merge_ranges([*self.topology.uncovered_ranges(), *refused]),
            cost=merge_costs(got.costs),
        )

    def _note_discovery(self, node: _Node) -> set[bytes]:
        """The keys the node's discovery, when it has just completed, no longer lists: moved (a
        reshard: the node that has them now may not have rescanned yet) or deleted."""
        disc = node.collector.discovery
        if disc.taken_at == node.discovered_at:
            return set()
        known = frozenset(disc.keys)
        dropped = set(node.known - known) if node.discovered_at else set()
        node.known, node.discovered_at = known, disc.taken_at
        return dropped

    def _merge(self, rows: list[StreamInfo], redirected: dict[bytes, str]) -> list[StreamInfo]:
        """One row per key, the best (data before a copy before an error), in key order. A key on
        its way to another node (redirected, or dropped by a rescan) that no node reported this
        time keeps its last values until a node reports it, or every node has rescanned since
        without finding it (it was deleted), or CARRY_FOR seconds."""
        best: dict[bytes, StreamInfo] = {}
        for s in rows:  # a key twice is rare (a reshard): only then are the two ranked
            have = best.setdefault(s.key, s)
            if have is not s and _rank(s) < _rank(have):
                best[s.key] = s
        mono, wall = time.monotonic(), time.time()
        rescanned = min((n.collector.discovery.taken_at for n in self.nodes.values()), default=wall)
        for key in list(self._carried):
            _, since, since_wall = self._carried[key]
            searched = rescanned > since_wall and not any(key in n.known for n in self.nodes.values())
            if key in best or searched or mono - since > CARRY_FOR:
                del self._carried[key]
        lost = False
        for key in redirected:
            before = self._shown.get(key)
            if key in best or key in self._carried or before is None or before.error == "no such key":
                continue
            self._carried[key] = (before, mono, wall)
            lost = True
        if lost:  # wherever they are now, a rescan finds them
            self._topology_due = True
            for node in self.nodes.values():
                node.collector.request_discovery()
        for key, (shown, *_) in self._carried.items():
            best.setdefault(key, shown)
        self._shown = best
        return sorted(best.values(), key=attrgetter("key"))

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
