"""Stuck is unhealthy (issue 25, item 3), on every server: c1 reads 2 entries and never acks, c2 keeps
polling with BLOCK 1000 on a stream where nothing is added. `status s2 --window W --health` said
`idle`, HEALTHY, exit 0: the PEL held entries older than the window and nobody acked them. Now the
group is `stuck` (exit 2), in the JSON and in the table, though nothing is being added. Before 7.2
the server does not show c2's empty polls (XINFO CONSUMERS lists a consumer once it was served), so
no consumer is seen and the rule before it says `stopped`: unhealthy too."""

from __future__ import annotations

import json

import pytest

from streamtop import cli
from tests.support.status_schema import assert_valid
from tests.support.threads import Worker
from tests.support.waiting import wait_for

WINDOW_MS = 1500


def arrange(r):
    r.xadd("s2", {"n": 1})
    r.xadd("s2", {"n": 2})
    r.xgroup_create("s2", "g", id="0")
    r.xreadgroup("g", "c1", {"s2": ">"}, count=2)  # held, never acked


def poll_c2(r) -> None:
    r.xreadgroup("g", "c2", {"s2": ">"}, count=10, block=1000)


@pytest.mark.slow
def test_entries_held_past_the_window_in_a_lull_are_stuck_and_unhealthy(capsys, any_server, any_r):
    arrange(any_r)
    c2 = Worker(any_server, poll_c2, 0.0)
    c2.start()
    try:
        wait_for(
            lambda: any_r.xpending_range("s2", "g", "-", "+", 1)[0]["time_since_delivered"] > WINDOW_MS,
            "the held entries to be older than the window",
        )
        argv = ["status", "--url", any_server.url, "s2", "--window", f"{WINDOW_MS}ms", "--health"]
        code = cli.main([*argv, "--json"])
        doc = json.loads(capsys.readouterr().out)
        assert_valid(doc)
        [g] = doc["streams"][0]["groups"]
        assert (code, doc["health_ok"]) == (2, False), g["health_reason"]
        if "inactive_ms" in str(doc) and g["consumers"][0]["inactive_ms"] is not None:  # 7.2+
            assert g["health"] == "stuck", g["health_reason"]
            assert "is not acknowledged: held" in g["health_reason"] and "by c1" in g["health_reason"]
        else:  # before 7.2 c2's empty polls do not show (it is not even a consumer yet): stopped
            assert g["health"] == "stopped", g["health_reason"]
            assert "2 pending held" in g["health_reason"]
        code = cli.main(argv)
        out = capsys.readouterr().out
        assert code == 2 and "UNHEALTHY" in out and f"s2 group g: {g['health']}: " in out
    finally:
        c2.stop_event.set()
        c2.join(5)


@pytest.mark.slow
async def test_serve_exports_the_stuck_verdict(server, r):
    """serve's verdict series says `stuck` for the same group (a window shortened as --window does)."""
    from tests.support.scrape import Served

    arrange(r)
    c2 = Worker(server, poll_c2, 0.0)
    c2.start()
    served = Served.on(server)
    served.monitor.history.window = WINDOW_MS / 1000
    try:
        wait_for(
            lambda: r.xpending_range("s2", "g", "-", "+", 1)[0]["time_since_delivered"] > WINDOW_MS,
            "the held entries to be older than the window",
        )
        await served.poll()
        await served.poll()
        page = served.scrape()
    finally:
        await served.close()
        c2.stop_event.set()
        c2.join(5)
    at = {"db": "db0", "stream": "s2", "group": "g"}
    assert page.value("streamtop_stream_group_health", **at, verdict="stuck") == 1
    assert page.value("streamtop_stream_group_health", **at, verdict="idle") is None
