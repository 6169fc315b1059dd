"""The header with part of a cluster missing: every problem counted on the one line, the details
in its tooltip, and a badge that is not a green LIVE."""

from __future__ import annotations

from streamtop.ui.header import STATE_STYLES, HeaderInfo, cluster_details, header_text

URL = "redis://127.0.0.1:7000/0"
DOWN = (
    "127.0.0.1:7001 (connection refused at 127.0.0.1:7001: is the server running?)",
    "127.0.0.1:7002 (connection refused at 127.0.0.1:7002: is the server running?)",
)
HUNG = ("127.0.0.1:7003 (not answering for 4 s)",)


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
    assert "2 nodes down, 1 node not answering, 5461 slots uncovered" in line
    assert " PARTIAL " in line and " LIVE " not in line and "…" not in line
    details = cluster_details(info)
    assert details is not None
    assert details.plain.splitlines() == [
        *(f"node {d}" for d in (*DOWN, *HUNG)),
        "5461 hash slots are served by no node (CLUSTERDOWN there)",
    ]


def test_one_failing_node_is_named_and_the_badge_is_not_green() -> None:
    info = HeaderInfo(url=URL, state="partial", nodes=3, not_answering_nodes=HUNG)
    line = header_text(info, 120).plain
    assert f"node {HUNG[0]}: stale rows" in line
    assert "green" not in STATE_STYLES["partial"]


def test_node_errors_are_data_in_the_tooltip() -> None:
    details = cluster_details(HeaderInfo(down_nodes=("n:1 ([b]down\x1b[0m)",)))
    assert details is not None and details.plain == "node n:1 ([b]down\\x1b[0m)"
