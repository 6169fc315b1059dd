"""The demo's health story on its own workload (issue 15, "Must show"), on a real server:

- group1 is `stuck` while c2 has crashed holding entries (the others read on), and `ok` once
  they were claimed (the `c` key's XCLAIM: a live owner holds them, and its retries ack them);
- `analytics` (60 % of the producer's rate) is `falling_behind` when the rate is doubled, and
  `ok` again while the producer is paused;
- a group with no consumers is `stopped`.

Every reading is under `fail_above` here, so nothing fails by design: what stays pending is only
what the crash left. The collector and History are the dashboard's own (a short window, so the
test needs seconds, not minutes); the verdicts are waited for with a bound, never timed.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import redis

from streamtop.demo.workload import ANALYTICS, GROUP, STREAM, DemoController
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import ConnectionSpec, connect, parse_url
from streamtop.pipeline.health import Health, Verdict
from streamtop.pipeline.history import History
from tests.support.waiting import wait_for


class Watcher:
    """The dashboard's collector and history on a loop of the test's own."""

    def __init__(self, srv, window: float, pause: float) -> None:
        self.loop = asyncio.new_event_loop()
        self.client, info = self.loop.run_until_complete(connect(parse_url(srv.url)))
        self.collector = Collector(self.client, info, [STREAM])
        self.history = History(window)
        self.pause = pause

    def health(self, group: str) -> Health:
        time.sleep(self.pause)  # the dashboard's interval, so intervals see whole batches
        snap = self.loop.run_until_complete(self.collector.poll())
        self.history.update(snap)
        return self.history.health(STREAM.encode(), group.encode())

    def wait(self, group: str, verdict: Verdict, what: str, timeout: float = 20.0) -> Health:
        seen: list[Health] = []

        def check() -> bool:
            seen.append(self.health(group))
            return seen[-1].verdict is verdict

        try:
            wait_for(check, what, timeout)
        except AssertionError:
            raise AssertionError(f"{what}; last: {seen[-1] if seen else None}") from None
        return seen[-1]

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture
def demo(server):
    made: list[tuple[DemoController, Watcher]] = []

    def make(window: float, pause: float, **kw) -> tuple[DemoController, Watcher]:
        ctl = DemoController(ConnectionSpec(host=server.host, port=server.port), seed=7, fail_above=1.0, **kw)
        ctl.start()
        watcher = Watcher(server, window, pause)
        made.append((ctl, watcher))
        return ctl, watcher

    yield make
    for ctl, watcher in made:
        ctl.stop()
        watcher.close()


def held_by(r: redis.Redis, consumer: str) -> list[bytes]:
    rows = r.xpending_range(STREAM, GROUP, "-", "+", 1000, consumername=consumer)
    return [row["message_id"] for row in rows]


@pytest.mark.slow
def test_group1_failing_while_c2_crashed_ok_after_the_claim(server, r, demo):
    # entries idle 8 s are retried by the live consumers (XAUTOCLAIM): the crash shows as stuck
    # from 3 s (the window) until then, and the claimed entries are acked some 8-11 s after it
    ctl, watch = demo(window=3.0, pause=0.05, rate=200, stuck_ms=8000)
    wait_for(lambda: r.exists(STREAM) and len(r.xinfo_consumers(STREAM, GROUP)) == 3, "consumers")
    r.xgroup_create(STREAM, "reports", id="0")  # a group nobody reads
    assert watch.wait("reports", Verdict.STOPPED, "a group without consumers to be stopped").reason.endswith(
        "and the group has no consumers"
    )
    watch.wait(GROUP, Verdict.OK, "group1 to be ok before the crash")

    name = ctl.crash_consumer("c2")
    wait_for(lambda: not ctl.consumers[name].is_alive(), f"{name} to die")
    if not held_by(r, name):  # it died between two batches: its last read, as crash() does it
        wait_for(lambda: r.xreadgroup(GROUP, name, {STREAM: ">"}, count=10), "a batch for c2")
    held = held_by(r, name)
    assert held
    h = watch.wait(GROUP, Verdict.STUCK, f"group1 stuck while {name} holds {len(held)} entries")
    assert "is not acknowledged" in h.reason

    r.xclaim(STREAM, GROUP, ctl.running_consumers()[0], 0, held)  # what the `c` key does
    # a live consumer holds them now (their idle time starts again): ok, its retries ack them
    watch.wait(GROUP, Verdict.OK, "group1 ok once a live consumer holds the entries", timeout=40.0)
    assert not held_by(r, name)


@pytest.mark.slow
def test_analytics_falls_behind_when_the_rate_doubles(server, r, demo):
    ctl, watch = demo(window=4.0, pause=1.0, rate=50)
    wait_for(lambda: r.exists(STREAM), "the stream")
    ctl.set_rate(100)  # the panel's F4
    h = watch.wait(ANALYTICS, Verdict.FALLING_BEHIND, "analytics to fall behind at 100/s")
    assert "falling behind by" in h.reason
    assert h.add_rate > h.read_rate > 0
    ctl.pause_producer()  # the panel's F2: analytics catches up
    watch.wait(ANALYTICS, Verdict.OK, "analytics ok while it catches up")
