"""PUBLISH/SUBSCRIBE next to the stream, the group consumer audit1 and the plain reader with its
stored last ID, against a real server: what an absent subscriber loses, a group consumer catches
up from its group's position and a plain reader from its stored last ID."""

from __future__ import annotations

import pytest
import redis

from streamtop.demo.audit import AUDIT_CONSUMER, AUDIT_GROUP
from streamtop.demo.pubsub import CHANNEL
from streamtop.demo.reader import LASTID_KEY
from streamtop.demo.workload import STREAM, DemoController
from streamtop.pipeline.connection import ConnectionSpec
from streamtop.pipeline.model import id_key
from tests.support.waiting import until, wait_for


@pytest.fixture
def controller(server):
    ctl = DemoController(
        ConnectionSpec(host=server.host, port=server.port), rate=40, seed=5, retry_every=None
    )
    ctl.start()
    yield ctl
    ctl.stop()


def numsub(r: redis.Redis) -> int:
    return dict(r.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0)


def audit_position(r: redis.Redis) -> bytes:
    return next(g for g in r.xinfo_groups(STREAM) if g["name"] == AUDIT_GROUP.encode())["last-delivered-id"]


@pytest.mark.slow
def test_away_subscriber_misses_everything_the_stream_consumers_catch_up(controller, r):
    ctl = controller
    wait_for(
        lambda: ctl.subscriber.processed > 10 and ctl.reader.processed > 10 and ctl.audit.processed > 10,
        "the subscriber, audit1 and the reader to receive while present",
    )
    assert numsub(r) == 1
    run = ctl.go_away(1.5)
    wait_for(lambda: numsub(r) == 0 and run.window_open(), "the subscriber unsubscribed, audit1 not reading")
    # away: the group's position stays put while the producer goes on
    held = audit_position(r)
    length = r.xlen(STREAM)
    wait_for(lambda: r.xlen(STREAM) > length + 5, "the producer to go on")
    assert audit_position(r) == held, "audit1 reads nothing while away"
    assert ctl.audit.snapshot().state == "away"
    # as if audit1 had died mid-batch: 3 entries delivered to it and never acked; back, it reads
    # its own pending first (XREADGROUP ... 0), which `>` alone would never deliver again
    orphans = r.xreadgroup(AUDIT_GROUP, AUDIT_CONSUMER, {STREAM: ">"}, count=3)[0][1]
    assert r.xpending(STREAM, AUDIT_GROUP)["pending"] == 3
    wait_for(lambda: run.over, "all three to be back")
    wait_for(
        lambda: run.counts().read == run.counts().consumed == run.counts().published,
        "audit1 and reader1 to catch up",
    )
    c = run.counts()
    n = c.published
    assert n > 10, "the producer went on while they were away"
    assert c.received == 0, "pub/sub keeps nothing for an absent subscriber"
    assert c.consumed == n, "the group consumer processed every one, from its group's position"
    assert c.read == n, "the stream reader read every one from its stored last ID"
    assert ctl.comparison() == (
        f"pub/sub: missed {n} of {n} published while away; stream: caught up {n} of {n} "
        f"(audit1, group audit: XREADGROUP from the group's position); reader1 {n} of {n} "
        "(XREAD from reader1:lastid)"
    )
    # the group consumer acked what it caught up with, its own pending entries too
    wait_for(lambda: r.xpending(STREAM, AUDIT_GROUP)["pending"] == 0, "audit1 to ack its batches")
    assert {i.decode() for i, _ in orphans} <= run.consumed
    assert {c["name"] for c in r.xinfo_consumers(STREAM, AUDIT_GROUP)} == {AUDIT_CONSUMER.encode()}
    # the away IDs are real stream entries, and the reader's stored position is past them
    last_away = max(run.published, key=id_key)
    assert r.xrange(STREAM, last_away, last_away)
    assert id_key(r.get(LASTID_KEY).decode()) >= id_key(last_away)
    # back: the subscriber is listening again
    assert numsub(r) == 1
    before = ctl.subscriber.processed
    wait_for(lambda: ctl.subscriber.processed > before, "the subscriber to receive again")
    with pytest.raises(ValueError):
        ctl.go_away(0)


@pytest.mark.slow
def test_reader1_lastid_advances_and_a_restart_resumes_from_it(controller, r):
    ctl = controller
    first = wait_for(lambda: r.get(LASTID_KEY), "reader1 to store a last ID").decode()
    wait_for(lambda: id_key(r.get(LASTID_KEY).decode()) > id_key(first), "reader1:lastid to advance")
    ctl.pause_producer()
    wait_for(lambda: ctl.producer.state == "paused", "the pause")
    last = r.xrevrange(STREAM, count=1)[0][0]
    # reader1 stores its last ID, then counts: both, or a count read in between is short
    wait_for(
        lambda: r.get(LASTID_KEY) == last and ctl.reader.processed == r.xlen(STREAM),
        "reader1 to reach the last entry, every entry once from 0-0",
    )
    assert f"XREAD from {last.decode()}" in ctl.reader.snapshot().detail
    # a new workload on the same server: reader1 starts from what it stored, not from 0-0
    ctl.stop()
    added = [r.xadd(STREAM, {"sensor_id": "sensor1", "temp": "0.1", "humidity": "0.1"}) for _ in range(3)]
    again = DemoController(ctl.spec, rate=1, seed=5, retry_every=None)
    again.pause_producer()
    again.start()
    try:
        wait_for(
            lambda: r.get(LASTID_KEY) == added[-1] and again.reader.processed == 3,
            "the new reader1 to read the 3 new entries (and only them)",
        )
    finally:
        again.stop()


@pytest.mark.slow
async def test_f8_shows_the_comparison_in_the_panel(controller):
    from textual.app import App, ComposeResult

    from streamtop.ui.demo_panel import DemoPanel, with_demo_keys

    class Host(App):
        def compose(self) -> ComposeResult:
            yield DemoPanel(controller)

    controller.away_seconds = 1.0
    app = with_demo_keys(Host)()
    async with app.run_test(size=(140, 30)) as pilot:
        compare = app.query_one("#demo-compare")
        assert not compare.display, "nothing to compare before the first absence"
        await pilot.press("f8")
        run = controller.away_run
        assert run is not None

        def says_caught_up() -> bool:  # on the panel's refresh after the reader caught up
            c = run.counts()
            n = c.published
            return (
                n > 0
                and c.read == c.consumed == n
                and str(compare.render()).startswith(
                    f"pub/sub: missed {n} of {n} published while away; stream: caught up {n} of {n} "
                )
            )

        await until(pilot, says_caught_up, "the panel to say the reader caught up with everything")
        assert compare.display
        assert str(app.query_one("#demo-guide").render()).startswith("pub/sub delivers only to who")
