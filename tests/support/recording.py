"""Helpers for the record-and-replay tests: a paused live workload, and JSON documents compared
with their ages turned into the moments they point to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.support.threads import verdict_workload

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


def live_workload(srv, gate: Gate):
    """Two streams: `orders` with a healthy group, a slow one, a group without consumers and one
    that holds its first entry; `audit` quiet. Every step runs under the gate's lock."""
    return verdict_workload(srv, "orders", "audit", stalled=False, slow_every=0.5, wrap=gate.wrap)


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
