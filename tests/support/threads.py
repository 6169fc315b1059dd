"""A thread that keeps doing one thing to a real server until stopped (live workloads in tests),
the steps such threads take as a group's consumer, and a workload whose groups each earn one health
verdict (`status --window`, the dashboard, the recording tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis

Step = Callable[[redis.Redis], None]


def client(srv) -> redis.Redis:
    return redis.Redis(host=srv.host, port=srv.port, protocol=2)


class Worker(threading.Thread):
    """Runs `step(client)` until stopped; `pause` seconds between steps."""

    def __init__(self, srv, step: Step, pause: float) -> None:
        super().__init__(daemon=True)
        self.srv, self.step, self.pause = srv, step, pause
        self.stop_event = threading.Event()
        self.steps = 0

    def run(self) -> None:
        with client(self.srv) as r:
            while not self.stop_event.is_set():
                self.step(r)
                self.steps += 1
                self.stop_event.wait(self.pause)


@contextmanager
def running(*workers: Worker) -> Iterator[list[Worker]]:
    """Start the workers; on the way out stop them all, then wait for each (10 s at most)."""
    for w in workers:
        w.start()
    try:
        yield list(workers)
    finally:
        for w in workers:
            w.stop_event.set()
        for w in workers:
            w.join(10)


# ---- steps --------------------------------------------------------------------------------------


def produce(stream: str) -> Step:
    def step(c: redis.Redis) -> None:
        c.xadd(stream, {b"n": b"1"})

    return step


def read_and_ack(stream: str, group: str, count: int = 1000) -> Step:
    """Read up to `count` new entries as c1 and ack them (count=1: a slow reader)."""

    def step(c: redis.Redis) -> None:
        for _, entries in c.xreadgroup(group, "c1", {stream: ">"}, count=count) or []:
            c.xack(stream, group, *[i for i, _ in entries])

    return step


def ask_only(stream: str, group: str) -> Step:
    """Seen by the server (XREADGROUP from c1's own empty history), never takes an entry."""

    def step(c: redis.Redis) -> None:
        c.xreadgroup(group, "c1", {stream: "0"}, count=10)

    return step


def hold_first(stream: str, group: str) -> Step:
    """Read everything as c1 and ack it, except the first entry ever given: held for good."""
    held: list[bytes] = []

    def step(c: redis.Redis) -> None:
        for _, entries in c.xreadgroup(group, "c1", {stream: ">"}, count=1000) or []:
            ids = [i for i, _ in entries]
            if not held:
                held.append(ids.pop(0))
            if ids:
                c.xack(stream, group, *ids)

    return step


@contextmanager
def verdict_workload(
    srv,
    stream: str,
    quiet: str,
    *,
    stalled: bool = True,
    slow_every: float = 1.0,
    wrap: Callable[[Step], Step] = lambda step: step,
) -> Iterator[list[Worker]]:
    """`stream` gets 50 entries/s (the first worker: the producer) while its groups behave as the
    verdicts describe: `healthy` reads everything, `slow` one entry every `slow_every` s, `stalled`
    (when asked for) keeps asking but never takes one, `stopped` has no consumers, `failing` (judged
    `stuck`) acks everything but the first entry it was given. `quiet` has one caught-up group,
    `done`, with a consumer and nothing to read (idle). `wrap` wraps every step (a lock, say)."""
    r = client(srv)
    r.xadd(stream, {b"n": b"0"})
    groups = ["healthy", "slow", *(["stalled"] if stalled else []), "stopped", "failing"]
    for group in groups:
        r.xgroup_create(stream, group, id="0")
    r.xadd(quiet, {b"n": b"0"})
    r.xgroup_create(quiet, "done", id="$")
    r.xgroup_createconsumer(quiet, "done", "c1")
    steps = [
        (produce(stream), 0.02),
        (read_and_ack(stream, "healthy"), 0.05),
        (read_and_ack(stream, "slow", count=1), slow_every),
        *([(ask_only(stream, "stalled"), 0.1)] if stalled else []),
        (hold_first(stream, "failing"), 0.05),
    ]
    try:
        with running(*(Worker(srv, wrap(step), pause) for step, pause in steps)) as workers:
            yield workers
    finally:
        r.close()
