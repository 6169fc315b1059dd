"""PUBLISH/SUBSCRIBE next to the stream, to show why streams exist: the producer PUBLISHes every
event on the channel `app:event` (channels and keys are separate namespaces, so the same name
makes the point), a subscriber counts what it receives, and one key takes the subscriber, the
group consumer `audit1` and the plain stream reader offline for a while. A pub/sub subscriber
that was away has lost what was published meanwhile; the group consumer, back, carries on from
its group's position and the reader from its stored last ID, and neither misses anything.

`AwayRun` is the bookkeeping of one such absence: which IDs were published while the subscriber
was really unsubscribed and the group consumer really not reading, and which of them each side
saw afterwards.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from walrus import Database

from streamtop.pipeline.model import id_key
from streamtop.pipeline.parse import text

from .base import BLOCK_MS, Worker

if TYPE_CHECKING:
    import redis.client

    from streamtop.pipeline.connection import ConnectionSpec

    from ..events import Fields

CHANNEL = "app:event"
SUBSCRIBER = "sub1"
AWAY_SECONDS = 10.0
MAX_SEEN = 2_000_000  # IDs one run records at most (a run at 100,000 events/s)


def _id_keys(ids: list[str]) -> list[tuple[int, int]]:
    """The IDs as comparable pairs, anything that is not an ID left out (a list of one ID or none
    stays a list: `max(pair)` alone would compare the pair's two numbers)."""
    return [k for k in map(id_key, ids) if k is not None]


class AwayRun:
    """One absence of the subscriber, the group consumer and the reader, and what each saw of it
    (thread-safe)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until = time.monotonic() + seconds
        self._lock = threading.Lock()
        self.subscriber_offline = False  # set once the subscriber has really unsubscribed
        self.subscriber_back = False  # set once it has subscribed again (confirmed)
        self.consumer_offline = False  # set once the group consumer has stopped reading
        self.consumer_back = False  # set once it reads again
        self.reader_back = False
        self.published: set[str] = set()  # IDs published while both were offline
        self.seen_by_subscriber: set[str] = set()
        self.consumed: set[str] = set()  # read (and acked) by the group consumer
        self.read_by_reader: set[str] = set()
        self._last_published = (0, 0)
        self._consumer_at = (0, 0)
        self._reader_at = (0, 0)

    @property
    def away(self) -> bool:
        return time.monotonic() < self.until

    def remaining(self) -> float:
        return max(0.0, self.until - time.monotonic())

    def window_open(self) -> bool:
        """The subscriber is unsubscribed and the group consumer not reading, and neither has
        started again: what is published now reaches neither."""
        return (
            self.subscriber_offline
            and self.consumer_offline
            and not self.subscriber_back
            and not self.consumer_back
        )

    def on_published(self, ids: list[str], open_before: bool) -> None:
        """Count what was published entirely inside the window: it was open before PUBLISH (the
        subscriber had gone) and still is after (it had not begun to SUBSCRIBE again)."""
        with self._lock:
            if open_before and self.window_open():
                self.published.update(ids)
                self._last_published = max([self._last_published, *_id_keys(ids)])

    # Every ID each side sees during the run is kept, and matched against `published` when
    # counted: a reader may XREAD an entry before the producer has reported publishing it.
    def on_received(self, entry_id: str) -> None:
        with self._lock:
            if not self._settled():
                self.seen_by_subscriber.add(entry_id)

    def on_consumed(self, ids: list[str]) -> None:
        with self._lock:
            if not self._settled():
                self.consumed.update(ids)
                self._consumer_at = max([self._consumer_at, *_id_keys(ids)])

    def on_read(self, ids: list[str]) -> None:
        with self._lock:
            if not self._settled():
                self.read_by_reader.update(ids)
                self._reader_at = max([self._reader_at, *_id_keys(ids)])

    def _settled(self) -> bool:
        """Back, and the group consumer and the reader (which read in order) are past the last
        ID published while away: nothing more to record, the sets stop growing."""
        return (
            self.over
            and self._consumer_at >= self._last_published
            and self._reader_at >= self._last_published
        ) or len(self.read_by_reader) > MAX_SEEN

    def counts(self) -> AwayCounts:
        """Of what was published while away, how much each side has seen."""
        with self._lock:
            return AwayCounts(
                len(self.published),
                len(self.published & self.seen_by_subscriber),
                len(self.published & self.consumed),
                len(self.published & self.read_by_reader),
            )

    @property
    def over(self) -> bool:
        return not self.away and self.subscriber_back and self.consumer_back and self.reader_back

    def line(self) -> str:
        c = self.counts()
        n = c.published
        if not self.over:
            return f"sub1, audit1 and reader1 away ({self.remaining():.0f} s left): {n} published meanwhile"
        return (
            f"pub/sub: missed {n - c.received} of {n} published while away; "
            f"stream: caught up {c.consumed} of {n} (audit1, group audit: XREADGROUP from the "
            f"group's position); reader1 {c.read} of {n} (XREAD from reader1:lastid)"
        )


@dataclass(frozen=True)
class AwayCounts:
    """What one absence comes to: published while away, and how many of those each side saw."""

    published: int
    received: int  # by the pub/sub subscriber (0: it was not listening)
    consumed: int  # by the group consumer, after it came back
    read: int  # by the plain reader, after it came back


def payload(entry_id: str, fields: Fields) -> str:
    """What the producer PUBLISHes: the entry's ID and fields as JSON."""
    return json.dumps({"id": entry_id, **{text(k): text(v) for k, v in fields.items()}})


class Subscriber(Worker):
    """SUBSCRIBE app:event and count the messages; away: unsubscribed and disconnected."""

    role = "subscriber"

    def __init__(self, spec: ConnectionSpec, channel: str = CHANNEL) -> None:
        super().__init__(SUBSCRIBER, spec)
        self.channel = channel
        self.run_away: AwayRun | None = None
        self._pubsub: redis.client.PubSub | None = None

    def close(self) -> None:
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = None

    def step(self, db: Database) -> bool:
        run = self.run_away
        if run is not None and run.away:
            if self._pubsub is not None:
                self.close()
            run.subscriber_offline = True
            self.state, self.detail = "away", f"unsubscribed for {run.remaining():.0f} s more"
            self.stop_event.wait(0.1)
            return True
        pubsub = self._pubsub
        if pubsub is None:
            if run is not None:  # the away window closes before SUBSCRIBE: what is published
                run.subscriber_back = True  # from now on is not counted as "while away"
            pubsub = self._subscribe(db)
            self.state = "running"
        msg = pubsub.get_message(timeout=BLOCK_MS / 1000)
        if msg and msg.get("type") == "message":
            self.processed += 1
            try:
                entry_id = str(json.loads(msg["data"])["id"])
            except (ValueError, KeyError, TypeError):
                entry_id = ""
            run = self.run_away  # again: one may have started while get_message waited
            if run is not None:
                run.on_received(entry_id)
        self.detail = f"SUBSCRIBE {self.channel}: {self.processed} received"
        return True

    def _subscribe(self, db: Database) -> redis.client.PubSub:
        """SUBSCRIBE and wait for the server's confirmation, so 'back' means really listening."""
        pubsub: redis.client.PubSub = db.pubsub()
        self._pubsub = pubsub
        pubsub.subscribe(self.channel)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            msg = pubsub.get_message(timeout=0.5)
            if msg and msg.get("type") == "subscribe":
                break
        return pubsub
