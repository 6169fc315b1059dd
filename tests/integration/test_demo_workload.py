"""The demo workload (walrus producer, group1 consumers, analytics) against real servers."""

from __future__ import annotations

import pytest
import redis

from streamtop.demo.workload import ANALYTICS, GROUP, MAX_RATE, STREAM, DemoController, check_rate
from streamtop.pipeline.connection import ConnectionSpec
from tests.support.waiting import wait_for


def spec_of(srv) -> ConnectionSpec:
    return ConnectionSpec(host=srv.host, port=srv.port)


def pending_ids(r: redis.Redis, consumer: str | None = None) -> set[bytes]:
    rows = r.xpending_range(STREAM, GROUP, "-", "+", 10_000, consumername=consumer)
    return {row["message_id"] for row in rows}


def group(r: redis.Redis, name: str) -> dict:
    return next(g for g in r.xinfo_groups(STREAM) if g["name"] == name.encode())


def id_tuple(entry_id: bytes) -> tuple[int, int]:
    ms, seq = entry_id.split(b"-")
    return int(ms), int(seq)


def analytics_behind(r: redis.Redis) -> bool:
    """analytics (reading from 0, slower) has not delivered the last entry; lag > 0 where known."""
    g = group(r, ANALYTICS)
    last = r.xrevrange(STREAM, count=1)[0][0]
    behind = id_tuple(g["last-delivered-id"]) < id_tuple(last)
    return behind and (g.get("lag") is None or g["lag"] > 0) and g["pending"] == 0


def state_of(ctl: DemoController, name: str) -> str:
    return next(w.state for w in ctl.workers() if w.name == name)


@pytest.mark.parametrize("text", ["0", "-1", "100001", "1e9", "nan", "x"])
def test_bad_rates_are_refused_with_the_limit(text):
    with pytest.raises(ValueError) as info:
        check_rate(text)
    if text in ("100001", "1e9"):
        assert "100,000" in str(info.value)


def test_rates_within_the_limit_are_accepted():
    assert check_rate("0.5") == 0.5
    assert check_rate(MAX_RATE) == MAX_RATE


@pytest.fixture
def controller_on(request):
    made: list[DemoController] = []

    def make(srv, **kw) -> DemoController:
        ctl = DemoController(spec_of(srv), seed=7, **kw)
        made.append(ctl)
        ctl.start()
        return ctl

    yield make
    for ctl in made:
        ctl.stop()


@pytest.mark.slow
def test_workload_shares_acks_fails_and_lags(any_server, any_r, controller_on):
    r = any_r
    ctl = controller_on(any_server, rate=200, fail_above=0.7, retry_every=None)
    wait_for(lambda: r.exists(STREAM) and r.xlen(STREAM) >= 150, "events")
    wait_for(lambda: all(w.processed > 0 for w in ctl.workers()), "every worker to do some work")
    names = {c["name"] for c in r.xinfo_consumers(STREAM, GROUP)}
    assert names == {b"c1", b"c2", b"c3"}
    wait_for(lambda: analytics_behind(r), "analytics to lag behind")
    assert group(r, ANALYTICS)["consumers"] == 1

    ctl.pause_producer()
    wait_for(lambda: state_of(ctl, "producer") == "paused", "the producer to pause")
    last_id = r.xrevrange(STREAM, count=1)[0][0]
    wait_for(lambda: group(r, GROUP)["last-delivered-id"] == last_id, "group1 to read everything")
    # group1 drained: exactly the hot readings stay pending, everything else was acked
    wait_for(
        lambda: sum(w.processed + w.failed for w in ctl.workers() if w.role == "consumer") == r.xlen(STREAM),
        "group1's consumers to finish their batches",
    )
    entries = r.xrange(STREAM)
    hot = {eid for eid, f in entries if float(f[b"temp"]) > 0.7}
    assert hot and len(hot) < len(entries)
    # counters move just before the ack: a cool reading may still be pending for an instant
    wait_for(lambda: pending_ids(r) == hot, "exactly the hot readings to stay pending")
    wait_for(
        lambda: sum(w.failed for w in ctl.workers() if w.role == "consumer") == len(hot),
        "one failure counted per hot reading",
    )
    assert {f[b"sensor_id"] for _, f in entries} == {b"sensor1", b"sensor2", b"sensor3"}

    # analytics, behind before the pause, catches up while the producer is paused
    # (its backlog is what the steps above took, times 40 % of the rate: 60 s for a loaded machine)
    wait_for(lambda: group(r, ANALYTICS)["last-delivered-id"] == last_id, "analytics to catch up", 60)

    ctl.stop()
    assert not any(w.is_alive() for w in ctl.all_workers())


@pytest.mark.slow
def test_crash_keeps_pending_stop_is_clean_and_add_joins(server, r, controller_on):
    ctl = controller_on(server, rate=100, fail_above=0.5, retry_every=None)
    wait_for(
        lambda: all(len(pending_ids(r, c)) > 0 for c in ("c1", "c2", "c3")),
        "every consumer to hold a failed entry",
    )
    crashed = ctl.crash_consumer("c2")
    assert crashed == "c2"
    wait_for(lambda: state_of(ctl, "c2") == "crashed", "c2 to crash")
    held = pending_ids(r, "c2")
    assert held
    assert "c2" not in ctl.running_consumers()
    # the others go on; c2's entries stay put until someone claims them
    before = {w.name: w.processed for w in ctl.workers()}
    wait_for(
        lambda: next(w.processed for w in ctl.workers() if w.name == "c1") > before["c1"],
        "c1 to keep processing",
    )
    assert held <= pending_ids(r, "c2")
    wait_for(lambda: ctl.pending_by_consumer.get("c2", 0) >= len(held), "the observer to count c2")
    assert ctl.guide().startswith(f"c2 crashed holding {ctl.pending_by_consumer['c2']} pending")

    # claiming them elsewhere (what the dashboard's `c` does) changes the guide line
    r.xclaim(STREAM, GROUP, "c1", 0, sorted(pending_ids(r, "c2")))
    wait_for(lambda: ctl.pending_by_consumer.get("c2", 0) == 0, "the observer to see the claim")
    assert "claimed" in ctl.guide()

    assert ctl.stop_consumer("c3") == "c3"
    wait_for(lambda: state_of(ctl, "c3") == "stopped", "c3 to stop")
    assert "c3" in ctl.guide()

    name = ctl.add_consumer()
    assert name == "c4"
    wait_for(lambda: b"c4" in {c["name"] for c in r.xinfo_consumers(STREAM, GROUP)}, "c4 to read")
    assert ctl.running_consumers() == ["c1", "c4"]
    with pytest.raises(ValueError):
        ctl.stop_consumer("c2")


@pytest.mark.slow
def test_default_crash_picks_the_consumer_with_most_pending(server, r, controller_on):
    ctl = controller_on(server, rate=100, fail_above=0.5)
    wait_for(lambda: sum(ctl.pending_by_consumer.values()) > 3, "pending entries to be counted")
    counts = dict(ctl.pending_by_consumer)
    name = ctl.crash_consumer()
    assert counts[name] == max(counts.values())


def test_rate_change_and_maxlen(server, r, controller_on):
    ctl = controller_on(server, rate=5, maxlen=50)
    with pytest.raises(ValueError, match="100,000"):
        ctl.set_rate(200_000)
    assert ctl.rate == 5
    assert ctl.set_rate(2000) == 2000
    wait_for(lambda: r.xinfo_stream(STREAM)["entries-added"] > 200, "the faster rate")
    assert r.xlen(STREAM) <= 50
