"""streamtop.serve.metrics and the without-data plan, on hand-made snapshots (no server): what is
unknown is absent, never 0; a server that is down leaves only the exporter's own figures."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from streamtop.pipeline.health import Verdict
from streamtop.pipeline.history import History
from streamtop.pipeline.model import (
    ConsumerInfo,
    GroupInfo,
    Lag,
    LagSource,
    NodeStatus,
    PendingSummary,
    ServerInfo,
    Snapshot,
    StreamInfo,
)
from streamtop.serve.exposition import render
from streamtop.serve.metrics import PollStats, families, label_value
from streamtop.serve.poller import without_data_plan
from tests.support.scrape import FamiliesCollector


def _group(name: bytes, lag: Lag, **kw) -> GroupInfo:
    return GroupInfo(name, 1, 0, "5-0", None, lag, consumer_list=(ConsumerInfo(b"c", 0, 1500),), **kw)


def _parsed(text: str) -> dict[str, dict[frozenset, float]]:
    out: dict[str, dict[frozenset, float]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, {})[frozenset(s.labels.items())] = s.value
    return out


def _exposition(snap: Snapshot | None, stats: PollStats) -> dict[str, dict[frozenset, float]]:
    """What a scrape would show, read back with prometheus_client's parser."""
    history = History()
    if snap is not None:
        history.update(snap)
    return _parsed(render(families(snap, history, 0, stats)).decode())


def _g(key: str, group: str, **more: str) -> frozenset:
    return frozenset({"db": "db0", "stream": key, "group": group, **more}.items())


SNAP = Snapshot(
    server=ServerInfo(compat_version=(7, 2, 4)),
    streams=(
        StreamInfo(
            b"s",
            length=10,
            groups=(
                _group(b"exact", Lag(LagSource.EXACT, value=3)),
                _group(b"counted", Lag(LagSource.ESTIMATE, estimate=7)),
                _group(b"capped", Lag(LagSource.ESTIMATE, estimate=1000, capped=True)),
                _group(b"unknown", Lag(LagSource.UNKNOWN)),
            ),
        ),
        StreamInfo(b"gone", error="WRONGTYPE Operation against a key holding the wrong kind of value"),
    ),
)


def test_an_unknown_lag_is_absent_from_redis_stream_group_lag_and_the_estimate_says_what_it_is():
    page = _exposition(SNAP, PollStats(up=True, polls=1))
    lag = page["redis_stream_group_lag"]
    assert lag == {_g("s", "exact"): 3}
    assert page["streamtop_stream_group_lag_estimate"] == {
        _g("s", "exact"): 3,
        _g("s", "counted"): 7,
        _g("s", "capped"): 1000,
    }
    assert page["streamtop_stream_group_lag_is_estimate"] == {
        _g("s", "exact"): 0,
        _g("s", "counted"): 1,
        _g("s", "capped"): 1,
    }
    assert page["streamtop_stream_group_lag_is_lower_bound"][_g("s", "capped")] == 1
    assert page["streamtop_stream_group_lag_is_lower_bound"][_g("s", "counted")] == 0
    # entries-read unknown (None): absent, where redis_exporter would say 0
    assert "redis_stream_group_entries_read" not in page
    # the consumer's idle, in seconds as redis_exporter
    assert page["redis_stream_group_consumer_idle_seconds"][_g("s", "exact", consumer="c")] == 1.5
    # a key that could not be read has no series at all
    assert not any(dict(lbl).get("stream") == "gone" for fam in page.values() for lbl in fam)


def test_down_leaves_only_the_exporters_own_figures():
    page = _exposition(SNAP, PollStats(up=False, polls=3, failures=1))
    assert page["streamtop_up"] == {frozenset(): 0}
    assert page["streamtop_poll_failures_total"] == {frozenset(): 1}
    assert all(name.startswith("streamtop_") and "stream_" not in name for name in page), sorted(page)


def test_the_health_verdict_is_one_series_per_group_with_the_verdict_as_a_label():
    page = _exposition(SNAP, PollStats(up=True))
    health = page["streamtop_stream_group_health"]
    for group in ("exact", "counted", "capped", "unknown"):
        mine = {dict(lbl)["verdict"]: v for lbl, v in health.items() if dict(lbl)["group"] == group}
        assert len(mine) == 1 and set(mine.values()) == {1} and set(mine) <= {str(v) for v in Verdict}


def test_our_page_parses_as_prometheus_clients_own_rendering_of_the_same_families():
    """exposition.render (once per poll) and generate_latest (prometheus_client) agree, hostile
    names included."""
    hostile = StreamInfo(
        'k"\\\n\u202e{x="y"} é'.encode(),
        length=3,
        groups=(_group(b'g\n"', Lag(LagSource.EXACT, value=1)),),
    )
    snap = Snapshot(streams=(*SNAP.streams, hostile))
    history = History()
    history.update(snap)
    fams = families(snap, history, 3, PollStats(up=True, polls=2, duration_s=0.25, round_trips=1))

    registry = CollectorRegistry()
    registry.register(FamiliesCollector(lambda: fams))
    ours, theirs = _parsed(render(fams).decode()), _parsed(generate_latest(registry).decode())
    assert ours == theirs
    assert (
        ours["redis_stream_length"][frozenset({"db": "db3", "stream": label_value(hostile.key)}.items())] == 3
    )
    assert "\u202e" not in render(fams).decode() and "\\u202e" in label_value(hostile.key)


