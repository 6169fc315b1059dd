"""The header with part of a cluster missing: the first failing node named, with why, right
after a badge that is not a green LIVE, at every width; the others counted; the details in its
tooltip (issue 28)."""

from __future__ import annotations

import pytest

from streamtop.pipeline.model import NodeStatus, Snapshot
from streamtop.ui.header import STATE_STYLES, HeaderInfo, cluster_details, header_text, uncovered_slots

URL = "redis://127.0.0.1:7000/0"
DOWN = (
    "127.0.0.1:7001 (connection refused at 127.0.0.1:7001: is the server running?)",
    "127.0.0.1:7002 (connection refused at 127.0.0.1:7002: is the server running?)",
)
HUNG = ("127.0.0.1:7003 (not answering for 4 s)",)
# what competes with it for room: every health count, a long URL, the server, the figures
BUSY = dict(
    url="redis://default@streams-cluster-node-a.internal.example.com:7000/0",
    server="Valkey 9.1.2 (cluster)",
    nodes=3,
    streams=30000,
    round_trips=6,
    poll_ms=180.0,
    health=(("stalled", 12), ("failing", 3), ("slow", 40), ("not moving", 200), ("not judged", 900)),
    summary_age=4.0,
    server_load=0.012,
)


@pytest.mark.parametrize("width", [80, 100, 160])
def test_a_down_node_is_named_with_why_first_at_every_width(width) -> None:
    info = HeaderInfo(state="partial", down_nodes=DOWN[:1], uncovered_slots=5461, **BUSY)
    line = header_text(info, width).plain
    assert len(line) <= width
    assert " PARTIAL " in line and " LIVE " not in line
    after_badge = line.split(" PARTIAL ", 1)[1].lstrip()
    assert after_badge.startswith("node 127.0.0.1:7001 down: connection refused")
    if width >= 100:
        assert "node 127.0.0.1:7001 down: connection refused: is the server running?" in line
        assert "5461 slots uncovered" in line


@pytest.mark.parametrize("width", [80, 100, 160])
def test_a_hung_node_is_named_first_at_every_width(width) -> None:
    info = HeaderInfo(state="partial", not_answering_nodes=HUNG, **BUSY)
    line = header_text(info, width).plain
    assert line.split(" PARTIAL ", 1)[1].lstrip().startswith("node 127.0.0.1:7003 not answering for 4 s")


def test_two_nodes_down_one_hung_and_uncovered_slots_fit_one_line_at_160_columns() -> None:
    info = HeaderInfo(
        url=URL,
        server="Valkey 9.1.2 (cluster)",
        state="partial",
        nodes=3,
        streams=3000,
        down_nodes=DOWN,
        not_answering_nodes=HUNG,
        uncovered_slots=5461,
    )
    line = header_text(info, 160).plain
    assert (
        "node 127.0.0.1:7001 down: connection refused: is the server running?; 1 more node down;"
        " 1 node not answering; 5461 slots uncovered"
    ) in line
    assert " PARTIAL " in line and " LIVE " not in line and "…" not in line
    details = cluster_details(info)
    assert details is not None
    assert details.plain.splitlines() == [
        *(f"node {d}" for d in (*DOWN, *HUNG)),
        "their rows show the last values read, marked stale",
        "5461 hash slots are served by no node that answers (a node down, or CLUSTERDOWN there)",
    ]


def test_counts_agree_with_their_nouns() -> None:
    one = header_text(HeaderInfo(state="partial", down_nodes=DOWN, uncovered_slots=1), 200).plain
    assert "1 more node down" in one and "1 slot uncovered" in one and "1 nodes" not in one
    three = HeaderInfo(state="partial", not_answering_nodes=HUNG * 3)
    assert "2 more nodes not answering" in header_text(three, 200).plain


def test_one_failing_node_is_named_and_the_badge_is_not_green() -> None:
    info = HeaderInfo(url=URL, state="partial", nodes=3, not_answering_nodes=HUNG)
    line = header_text(info, 120).plain
    assert "node 127.0.0.1:7003 not answering for 4 s" in line
    assert "green" not in STATE_STYLES["partial"]


def test_node_errors_are_data_in_the_tooltip() -> None:
    details = cluster_details(HeaderInfo(down_nodes=("n:1 ([b]down\x1b[0m)",)))
    assert details is not None and details.plain.splitlines()[0] == "node n:1 ([b]down\\x1b[0m)"


def test_the_slots_of_a_dead_primary_count_as_uncovered() -> None:
    snap = Snapshot(
        nodes=(
            NodeStatus("a:1", slot_ranges=((0, 5460),), slots=5461),
            NodeStatus("b:1", ok=False, error="down", slot_ranges=((5461, 10922),), slots=5462),
        ),
        uncovered=((10923, 16383), (0, 9)),
    )
    assert uncovered_slots(snap) == 10 + 5462 + 5461
