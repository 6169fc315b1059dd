"""A thread that keeps doing one thing to a real server until stopped (live workloads in tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import redis


def client(srv) -> redis.Redis:
    return redis.Redis(host=srv.host, port=srv.port, protocol=2)


class Worker(threading.Thread):
    """Runs `step(client)` until stopped; `pause` seconds between steps."""

    def __init__(self, srv, step: Callable[[redis.Redis], None], pause: float) -> None:
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
