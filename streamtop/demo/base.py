"""What every demo worker shares: a walrus client whose socket timeout outlasts its BLOCK, a
thread with a stop Event and counters, and the panel's view of it (`WorkerState`).

Kept apart from workload.py so the pub/sub subscriber and the plain reader (their own modules)
build on it without importing the controller that starts them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import redis
from walrus import Database

from streamtop.pipeline.connection import REDIS_ERRORS, ConnectionSpec, _name_connection_sync, describe_error

BLOCK_MS = 500  # XREADGROUP / XREAD BLOCK: also the longest a clean stop waits for a worker
SOCKET_SLACK = 10.0  # seconds a blocking connection's socket timeout adds to its BLOCK


def make_db(spec: ConnectionSpec, name: str, block_ms: int | None = BLOCK_MS) -> Database:
    """A walrus Database (bytes replies, RESP2) whose socket timeout outlasts its BLOCK: with
    redis-py's own default a BLOCK longer than the timeout dies with TimeoutError. Named as the
    rest of streamtop names its connections, best effort: a user without CLIENT SETNAME (an ACL
    without +client) gets unnamed connections, not a refusal to connect."""
    kw = spec.client_kwargs(None if block_ms is None else block_ms / 1000 + SOCKET_SLACK)
    kw["retry"] = None
    kw["client_name"] = f"streamtop-demo-{name}"
    kw["redis_connect_func"] = _name_connection_sync
    return Database(script_dir=False, **kw)


@dataclass(frozen=True)
class WorkerState:
    """What the panel shows for one worker."""

    name: str
    role: str  # producer | consumer | analytics | subscriber | reader
    group: str | None
    state: str  # running | paused | away | stopping | stopped | crashed | error
    processed: int
    failed: int
    detail: str = ""
    retried: int = 0
    dead_lettered: int = 0


class ProcessingError(Exception):
    """Raised for a reading over the threshold, as the tutorial's consumer does."""


class Worker(threading.Thread):
    """A daemon thread with a stop Event, counters and an error state it recovers from.

    `on_missing(group)` is called when the server says NOGROUP (a group destroyed or the stream
    deleted by hand): the controller recreates what is missing instead of the worker looping on
    the error."""

    role = "worker"
    group: str | None = None

    def __init__(self, name: str, spec: ConnectionSpec) -> None:
        super().__init__(name=f"streamtop-demo-{name}", daemon=True)
        self.worker_name = name
        self.spec = spec
        self.stop_event = threading.Event()
        self.state = "running"
        self.processed = 0
        self.failed = 0
        self.retried = 0
        self.dead_lettered = 0
        self.detail = ""
        self.on_missing: Callable[[str], bool] | None = None

    def snapshot(self) -> WorkerState:
        return WorkerState(
            self.worker_name,
            self.role,
            self.group,
            self.state,
            self.processed,
            self.failed,
            self.detail,
            self.retried,
            self.dead_lettered,
        )

    def stop(self) -> None:
        if self.state in ("running", "paused", "away", "error"):
            self.state = "stopping"
        self.stop_event.set()

    def run(self) -> None:
        db = make_db(self.spec, self.worker_name)
        try:
            while not self.stop_event.is_set():
                try:
                    if not self.step(db):
                        break
                    if self.state == "error":
                        self.state, self.detail = "running", ""
                except redis.ResponseError as exc:
                    if (
                        str(exc).startswith("NOGROUP")
                        and self.group
                        and self.on_missing is not None
                        and self.on_missing(self.group)
                    ):
                        continue  # recreated: read again at once
                    self.state, self.detail = "error", describe_error(exc, self.spec)
                    self.stop_event.wait(1.0)
                except REDIS_ERRORS as exc:  # server gone...: retry
                    self.state, self.detail = "error", describe_error(exc, self.spec)
                    self.stop_event.wait(1.0)
        finally:
            self.close()
            db.close()
            if self.state != "crashed":
                self.state = "stopped"

    def close(self) -> None:
        """Release what the worker holds besides its Database (subclasses)."""

    def step(self, db: Database) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError
