"""`streamtop serve` on a cluster that answers but serves nothing (issue 28): every node up but
every stream refused with CLUSTERDOWN, or every primary down, is `streamtop_up 0`, and
`streamtop_cluster_slots_uncovered` says how many slots no answering primary serves."""

from __future__ import annotations

from streamtop.pipeline.history import History
from streamtop.pipeline.model import NodeStatus, ServerInfo, Snapshot, StreamInfo
from streamtop.serve.metrics import PollStats, families

CLUSTER = ServerInfo(mode="cluster")
NODES = (
    NodeStatus("a:1", slot_ranges=((0, 8191),), slots=8192),
    NodeStatus("b:1", slot_ranges=((8192, 16383),), slots=8192),
)


def _page(snap: Snapshot) -> dict[str, float]:
    out = {}
    for fam in families(snap, History(), 0, PollStats(up=True, polls=1)):
        for values, value in fam.samples:
            if not values:
                out[fam.name] = value
    return out


def test_every_stream_refused_is_up_0_with_every_slot_uncovered():
    refused = tuple(
        StreamInfo(key=f"s{i}".encode(), error="CLUSTERDOWN The cluster is down", node="a:1")
        for i in range(3)
    )
    snap = Snapshot(server=CLUSTER, streams=refused, nodes=NODES, uncovered=((0, 16383),))
    page = _page(snap)
    assert page["streamtop_up"] == 0
    assert page["streamtop_cluster_slots_uncovered"] == 16384


def test_every_primary_down_is_up_0_even_without_streams():
    down = tuple(NodeStatus(n.address, ok=False, error="down", slot_ranges=n.slot_ranges) for n in NODES)
    page = _page(Snapshot(server=CLUSTER, nodes=down))
    assert page["streamtop_up"] == 0 and page["streamtop_cluster_slots_uncovered"] == 16384


def test_a_dead_primary_counts_its_slots_and_the_rest_is_up():
    nodes = (NODES[0], NodeStatus("b:1", ok=False, error="down", slot_ranges=((8192, 16383),)))
    streams = (
        StreamInfo(key=b"ok", node="a:1"),
        StreamInfo(key=b"old", node="b:1", stale=True),
        StreamInfo(key=b"deleted", error="no such key", node="a:1"),
    )
    page = _page(Snapshot(server=CLUSTER, streams=streams, nodes=nodes))
    assert page["streamtop_up"] == 1 and page["streamtop_cluster_slots_uncovered"] == 8192
