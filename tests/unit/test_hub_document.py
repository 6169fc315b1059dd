"""The hub's document (issue 31): a snapshot written as JSON and read back is the same snapshot,
every field the dashboard draws included (the poll's cost, a cluster's nodes, names that are not
UTF-8); focus pages too; entry bodies are not published unless asked; another format is refused."""

from __future__ import annotations

import dataclasses
import json

import pytest

from streamtop.hub.document import (
    DocumentError,
    HubState,
    document,
    encode,
    focus_from_query,
    focus_json,
    focus_query,
    read_document,
    read_focus,
)
from streamtop.pipeline.model import Entry, Focus, FocusData, NodeStatus, PendingEntry, PollCost, ServerInfo
from tests.support.sample import sample_snapshot


def full_snapshot():
    snap = sample_snapshot(3)
    return dataclasses.replace(
        snap,
        focus=None,
        server_time_ms=1_790_000_000_123,
        server=ServerInfo("redis", "7.0.15", (7, 0, 15), "cluster", known=False, info_refused=True),
        nodes=(
            NodeStatus("127.0.0.1:7000", True, None, 3, 5461, None, None, ((0, 5460),), False),
            NodeStatus(
                "127.0.0.1:7001", False, "refused", 0, 5461, 1_790_000_000.5, 2.5, ((5461, 10922),), True
            ),
        ),
        uncovered=((10923, 16383),),
        cost=PollCost(3, 2, 1, 4.5, None, 0.013, 0.02, 2.0, 5.0, True, True, False, 0.011),
    )


def test_a_snapshot_reads_back_as_it_was_written():
    snap = full_snapshot()
    hub = HubState(seq=7, state="live", last_good_at=snap.taken_at, interval=1.5, url="redis://h:1/0")
    back_hub, back = read_document(encode(document(hub, snap)))
    assert back == snap
    assert back_hub == hub


def test_names_that_are_not_utf8_come_back_as_bytes():
    snap = full_snapshot()
    odd = dataclasses.replace(snap.streams[0], key=b"k\xff\x00\n")
    snap = dataclasses.replace(snap, streams=(odd, *snap.streams[1:]))
    _, back = read_document(encode(document(HubState(), snap)))
    assert back is not None and back.streams[0].key == b"k\xff\x00\n"


def test_before_a_good_poll_the_document_has_no_snapshot():
    hub = HubState(seq=1, state="stale", error="Connection refused", stale_since=5.0)
    back_hub, back = read_document(encode(document(hub, None)))
    assert back is None and back_hub.error == "Connection refused" and back_hub.state == "stale"


@pytest.mark.parametrize(
    "doc",
    [
        b"{}",
        b"not json",
        json.dumps({"format": "streamtop-hub", "version": 99}).encode(),
        json.dumps({"schema_version": 2, "streams": []}).encode(),  # status --json is not a hub document
    ],
)
def test_what_is_not_a_hub_document_is_refused(doc):
    with pytest.raises(DocumentError):
        read_document(doc)


def test_a_focus_page_reads_back_as_it_was_written():
    focus = Focus(b"orders\xff", b"billing", "1-0", 100, b"worker-1", "+", 50)
    data = FocusData(
        focus=focus,
        pending=(PendingEntry("1-1", b"worker-1", 1234, 3),),
        messages=(Entry("5-0", ((b"f\xff", b"v"),)), Entry("4-0")),
        error=None,
        without_data=frozenset({"1-1"}),
        trimmed_pending=2,
        trimmed_pending_capped=True,
    )
    seq, back = read_focus(encode(focus_json(data, 9)))
    assert (seq, back) == (9, data)


@pytest.mark.parametrize(
    "query",
    [
        {},  # no key
        {"key": "zz"},  # not hex
        {"key": "6b", "pending_count": "100000"},  # a page beyond the limit
        {"key": "6b", "messages_end": "1-0 2-0"},
    ],
)
def test_a_bad_focus_query_is_refused(query):
    with pytest.raises(ValueError):
        focus_from_query(query)


def test_a_focus_query_round_trips():
    focus = Focus(b"k", None, "-", 100, None, "12-0", 50)
    assert focus_from_query(focus_query(focus)) == focus


def test_recordings_of_the_older_codec_still_read():
    """A recording made before the cost, server and node fields were all kept: the load is the
    load (it used to land in `oldest_read`), the rest takes its defaults."""
    from streamtop.record.codec import decode_cost, decode_nodes, decode_server

    cost = decode_cost([3, 2, 1, 4.5, 0.013, 0.02, 2.0, 5.0, True])
    assert cost is not None and cost.load == 0.013 and cost.oldest_read is None and cost.met
    assert decode_server(["redis", "7.0.15", [7, 0, 15], "standalone"]).known
    assert not decode_nodes([["a:1", True, None, 1, 2, None, None, [[0, 1]]]])[0].first_poll


def test_what_the_hub_reads_round_trips_and_a_revision_1_document_reads_as_everything():
    from streamtop.hub.document import READS_EVERYTHING, READS_VIEWERS, REVISION

    hub = HubState(seq=3, state="live", reads=READS_VIEWERS)
    doc = document(hub, full_snapshot())
    assert doc["revision"] == REVISION >= 2
    assert read_document(encode(doc))[0].reads == READS_VIEWERS
    del doc["hub"]["reads"], doc["revision"]  # what a hub of revision 1 sends
    assert read_document(encode(doc))[0].reads == READS_EVERYTHING


def test_a_view_round_trips_any_bytes_and_is_bounded():
    from streamtop.hub.document import VIEW_BODY, VIEW_KEYS, check_viewer, view_body, view_from_body

    keys = frozenset({b"orders", b"k\xff\x00\n", b""})
    assert view_from_body(view_body(keys)) == keys
    assert view_body(keys) == view_body(frozenset(sorted(keys)))  # the same screen, the same bytes
    with pytest.raises(ValueError):
        view_from_body(view_body(frozenset(i.to_bytes(3, "big") for i in range(VIEW_KEYS + 1))))
    with pytest.raises(ValueError):
        view_from_body(b" " * (VIEW_BODY + 1))
    for bad in (b"[]", b'{"format": "streamtop-hub", "version": 1, "visible": "ab"}', b"\xff"):
        with pytest.raises(ValueError):
            view_from_body(bad)
    assert check_viewer("a-Z_9") == "a-Z_9"
    for bad_id in (None, "", "x" * 65, "a b", "é", "a/b"):
        with pytest.raises(ValueError):
            check_viewer(bad_id)
