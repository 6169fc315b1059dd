"""Health verdicts on a real server with a live producer thread, through `status --window`.

One stream gets entries from a producer thread while five groups behave as the verdicts describe:
`healthy` reads everything, `slow` reads one entry a second, `stalled` has a consumer that keeps
asking (XREADGROUP from its own empty history, so it is seen) but never takes new entries,
`stopped` has no consumers, `failing` (judged `stuck`) reads and acknowledges everything except
the first entry it was given. A second stream with nothing added and nothing to read is `idle`.

The rates are far apart (50 entries/s in, 1/s read by `slow`), so each verdict holds whatever the
scheduling of the threads on a loaded machine; nothing here waits for a time to pass or asserts one.
"""

from __future__ import annotations

import json

import pytest
import redis

from streamtop import cli
from tests.support.status_schema import assert_valid
from tests.support.threads import Worker, running, verdict_workload
from tests.support.threads import client as _client

WINDOW = "3s"


def workload(srv):
    return verdict_workload(srv, "live", "quiet")


def status_json(capsys, srv, *argv: str) -> tuple[int, dict]:
    code = cli.main(["status", "--url", srv.url, "--json", *argv])
    out, err = capsys.readouterr()
    assert err == ""
    doc = json.loads(out)
    assert_valid(doc)  # the new fields are in the shipped JSON Schema
    return code, doc


def verdicts(doc: dict) -> dict[tuple[str, str], dict]:
    return {(s["key"], g["name"]): g for s in doc["streams"] for g in s["groups"]}


@pytest.mark.slow
def test_status_window_judges_each_group(capsys, any_server):
    with workload(any_server):
        code, doc = status_json(capsys, any_server, "--window", WINDOW, "--health")
    groups = verdicts(doc)
    got = {name: g["health"] for (_, name), g in groups.items()}
    assert got == {
        "healthy": "ok",
        "slow": "falling_behind",
        "stalled": "stalled",
        "stopped": "stopped",
        "failing": "stuck",
        "done": "idle",
    }, {name: g["health_reason"] for (_, name), g in groups.items()}
    assert code == 2 and doc["health_ok"] is False and doc["ok"] is False
    assert doc["window_ms"] == 3000 and doc["polls_in_window"] >= 3
    slow, stopped = groups[("live", "slow")], groups[("live", "stopped")]
    assert slow["add_rate"] > slow["read_rate"] >= 0 and slow["eta_s"] is None
    assert "falling behind by" in slow["health_reason"]
    assert stopped["health_reason"].endswith("and the group has no consumers")
    assert stopped["time_lag_ms"] >= 3000  # its first entry was added before the window began
    assert groups[("live", "failing")]["oldest_pending_age_ms"] >= 3000
    assert groups[("quiet", "done")]["time_lag_ms"] == 0


@pytest.mark.slow
def test_health_exit_0_when_every_group_is_ok_or_idle(capsys, server):
    r = _client(server)
    r.xadd("s", {b"n": b"0"})
    r.xgroup_create("s", "g", id="$")
    r.close()

    def produce_and_read(c: redis.Redis) -> None:
        c.xadd("s", {b"n": b"1"})
        for _, entries in c.xreadgroup("g", "c1", {"s": ">"}, count=100) or []:
            c.xack("s", "g", *[i for i, _ in entries])

    with running(Worker(server, produce_and_read, 0.05)):
        code, doc = status_json(capsys, server, "--window", "1s", "--health")
    [g] = doc["streams"][0]["groups"]
    assert (code, doc["ok"], g["health"]) == (0, True, "ok"), g["health_reason"]
    code, doc = status_json(capsys, server, "--health")  # one poll of a caught-up group
    assert code == 0 and doc["polls_in_window"] == 1
