"""The demo's full consumer life cycle on real servers: fail -> pending -> retry (XAUTOCLAIM) ->
acked, or -> give up -> the dead-letter stream, in the dead-letter action's format."""

from __future__ import annotations

import pytest
import redis

from streamtop.demo.workload import DLQ, GROUP, STREAM, DemoController
from streamtop.pipeline.connection import ConnectionSpec
from tests.support.waiting import wait_for

FAST = dict(stuck_ms=300, retry_every=0.2, work_seconds=0.0, rate=1.0, consumers=2)


@pytest.fixture
def controller_on():
    made: list[DemoController] = []

    def make(srv, **kw) -> DemoController:
        ctl = DemoController(ConnectionSpec(host=srv.host, port=srv.port), seed=11, **{**FAST, **kw})
        made.append(ctl)
        ctl.pause_producer()  # before it starts: only the events the test adds
        ctl.start()
        return ctl

    yield make
    for ctl in made:
        ctl.stop()


def pending(r: redis.Redis, entry_id: bytes) -> list[dict]:
    return r.xpending_range(STREAM, GROUP, min=entry_id, max=entry_id, count=1)


def dlq_copy(r: redis.Redis, entry_id: bytes) -> dict | None:
    if not r.exists(DLQ):
        return None
    for _, fields in r.xrange(DLQ):
        if fields.get(b"dlq-original-id") == entry_id:
            return fields
    return None


def consumers(ctl: DemoController) -> list:
    return [w for w in ctl.workers() if w.role == "consumer"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "fields",
    [
        {"sensor_id": "sensor1", "temp": "0.99", "humidity": "0.5"},  # hotter than poison_above
        {"note": "not a sensor event"},  # malformed: fails every time too
    ],
    ids=["hot", "malformed"],
)
def test_a_poison_event_ends_in_the_dlq_after_n_deliveries(any_server, any_r, controller_on, fields):
    r = any_r
    ctl = controller_on(any_server, poison_deliveries=3, retry_success=1.0)
    poison = r.xadd(STREAM, fields)
    wait_for(lambda: dlq_copy(r, poison), "the poison event to reach the DLQ")
    copy = dlq_copy(r, poison)
    assert copy[b"dlq-deliveries"] == b"4"  # poison: delivered more than 3 times, as the dashboard marks
    assert copy[b"dlq-group"] == GROUP.encode() and copy[b"dlq-source"] == STREAM.encode()
    assert copy[b"dlq-consumer"] in {b"c1", b"c2"}
    assert {k: v for k, v in copy.items() if not k.startswith(b"dlq-")} == {
        k.encode(): v.encode() for k, v in fields.items()
    }
    assert pending(r, poison) == [], "acked in group1 once it is in the DLQ"
    assert r.xrange(STREAM, poison, poison), "the original stays in the stream"
    wait_for(lambda: sum(w.dead_lettered for w in consumers(ctl)) == 1, "one dead-lettered counted")
    assert sum(w.failed for w in consumers(ctl)) == 4  # one failure per delivery
    assert sum(w.retried for w in consumers(ctl)) == 3  # deliveries 2 to 4 were retries
    assert len(r.xrange(DLQ)) == 1


@pytest.mark.slow
def test_a_transient_failure_is_retried_and_acked(any_server, any_r, controller_on):
    r = any_r
    ctl = controller_on(any_server, retry_success=1.0, poison_deliveries=5)
    hot = r.xadd(STREAM, {"sensor_id": "sensor2", "temp": "0.8", "humidity": "0.5"})
    cool = r.xadd(STREAM, {"sensor_id": "sensor2", "temp": "0.1", "humidity": "0.5"})
    # the first delivery fails: the entry stays pending (what the dashboard shows as stuck)
    rows = wait_for(lambda: pending(r, hot), "the hot reading to fail once and stay pending")
    assert rows[0]["times_delivered"] == 1
    wait_for(lambda: not pending(r, cool), "the cool reading to be acked at once")
    # once idle over stuck_ms a consumer XAUTOCLAIMs it, processes it again and acks it
    wait_for(lambda: not pending(r, hot), "the retry to ack it")
    assert dlq_copy(r, hot) is None
    wait_for(lambda: sum(w.processed for w in consumers(ctl)) == 2, "two processed")
    assert sum(w.retried for w in consumers(ctl)) == 1
    assert sum(w.failed for w in consumers(ctl)) == 1
    assert sum(w.dead_lettered for w in consumers(ctl)) == 0


@pytest.mark.slow
def test_a_crashed_consumers_entries_are_claimed_and_retried(server, r, controller_on):
    """Crash-then-claim without a hand on the keyboard: a live consumer's XAUTOCLAIM takes what
    the crashed one held, once idle over stuck_ms, and acks what now succeeds."""
    ctl = controller_on(server, retry_success=1.0, consumers=1, stuck_ms=2000)
    ids = {r.xadd(STREAM, {"sensor_id": "sensor3", "temp": "0.8", "humidity": "0.5"}) for _ in range(4)}
    wait_for(
        lambda: {row["message_id"] for row in r.xpending_range(STREAM, GROUP, "-", "+", 100, "c1")} == ids,
        "c1 to fail them",
    )
    ctl.crash_consumer("c1")
    wait_for(lambda: ctl.consumers["c1"].state == "crashed", "c1 to crash")
    assert ctl.consumers["c1"].retried == 0, "crashed before its own retry"
    ctl.add_consumer("c2")
    wait_for(lambda: r.xpending(STREAM, GROUP)["pending"] == 0, "c2 to claim and ack them")
    c2 = ctl.consumers["c2"]
    assert c2.retried == 4 and c2.processed == 4


def test_no_retry_leaves_failures_pending(server, r, controller_on):
    ctl = controller_on(server, retry_every=None, stuck_ms=1)
    hot = r.xadd(STREAM, {"sensor_id": "sensor1", "temp": "0.8", "humidity": "0.5"})
    wait_for(lambda: pending(r, hot), "the failure")
    r.xadd(STREAM, {"sensor_id": "sensor1", "temp": "0.1", "humidity": "0.5"})
    wait_for(lambda: sum(w.processed for w in consumers(ctl)) == 1, "the next event processed")
    assert pending(r, hot)[0]["times_delivered"] == 1
    assert sum(w.retried for w in consumers(ctl)) == 0