def test_a_cluster_labels_every_stream_series_with_its_node_and_leaves_a_stale_node_out():
    snap = Snapshot(
        server=ServerInfo(mode="cluster"),
        streams=(
            StreamInfo(b"a", length=1, node="127.0.0.1:7000"),
            StreamInfo(b"b", length=2, node="127.0.0.1:7001", stale=True),
        ),
        nodes=(NodeStatus("127.0.0.1:7000"), NodeStatus("127.0.0.1:7001", ok=False, error="down")),
    )
    page = _exposition(snap, PollStats(up=True))
    assert page["redis_stream_length"] == {
        frozenset({"db": "db0", "stream": "a", "node": "127.0.0.1:7000"}.items()): 1
    }
    assert page["streamtop_node_up"] == {
        frozenset({("node", "127.0.0.1:7000")}): 1,
        frozenset({("node", "127.0.0.1:7001")}): 0,
    }


def test_invalid_utf8_names_stay_apart():
    assert label_value(b"a\xffb") == "a\\xffb"
    assert label_value(b"a\xfeb") != label_value(b"a\xffb")
    assert label_value('é"\n'.encode()) == 'é"\n'


def test_control_and_bidi_characters_never_reach_the_page_raw():
    """`curl /metrics` in a terminal: an ESC or a right-to-left override in a key is data."""
    assert label_value(b"a\x1b[31mred\x1b[0m") == "a\\x1b[31mred\\x1b[0m"
    assert label_value("x\u202ey\r\x9b".encode()) == "x\\u202ey\\r\\u009b"


def _pending(s: StreamInfo, smallest: str, greatest: str, n: int = 4) -> GroupInfo:
    ps = PendingSummary(n, smallest, greatest)
    return GroupInfo(b"g", 1, n, greatest, n, Lag(LagSource.EXACT, value=0), pending_summary=ps)


def test_the_without_data_plan_decides_from_the_snapshot_or_asks_or_says_unknown():
    s = StreamInfo(b"s", length=5, first_entry_id="10-0", last_entry_id="20-0", max_deleted_entry_id="0-0")
    assert without_data_plan(s, _pending(s, "10-0", "12-0")) == (0, None)  # all at or after the first
    assert without_data_plan(s, _pending(s, "1-0", "9-0")) == (4, None)  # all trimmed away
    exact, ask = without_data_plan(s, _pending(s, "1-0", "12-0"))  # both sides: one bounded XPENDING
    assert (
        exact is None and ask is not None and ask[:4] == ("XPENDING", b"s", b"g", "-") and ask[4] == "(10-0"
    )
    xdel = StreamInfo(b"s", length=5, first_entry_id="10-0", max_deleted_entry_id="15-0")
    assert without_data_plan(xdel, _pending(xdel, "10-0", "16-0")) == (None, None)  # an XDEL: unknown
    old = StreamInfo(b"s", length=5, first_entry_id="10-0")  # 6.2: no max-deleted-entry-id
    assert without_data_plan(old, _pending(old, "10-0", "16-0")) == (None, None)
    empty = StreamInfo(b"s", length=0)
    assert without_data_plan(empty, _pending(empty, "1-0", "2-0")) == (4, None)


def test_the_lean_page_has_the_default_families_and_each_flag_adds_its_own():
    """issue 29: consumer series (--consumer-metrics) and the detail families (--detail-metrics)
    are off by default; together they are the page as it was."""
    from streamtop.serve.metrics import ALL_TIERS, TIER, tiers_from

    history = History()
    history.update(SNAP)
    stats = PollStats(up=True, polls=1)

    def names(tiers) -> set[str]:
        return {f.name for f in families(SNAP, history, 0, stats, tiers)}

    everything = names(ALL_TIERS)
    lean = names(tiers_from(False, False))
    consumers = names(tiers_from(True, False))
    detail = names(tiers_from(False, True))
    consumer_families = {n for n in everything if TIER.get(n) == "consumers"}
    detail_families = {n for n in everything if TIER.get(n) == "detail"}
    assert consumer_families >= {"redis_stream_group_consumer_idle_seconds"}
    assert detail_families >= {
        "redis_stream_group_last_delivered_id",
        "streamtop_stream_group_lag_is_estimate",
    }
    assert lean == everything - consumer_families - detail_families
    assert {"redis_stream_length", "redis_stream_group_lag", "streamtop_stream_group_health"} <= lean
    assert consumers == lean | consumer_families and detail == lean | detail_families
    assert names(tiers_from(True, True)) == everything
