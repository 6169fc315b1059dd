"""A plain stream reader, as the tutorial's consumer.py: no group, XREAD BLOCK from a last ID that
it stores in the string key `reader1:lastid` after every batch, so it carries on where it stopped
after being away (or after a restart of the demo against the same server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from walrus import Database

from streamtop.pipeline.parse import text

from .base import BLOCK_MS, Worker

if TYPE_CHECKING:
    from streamtop.pipeline.connection import ConnectionSpec

    from .pubsub import AwayRun

READER = "reader1"
LASTID_KEY = "reader1:lastid"
READ_COUNT = 100


class Reader(Worker):
    """XREAD COUNT 100 BLOCK 500 STREAMS app:event <last id>; SET reader1:lastid <last id read>."""

    role = "reader"

    def __init__(self, spec: ConnectionSpec, stream: str, key: str = LASTID_KEY) -> None:
        super().__init__(READER, spec)
        self.stream = stream
        self.key = key
        self.last_id: str | None = None  # None: read it from the key first
        self.run_away: AwayRun | None = None  # while one is on

    def step(self, db: Database) -> bool:
        run = self.run_away
        if run is not None and run.away:
            self.last_id = None  # back, it starts again from what it stored
            self.state, self.detail = "away", f"stopped at {text(db.get(self.key)) or '0-0'}"
            self.stop_event.wait(0.1)
            return True
        if self.last_id is None:
            self.last_id = text(db.get(self.key)) or "0-0"
            if run is not None:
                run.reader_back = True
            self.state = "running"
        messages = db.Stream(self.stream).read(count=READ_COUNT, block=BLOCK_MS, last_id=self.last_id)
        if messages:
            ids = [text(m[0]) for m in messages]
            self.last_id = ids[-1]
            db.set(self.key, self.last_id)
            self.processed += len(ids)
            run = self.run_away  # again: one may have started while XREAD was blocked
            if run is not None:
                run.on_read(ids)
        self.detail = f"XREAD from {self.last_id} ({self.key})"
        return True
