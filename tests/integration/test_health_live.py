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
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from streamtop import cli
from tests.support.status_schema import assert_valid
from tests.support.threads import Worker
from tests.support.threads import client as _client

WINDOW = "3s"


@contextmanager
def workload(srv) -> Iterator[list[Worker]]:
    r = _client(srv)
    r.xadd("live", {b"n": b"0"})
    for group in (b"healthy", b"slow", b"stalled", b"stopped", b"failing"):
        r.xgroup_create("live", group, id="0")
    r.xadd("quiet", {b"n": b"0"})
    r.xgroup_create("quiet", "done", id="$")
    r.xgroup_createconsumer("quiet", "done", "c1")
    held: list[bytes] = []

    def produce(c: redis.Redis) -> None:
        c.xadd("live", {b"n": b"1"})

    def read_all(c: redis.Redis) -> None:
        for _, entries in c.xreadgroup("healthy", "c1", {"live": ">"}, count=1000) or []:
            c.xack("live", "healthy", *[i for i, _ in entries])

    def read_one(c: redis.Redis) -> None:
        for _, entries in c.xreadgroup("slow", "c1", {"live": ">"}, count=1) or []:
            c.xack("live", "slow", *[i for i, _ in entries])

    def ask_only(c: redis.Redis) -> None:  # seen by the server, never takes an entry
        c.xreadgroup("stalled", "c1", {"live": "0"}, count=10)

    def read_but_hold_first(c: redis.Redis) -> None:
        for _, entries in c.xreadgroup("failing", "c1", {"live": ">"}, count=1000) or []:
            ids = [i for i, _ in entries]
            if not held:
                held.append(ids.pop(0))
            if ids:
                c.xack("live", "failing", *ids)

    workers = [
        Worker(srv, produce, 0.02),
        Worker(srv, read_all, 0.05),
        Worker(srv, read_one, 1.0),
        Worker(srv, ask_only, 0.1),
        Worker(srv, read_but_hold_first, 0.05),
    ]
    for w in workers:
        w.start()
    try:
        yield workers
    finally:
        for w in workers:
            w.stop_event.set()
        for w in workers:
            w.join(10)
        r.close()


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

    w = Worker(server, produce_and_read, 0.05)
    w.start()
    try:
        code, doc = status_json(capsys, server, "--window", "1s", "--health")
    finally:
        w.stop_event.set()
        w.join(10)
    [g] = doc["streams"][0]["groups"]
    assert (code, doc["ok"], g["health"]) == (0, True, "ok"), g["health_reason"]
    code, doc = status_json(capsys, server, "--health")  # one poll of a caught-up group
    assert code == 0 and doc["polls_in_window"] == 1
