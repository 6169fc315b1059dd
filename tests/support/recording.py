"""Helpers for the record-and-replay tests: a paused live workload, and JSON documents compared
with their ages turned into the moments they point to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.support.threads import Worker
from tests.support.threads import client as _client

AGES = (
    "oldest_pending_idle_ms",
    "oldest_pending_age_ms",
    "time_lag_ms",
    "last_read_ms",
    "idle_ms",
    "inactive_ms",
)


class Gate:
    """Every worker step runs under one lock: `paused()` holds it, so nothing changes the server
    while a test compares two reads of it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def wrap(self, step):
        def gated(c: redis.Redis) -> None:
            with self.lock:
                step(c)

        return gated

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self.lock:
            yield


@contextmanager
def live_workload(srv, gate: Gate) -> Iterator[list[Worker]]:
    """Two streams: `orders` with a healthy group, a slow one, a group without consumers and one
    that holds its first entry; `audit` quiet. Consumers come and go as the test runs."""
    r = _client(srv)
    r.xadd("orders", {b"n": b"0"})
    for group in (b"healthy", b"slow", b"stopped", b"failing"):
        r.xgroup_create("orders", group, id="0")
    r.xadd("audit", {b"n": b"0"})
    r.xgroup_create("audit", "done", id="$")
    r.xgroup_createconsumer("audit", "done", "c1")
    held: list[bytes] = []

    def produce(c: redis.Redis) -> None:
        c.xadd("orders", {b"n": b"1"})

    def read_all(c: redis.Redis) -> None:
        for _, entries in c.xreadgroup("healthy", "c1", {"orders": ">"}, count=1000) or []:
            c.xack("orders", "healthy", *[i for i, _ in entries])

    def read_one(c: redis.Redis) -> None:
        for _, entries in c.xreadgroup("slow", "c1", {"orders": ">"}, count=1) or []:
            c.xack("orders", "slow", *[i for i, _ in entries])

    def hold_first(c: redis.Redis) -> None:
        for _, entries in c.xreadgroup("failing", "c1", {"orders": ">"}, count=1000) or []:
            ids = [i for i, _ in entries]
            if not held:
                held.append(ids.pop(0))
            if ids:
                c.xack("orders", "failing", *ids)

    workers = [
        Worker(srv, gate.wrap(produce), 0.02),
        Worker(srv, gate.wrap(read_all), 0.05),
        Worker(srv, gate.wrap(read_one), 0.5),
        Worker(srv, gate.wrap(hold_first), 0.05),
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


def moments(doc: dict) -> dict:
    """The document with `taken_at_ms` left out and every age turned into taken_at_ms - age (the
    moment it points to): two reads of an unchanged server then agree but for clock jitter."""
    now = doc["taken_at_ms"]

    def walk(value):
        if isinstance(value, dict):
            return {
                k: (now - v if k in AGES and isinstance(v, int) and v >= 0 else walk(v))
                for k, v in value.items()
                if k != "taken_at_ms"
            }
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(doc)


def differences(live, replayed, slack_ms: int, path: str = "") -> list[str]:
    """Where two `moments` documents differ: exactly, except the ages' moments within slack_ms."""
    out: list[str] = []
    if isinstance(live, dict) and isinstance(replayed, dict):
        if live.keys() != replayed.keys():
            return [f"{path}: keys {sorted(live.keys() ^ replayed.keys())}"]
        for k in live:
            if k in AGES and isinstance(live[k], int) and isinstance(replayed[k], int):
                if abs(live[k] - replayed[k]) > slack_ms:
                    out.append(f"{path}.{k}: {live[k]} != {replayed[k]}")
            else:
                out += differences(live[k], replayed[k], slack_ms, f"{path}.{k}")
    elif isinstance(live, list) and isinstance(replayed, list):
        if len(live) != len(replayed):
            return [f"{path}: {len(live)} items != {len(replayed)}"]
        for i, (a, b) in enumerate(zip(live, replayed, strict=True)):
            out += differences(a, b, slack_ms, f"{path}[{i}]")
    elif live != replayed:
        out.append(f"{path}: {live!r} != {replayed!r}")
    return out
