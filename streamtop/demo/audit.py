"""The stream consumer that F8 takes away with the pub/sub subscriber: `audit1`, the only consumer
of group `audit`, which must see every event (an audit log, the opposite of a best-effort
notification). Away, it does not read at all; back, it catches up from its group's position, as
the tutorial's consumergroup.py does after a restart: first its own pending entries (XREADGROUP
... 0: delivered to it but never acked), then what the group has not been delivered yet (`>`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from walrus import Database

from streamtop.pipeline.connection import ConnectionSpec
from streamtop.pipeline.parse import text

from .base import BLOCK_MS, Worker

if TYPE_CHECKING:
    from .pubsub import AwayRun

AUDIT_GROUP = "audit"
AUDIT_CONSUMER = "audit1"
READ_COUNT = 100


class AuditConsumer(Worker):
    """XREADGROUP GROUP audit audit1 COUNT 100 BLOCK 500 STREAMS app:event > ; XACK each batch."""

    role = "audit"
    group = AUDIT_GROUP

    def __init__(self, spec: ConnectionSpec, stream: str) -> None:
        super().__init__(AUDIT_CONSUMER, spec)
        self.stream = stream
        self.run_away: AwayRun | None = None  # while one is on
        self.own_pending_first = True  # (re)started: read its own pending entries (ID 0) first

    def step(self, db: Database) -> bool:
        run = self.run_away
        if run is not None and run.away:
            run.consumer_offline = True  # no XREADGROUP from here until it is back
            self.own_pending_first = True
            self.state, self.detail = "away", "not reading: its group keeps its position"
            self.stop_event.wait(0.1)
            return True
        stream = db.consumer_group(AUDIT_GROUP, [self.stream], consumer=self.worker_name).streams[self.stream]
        if self.own_pending_first:
            if run is not None and run.consumer_offline:
                run.consumer_back = True
            self.state = "running"
            messages = stream.read(count=READ_COUNT, last_id="0")  # its own pending, oldest first
            if not messages:
                self.own_pending_first = False
            how = "XREADGROUP ... 0 (its own pending)"
        else:
            messages = stream.read(count=READ_COUNT, block=BLOCK_MS)
            how = "XREADGROUP ... > (from the group's position)"
        if messages:
            ids = [m[0] for m in messages]
            stream.ack(*ids)
            self.processed += len(ids)
            run = self.run_away  # again: one may have started while XREADGROUP was blocked
            if run is not None:
                run.on_consumed([text(i) for i in ids])
        self.detail = how
        return True
