"""The demo workload, as in the classic walrus tutorial: sensors producing to `app:event`, group
`group1` sharing the work (temp above a threshold fails and stays pending), and a slower
`analytics` group reading from `0` so lag shows.

Workers are threads with their own walrus `Database` (a bytes client, protocol 2: the only mode in
which walrus 0.9.8 works, see SERVERS.md), each stopped through an Event so a stop never leaves a
half-done batch unacked. The `DemoController` is what the CLI and the demo panel drive.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from walrus import Database

from streamtop.pipeline.connection import REDIS_ERRORS, ConnectionSpec, describe_error
from streamtop.pipeline.parse import text

from .. import numbers
from ..commandlog import CommandLog
from ..events import SENSORS, sensor_event
from ..options import DASHBOARD_DEFAULTS
from .audit import AUDIT_CONSUMER, AUDIT_GROUP, AuditConsumer
from .base import BLOCK_MS, ProcessingError, Worker, WorkerState, make_db
from .lessons import ADD_MAXLEN, LessonTracker
from .pubsub import AWAY_SECONDS, CHANNEL, AwayRun, Subscriber, payload
from .reader import LASTID_KEY, Reader

if TYPE_CHECKING:
    from walrus.containers import ConsumerGroupStream

    from ..actions import Actions

__all__ = ["BLOCK_MS", "ProcessingError", "Worker", "WorkerState", "make_db", "DemoController"]

STREAM = "app:event"
GROUP = "group1"
ANALYTICS = "analytics"
ANALYTICS_CONSUMER = "a1"
MAX_RATE = float(numbers.DEMO_RATE.hi)  # one bound, in numbers.py
MIN_STEP_RATE = 0.1  # the panel's "slower" key stops here; lower rates are still accepted
ANALYTICS_SHARE = 0.6  # analytics handles this share of the producer's rate, so its lag grows
ANALYTICS_TICK = 0.5  # seconds between analytics reads
READ_COUNT = 100
DLQ = "app:event:dlq"  # where group1's consumers move what keeps failing (dead-letter format)
STUCK_MS = 5_000  # a pending entry idle this long is retried (and shown as stuck by the demo)
RETRY_EVERY = 3.0  # seconds between one consumer's XAUTOCLAIM rounds
RETRY_COUNT = 50  # entries one consumer claims per round (3 consumers: up to 50/s retried)
# poison: delivered more than this many times (the dashboard's --poison-deliveries, one default in
# options.py); a poison entry that fails again goes to the DLQ
POISON_DELIVERIES = DASHBOARD_DEFAULTS.poison_deliveries
RETRY_SUCCESS = 0.5  # the chance that a transient failure succeeds when retried
POISON_ABOVE = 0.95  # readings hotter than this always fail (poison); so does a malformed event
ADDED_KEPT = 20_000  # IDs the producer remembers (a few minutes at the default rate)
WORK_SECONDS = 0.15  # at most this long "processing" a batch: acks of parallel consumers interleave


def check_rate(rate: float) -> float:
    """0 < rate <= 100,000 events/s, or ValueError naming the limit."""
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"rate {rate!r} is not a number") from None
    if not value > 0 or value != value:
        raise ValueError(f"rate {rate} must be more than 0 events/s (pause the producer instead)")
    if value > MAX_RATE:
        raise ValueError(f"rate {rate} is over the limit of {MAX_RATE:,.0f} events/s")
    return value


class Producer(Worker):
    """sensor1..3 in turn, `rate` events/s; many per round trip when the rate is high."""

    role = "producer"

    def __init__(
        self,
        spec: ConnectionSpec,
        rate: float,
        maxlen: int | None,
        stream: str = STREAM,
        seed: int | None = None,
    ) -> None:
        super().__init__("producer", spec)
        self.stream = stream
        self.rate = check_rate(rate)
        self.maxlen = maxlen
        self.approximate = False  # XADD MAXLEN ~ (whole nodes) rather than = (lesson 11's m)
        self.paused = threading.Event()
        self.rng = random.Random(seed)
        self._sensors = itertools.cycle(SENSORS)
        self._t0 = time.monotonic()
        self._sent = 0
        self.channel: str | None = CHANNEL  # PUBLISH each event here too (None: do not)
        self.published = 0
        self.away_run: AwayRun | None = None  # the subscriber's absence being counted, if any
        # the IDs it added, newest last: the lessons tell the learner's entries from these
        self.added_ids: deque[str] = deque(maxlen=ADDED_KEPT)

    def set_rate(self, rate: float) -> None:
        self.rate = check_rate(rate)
        self._restart_clock()

    def pause(self) -> None:
        self.paused.set()
        if self.state == "running":
            self.state = "paused"

    def resume(self) -> None:
        self.paused.clear()
        self._restart_clock()
        if self.state == "paused":
            self.state = "running"

    def _restart_clock(self) -> None:
        self._t0, self._sent = time.monotonic(), 0

    def step(self, db: Database) -> bool:
        if self.paused.is_set():
            self.state = "paused"
            self.stop_event.wait(0.1)
            return True
        rate = self.rate
        due = int((time.monotonic() - self._t0) * rate) - self._sent
        if due <= 0:
            self.stop_event.wait(min(0.1, 1.0 / rate))
            return True
        if due > max(1.0, rate / 2):  # fell behind (slow server): skip the debt, don't burst
            self._restart_clock()
            due = max(1, int(rate / 10))
        events = [sensor_event(self.rng, next(self._sensors)) for _ in range(due)]
        if len(events) == 1:  # the tutorial's way
            ids = [db.Stream(self.stream).add(events[0], maxlen=self.maxlen, approximate=self.approximate)]
        else:
            pipe = db.pipeline(transaction=False)
            for ev in events:
                pipe.xadd(self.stream, ev, maxlen=self.maxlen, approximate=self.approximate)
            ids = pipe.execute()
        self.added_ids.extend(text(i) for i in ids)
        self._sent += due
        self.processed += due
        if self.channel is not None:
            self.publish(db, [text(i) for i in ids], events)
        return True

    def publish(self, db: Database, ids: list[str], events: list[dict[str, str]]) -> None:
        """The same events on the pub/sub channel (with their stream IDs, to compare)."""
        run = self.away_run
        open_before = run is not None and run.window_open()
        if len(ids) == 1:
            db.publish(self.channel, payload(ids[0], events[0]))
        else:
            pipe = db.pipeline(transaction=False)
            for i, ev in zip(ids, events, strict=True):
                pipe.publish(self.channel, payload(i, ev))
            pipe.execute()
        self.published += len(ids)
        if run is not None:
            run.on_published(ids, open_before)


@dataclass
class Lifecycle:
    """How group1's consumers fail, retry and give up; shared by all of them and changed live."""

    fail_above: float = 0.7  # a first delivery of a hotter reading fails
    poison_above: float = POISON_ABOVE  # ... and a retry of one hotter than this fails too
    retry_success: float = RETRY_SUCCESS  # a retry of the others succeeds with this chance
    stuck_ms: int = STUCK_MS  # XAUTOCLAIM's min idle time
    retry_every: float | None = RETRY_EVERY  # None: no retries (failures stay pending)
    poison_deliveries: int = POISON_DELIVERIES  # a failure after more deliveries than this: to the DLQ
    dlq: str = DLQ
    work_seconds: float = WORK_SECONDS


class Consumer(Worker):
    """A group1 consumer, the whole life cycle of the tutorial:

    - read new entries with BLOCK and ack what it processed; a first delivery of a reading over
      `fail_above` fails and the entry stays pending (the PEL is the dead-letter queue of
      record);
    - every `retry_every` seconds, XAUTOCLAIM up to RETRY_COUNT entries idle over `stuck_ms`
      (its own failures, or a crashed consumer's), from where its last round's cursor stopped (so
      the rounds walk the whole PEL instead of re-taking its oldest entries), and process them
      again: a transient failure
      succeeds with `retry_success` and is acked; a poison one (hotter than `poison_above`, or
      not a sensor event) always fails;
    - a failure of an entry delivered more than `poison_deliveries` times (what the dashboard marks
      poison) moves the entry to the DLQ stream with the dead-letter action (same format as the
      dashboard's `D`) and acks it.
    `crash()` makes it read one more batch and die without acking it."""

    role = "consumer"
    group = GROUP

    def __init__(
        self, spec: ConnectionSpec, name: str, life: Lifecycle, stream: str = STREAM, seed: int | None = None
    ) -> None:
        super().__init__(name, spec)
        self.stream = stream
        self.life = life
        self.crash_event = threading.Event()
        self.abandoned = 0
        self.rng = random.Random(seed if seed is None else f"{seed}-{name}")
        every = life.retry_every or 0.0
        self._next_retry = time.monotonic() + self.rng.uniform(0, every)  # staggered
        self._loop: asyncio.AbstractEventLoop | None = None
        self._actions: Actions | None = None
        self.retry_cursor = "0-0"  # where the next XAUTOCLAIM round starts (0-0 again after a wrap)

    def crash(self) -> None:
        """The next step (or the batch in hand) is abandoned unacked, then the thread ends."""
        self.crash_event.set()

    def step(self, db: Database) -> bool:
        cg = db.consumer_group(GROUP, [self.stream], consumer=self.worker_name)
        stream = cg.streams[self.stream]
        if self.crash_event.is_set():
            # dies mid-batch: whatever it read now stays pending under its name
            self.abandoned = len(stream.read(count=10, block=None))
            self.state = "crashed"
            self.detail = (
                f"died with {self.abandoned} entries read, unacked"
                if self.abandoned
                else "died without acking"
            )
            return False
        every = self.life.retry_every
        if every and time.monotonic() >= self._next_retry:
            self._next_retry = time.monotonic() + every
            self.retry(db, stream)
        self.handle(stream, stream.read(count=READ_COUNT, block=BLOCK_MS), {})
        if self.crash_event.is_set():
            self.state = "crashed"
            self.detail = "died without acking its last batch"
            return False
        return True

    def retry(self, db: Database, stream: ConsumerGroupStream) -> None:
        """XAUTOCLAIM what has been idle over the stuck threshold, and process it again."""
        reply = stream.autoclaim(self.worker_name, self.life.stuck_ms, self.retry_cursor, count=RETRY_COUNT)
        cursor = reply[0] if reply else b"0-0"
        self.retry_cursor = cursor.decode() if isinstance(cursor, bytes) else str(cursor or "0-0")
        claimed = [(i, d) for i, d in (reply[1] if len(reply) > 1 else []) if i is not None]
        if not claimed:
            return
        pipe = db.pipeline(transaction=False)
        for msg_id, _ in claimed:
            pipe.xpending_range(self.stream, GROUP, min=msg_id, max=msg_id, count=1)
        deliveries = {}
        for rows in pipe.execute():
            for row in rows:
                deliveries[row["message_id"]] = int(row["times_delivered"])
        self.retried += len(claimed)
        self.handle(stream, claimed, deliveries)

    def handle(
        self,
        stream: ConsumerGroupStream,
        messages: list[tuple[bytes, dict[bytes, bytes]]],
        deliveries: dict[bytes, int],
    ) -> None:
        """Process a batch; ack what worked, dead-letter what failed for the last time."""
        done, dead = [], []
        for msg_id, data in messages:
            if self.crash_event.is_set():
                break
            n = deliveries.get(msg_id, 1)
            try:
                self.process(data, n)
            except (ProcessingError, ValueError, KeyError, TypeError):  # not a sensor event: poison
                self.failed += 1  # no ack: it stays in the PEL, to be retried
                if n > self.life.poison_deliveries:  # poison, as the dashboard marks it
                    dead.append(text(msg_id))
                continue
            done.append(msg_id)
        if messages and self.life.work_seconds:
            self.stop_event.wait(self.rng.uniform(0, self.life.work_seconds))
        if self.crash_event.is_set():
            return
        if done:
            stream.ack(*done)
            self.processed += len(done)
        if dead:
            self.dead_lettered += self.dead_letter(dead)

    def process(self, data: dict[bytes, bytes] | None, deliveries: int = 1) -> None:
        if data is None:
            raise KeyError("the entry was deleted while pending")
        temp = float(data[b"temp"])
        life = self.life
        if temp <= life.fail_above:
            return
        if deliveries <= 1:
            raise ProcessingError(f"temp {temp} over {life.fail_above}")
        if temp > max(life.poison_above, life.fail_above):
            raise ProcessingError(f"temp {temp}: poison, fails every time")
        if self.rng.random() >= life.retry_success:
            raise ProcessingError(f"temp {temp} over {life.fail_above}, failed again")

    def dead_letter(self, ids: list[str]) -> int:
        """Move the entries to the DLQ and ack them, with the dashboard's dead-letter action (one
        MULTI/EXEC per entry, the same fields), on an asyncio client of this thread's own."""
        from streamtop.pipeline.model import ServerInfo

        from ..actions import Actions

        if self._loop is None or self._actions is None:
            self._loop = asyncio.new_event_loop()
            self._actions = Actions(self.spec.make_client(raw=True), ServerInfo())
        result = self._loop.run_until_complete(
            self._actions.dead_letter(self.stream, GROUP, ids=ids, dlq_key=self.life.dlq)
        )
        if not result.ok:
            raise redis.RedisError(result.message)
        return len(result.moved)

    def close(self) -> None:
        if self._loop is not None and self._actions is not None:
            self._loop.run_until_complete(self._actions.client.aclose())
            self._loop.close()
            self._loop = None

    def run(self) -> None:
        super().run()
        if self.crash_event.is_set():
            self.state = "crashed"


class Analytics(Worker):
    """The `analytics` group's consumer, reading from `0` at a share of the producer's rate."""

    role = "analytics"
    group = ANALYTICS

    def __init__(self, spec: ConnectionSpec, rate: Callable[[], float], stream: str = STREAM) -> None:
        super().__init__(ANALYTICS_CONSUMER, spec)
        self.stream = stream
        self.rate = rate

    def step(self, db: Database) -> bool:
        count = max(1, round(self.rate() * ANALYTICS_SHARE * ANALYTICS_TICK))
        cg = db.consumer_group(ANALYTICS, {self.stream: "0"}, consumer=self.worker_name)
        stream = cg.streams[self.stream]
        messages = stream.read(count=count, block=BLOCK_MS)
        if messages:
            stream.ack(*[m[0] for m in messages])
            self.processed += len(messages)
            self.stop_event.wait(ANALYTICS_TICK)
        return True


class DemoController:
    """Starts and stops the workload and answers the panel: worker states and a guide line."""

    def __init__(
        self,
        spec: ConnectionSpec,
        *,
        rate: float = 5.0,
        fail_above: float = 0.7,
        maxlen: int | None = None,
        stream: str = STREAM,
        consumers: int = 3,
        seed: int | None = None,
        stuck_ms: int = STUCK_MS,
        poison_deliveries: int = POISON_DELIVERIES,
        retry_every: float | None = RETRY_EVERY,
        retry_success: float = RETRY_SUCCESS,
        poison_above: float = POISON_ABOVE,
        work_seconds: float = WORK_SECONDS,
        dlq: str = DLQ,
    ) -> None:
        self.spec = spec
        self.stream = stream
        self.group = GROUP
        self.seed = seed
        self.life = Lifecycle(
            fail_above=fail_above,
            poison_above=poison_above,
            retry_success=retry_success,
            stuck_ms=stuck_ms,
            retry_every=retry_every,
            poison_deliveries=poison_deliveries,
            dlq=dlq,
            work_seconds=work_seconds,
        )
        self.maxlen = maxlen
        self.producer = Producer(spec, rate, maxlen, stream, seed)
        self.consumers: dict[str, Consumer] = {}
        self.analytics = Analytics(spec, lambda: self.producer.rate, stream)
        self.subscriber = Subscriber(spec, CHANNEL)
        self.audit = AuditConsumer(spec, stream)
        self.reader = Reader(spec, stream, LASTID_KEY)
        self.away_run: AwayRun | None = None
        self.away_seconds = AWAY_SECONDS  # what F8 takes them away for
        self._initial = consumers
        self._initial_names: set[str] = set()
        self.command_log = CommandLog()  # what streamtop sends for the learner (ui: L, --log FILE)
        self._recreate_lock = threading.Lock()
        self.lessons = LessonTracker(self)
        self.observe_every = 1.0  # seconds between the observer's rounds (pending, lessons)
        self.recreated: dict[str, int] = {}  # group -> times the workload created it again
        self.analytics.on_missing = self.recreate
        self.audit.on_missing = self.recreate
        self._next = 1
        self._lock = threading.Lock()
        self.pending_by_consumer: dict[str, int] = {}
        self.group_pending = 0
        self.last_event: tuple[str, str] = ("start", "")
        self._crash_peak: dict[str, int] = {}
        self._observer: threading.Thread | None = None
        self._stop = threading.Event()
        self.started = False

    @property
    def rate(self) -> float:
        return self.producer.rate

    @property
    def fail_above(self) -> float:
        return self.life.fail_above

    @property
    def dlq(self) -> str:
        return self.life.dlq

    # --- life cycle -------------------------------------------------------------------------
    def setup(self) -> None:
        """Create the groups with walrus (group1 and audit from new entries, analytics from 0).
        Raises redis errors (connection refused...) for the caller to report."""
        db = make_db(self.spec, "setup", None)
        try:
            db.consumer_group(GROUP, [self.stream]).create()
            db.consumer_group(ANALYTICS, {self.stream: "0"}).create()
            db.consumer_group(AUDIT_GROUP, [self.stream]).create()
        finally:
            db.close()

    def recreate(self, group: str) -> bool:
        """A worker hit NOGROUP: group1 or analytics was destroyed, or the stream deleted, by
        hand. Create the group again (XGROUP CREATE ... $ MKSTREAM: new entries only, as a group
        made now would) and say so in the guide; True when the group exists again."""
        with self._recreate_lock:
            if self._stop.is_set():
                return False
            db = make_db(self.spec, "setup", None)
            try:
                db.xgroup_create(self.stream, group, "$", mkstream=True)
            except redis.ResponseError as exc:
                if str(exc).startswith("BUSYGROUP"):  # another worker of the group was first
                    return True
                raise
            finally:
                db.close()
            self.recreated[group] = self.recreated.get(group, 0) + 1
            self.last_event = ("recreated", group)
            return True

    def start(self) -> None:
        self.setup()
        self.started = True
        for _ in range(self._initial):
            self.add_consumer(record=False)
        self.subscriber.start()
        self.audit.start()
        self.reader.start()
        self.producer.start()
        self.analytics.start()
        self._observer = threading.Thread(target=self._observe, name="streamtop-demo-observer", daemon=True)
        self._observer.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop every worker cleanly (each finishes and acks its batch) and wait for them."""
        self._stop.set()
        workers = self.all_workers()
        for w in workers:
            if w.is_alive():
                w.stop()
        deadline = time.monotonic() + timeout
        for w in workers:
            if w.is_alive():
                w.join(max(0.0, deadline - time.monotonic()))
        if self._observer is not None:
            self._observer.join(max(0.1, deadline - time.monotonic()))

    def cleanup(self) -> None:
        """Delete what the demo writes: the stream (and its groups with it), the dead-letter
        stream and reader1's stored position. Only asked for by --cleanup."""
        db = make_db(self.spec, "cleanup", None)
        try:
            db.delete(self.stream, self.dlq, LASTID_KEY)
        finally:
            db.close()

    def all_workers(self) -> list[Worker]:
        with self._lock:
            return [
                self.producer,
                *self.consumers.values(),
                self.analytics,
                self.audit,
                self.reader,
                self.subscriber,
            ]

    def workers(self) -> list[WorkerState]:
        return [w.snapshot() for w in self.all_workers()]

    # --- what the panel's keys do -----------------------------------------------------------
    def pause_producer(self) -> None:
        self.producer.pause()
        self.last_event = ("pause", "")

    def resume_producer(self) -> None:
        self.producer.resume()
        self.last_event = ("resume", "")

    def toggle_producer(self) -> bool:
        """F2: pause or resume; True if the producer now runs."""
        if self.producer.paused.is_set():
            self.resume_producer()
            self._learner("resume", "", "F2: the producer resumes its XADDs")
            return True
        self.pause_producer()
        self._learner("pause", "", "F2: the producer paused: no XADD until F2 again")
        return False

    def _learner(self, kind: str, name: str, note: str) -> None:
        """A demo key the learner pressed: for the lessons (done), and a note in the log."""
        self.lessons.act(kind, name)
        self.command_log.note(note)

    def set_rate(self, rate: float) -> float:
        self.producer.set_rate(rate)
        self.last_event = ("rate", "")
        self.command_log.note(f"F3/F4: the producer adds {self.producer.rate:g} events/s")
        return self.producer.rate

    def set_fail_above(self, threshold: float) -> None:
        self.life.fail_above = float(threshold)
        self.last_event = ("threshold", "")

    def go_away(self, seconds: float | None = None) -> AwayRun:
        """Take the pub/sub subscriber, the group consumer audit1 and the plain stream reader
        offline for `seconds`; when they are back, `comparison()` says what each missed of what
        was published meanwhile."""
        if not self.started or self._stop.is_set():
            raise ValueError("the demo workload is not running")
        if self.away_run is not None and not self.away_run.over:
            raise ValueError("sub1, audit1 and reader1 are away already")
        seconds = self.away_seconds if seconds is None else seconds
        if not seconds > 0:
            raise ValueError("away for how long? more than 0 s")
        run = AwayRun(seconds)
        self.away_run = run
        self.subscriber.run_away = run
        self.producer.away_run = run
        self.reader.run_away = run
        self.audit.run_away = run
        self.last_event = ("away", f"{seconds:g}")
        self._learner("away", "", f"F8: sub1 UNSUBSCRIBEs, audit1 and reader1 stop reading for {seconds:g} s")
        return run

    def set_add_maxlen(self, maxlen: int | None) -> None:
        """The producer adds with XADD MAXLEN ~ `maxlen` from now on (None: back to the demo's
        --maxlen, exact, or no trimming)."""
        if maxlen is None:
            self.producer.maxlen, self.producer.approximate = self.maxlen, False
        else:
            self.producer.maxlen, self.producer.approximate = numbers.DEMO_MAXLEN.parse(maxlen), True
        self.last_event = ("maxlen", "")

    def toggle_add_maxlen(self, maxlen: int = ADD_MAXLEN) -> tuple[bool, str]:
        """Lesson 11's `m`: the preview of what XADD MAXLEN ~ would remove (y turns it on,
        `confirm_add_maxlen`), or off again at once."""
        if self.producer.approximate:
            self.set_add_maxlen(None)
            self._learner("maxlen_off", "", f"m: the producer adds to {self.stream} without MAXLEN ~")
            return True, f"the producer adds to {self.stream} without MAXLEN ~ again"
        try:
            lines = self.lessons.trim_preview("MAXLEN", maxlen, True)
        except REDIS_ERRORS as exc:
            return False, describe_error(exc, self.spec)
        self.lessons.confirming = ("maxlen", maxlen)
        return True, "\n".join(
            [*lines, f"y: the producer adds with XADD {self.stream} MAXLEN ~ {maxlen} * ... · esc: cancel"]
        )

    def confirm_add_maxlen(self, maxlen: int) -> tuple[bool, str]:
        self.set_add_maxlen(maxlen)
        self._learner(
            "maxlen_on", "", f"m: the producer adds with XADD {self.stream} MAXLEN ~ {maxlen} * ..."
        )
        return True, (
            f"the producer now adds with XADD {self.stream} MAXLEN ~ {maxlen} * ...: "
            f"the length stays between {maxlen} and about {maxlen + 100} (m again: off)"
        )

    # --- the lessons view's calls: it makes no Redis call of its own (ui/lessons.py) -------
    def lessons_done(self) -> frozenset[int]:
        """The lessons the learner's own actions made happen, as the server shows."""
        return frozenset(self.lessons.ticked)

    def lessons_seen(self) -> frozenset[int]:
        """The lessons the server has shown so far, whoever caused them."""
        return frozenset(self.lessons.seen)

    def lesson_confirming(self) -> bool:
        """A previewed step waits for y (lesson 11)."""
        return self.lessons.confirming is not None

    def workload_ids(self) -> frozenset[str]:
        """The IDs the producer added (recent ones)."""
        return frozenset(list(self.producer.added_ids))

    def initial_consumers(self) -> frozenset[str]:
        """The group1 consumers the workload started with (not F5's)."""
        return frozenset(self._initial_names)

    def lesson_last_id(self) -> str:
        """The stream's last ID ('0-1' when empty or unreachable): lesson 2's field starts there."""
        return self.lessons.last_id()

    def run_lesson_step(self, step: str, value: str | None = None) -> tuple[bool, str]:
        """A lesson's step (`r`, `m`, or enter in lesson 2's field): (ok, what to show)."""
        if step == "maxlen":
            return self.toggle_add_maxlen()
        waiting = self.lessons.confirming
        if step == "confirm" and waiting is not None and waiting[0] == "maxlen":
            self.lessons.confirming = None
            return self.confirm_add_maxlen(waiting[1])
        return self.lessons.run_step(step, value)

    def comparison(self) -> str:
        """The pub/sub vs stream line of the last absence ('' before the first)."""
        run = self.away_run
        return run.line() if run is not None else ""

    def add_consumer(self, name: str | None = None, *, record: bool = True) -> str:
        """A new group1 consumer (c4, c5...), or one of that name again after it stopped."""
        if not self.started or self._stop.is_set():
            raise ValueError("the demo workload is not running")
        with self._lock:
            if name is None:
                while f"c{self._next}" in self.consumers:
                    self._next += 1
                name = f"c{self._next}"
            old = self.consumers.get(name)
            if old is not None and old.is_alive():
                raise ValueError(f"{name} is already running")
            worker = Consumer(self.spec, name, self.life, self.stream, self.seed)
            worker.on_missing = self.recreate
            self.consumers[name] = worker
        worker.start()
        if record:
            self.last_event = ("add", name)
            self._learner("add", name, f"F5: {name} joins group1 (XREADGROUP GROUP group1 {name} ... >)")
        else:
            self._initial_names.add(name)
        return name

    def running_consumers(self) -> list[str]:
        return [
            n
            for n, w in self.consumers.items()
            if w.is_alive() and not w.stop_event.is_set() and not w.crash_event.is_set()
        ]

    def _pick(self, name: str | None, prefer_pending: bool) -> str:
        running = self.running_consumers()
        if name is not None:
            if name not in running:
                raise ValueError(f"{name} is not a running consumer")
            return name
        if not running:
            raise ValueError("no group1 consumer is running (add one first)")
        if prefer_pending:
            return max(running, key=lambda n: (self.pending_by_consumer.get(n, 0), n))
        return running[-1]

    def stop_consumer(self, name: str | None = None) -> str:
        """Stop cleanly: it acks what it processed, then leaves (its failed entries stay)."""
        name = self._pick(name, prefer_pending=False)
        self.consumers[name].stop()
        self.last_event = ("stop", name)
        self.command_log.note(f"F6: {name} stops after acking its batch")
        return name

    def crash_consumer(self, name: str | None = None) -> str:
        """Die without acking: its pending entries stay, to be claimed. By default the running
        consumer holding the most pending entries, so there is something to claim."""
        name = self._pick(name, prefer_pending=True)
        self._crash_peak[name] = self.pending_by_consumer.get(name, 0)
        self.consumers[name].crash()
        self.last_event = ("crash", name)
        self._learner("crash", name, f"F7: {name} crashes: what it read stays pending, unacked")
        return name

    # --- the guide line ---------------------------------------------------------------------
    def _observe(self) -> None:
        """Every second: group1's pending entries per consumer (XPENDING summary, O(consumers)),
        and the lessons' checks of what the server shows."""
        db: Database | None = None
        while not self._stop.is_set():
            try:
                db = db or make_db(self.spec, "observer", None)
                summary = db.xpending(self.stream, GROUP)
                self.group_pending = int(summary.get("pending") or 0)
                self.pending_by_consumer = {
                    text(c["name"]): int(c["pending"]) for c in summary.get("consumers") or []
                }
                for name in list(self._crash_peak):  # so the guide can tell "claimed" from "none"
                    held = self.pending_by_consumer.get(name, 0)
                    self._crash_peak[name] = max(self._crash_peak[name], held)
            except REDIS_ERRORS:
                pass
            try:
                if db is not None:
                    self.lessons.update(db)
            except REDIS_ERRORS:
                pass
            self._stop.wait(self.observe_every)
        if db is not None:
            db.close()

    def guide(self) -> str:
        """One line: what just happened and what to try next; a crashed consumer that still holds
        entries stays mentioned until they are claimed."""
        line = self._guide_for_last_event()
        kind, name = self.last_event
        for other, w in list(self.consumers.items()):
            held = self.pending_by_consumer.get(other, 0)
            if w.state == "crashed" and held and not (kind == "crash" and name == other):
                return f"{line} · {other} crashed holding {held} pending entries: c claims them"
        return line

    def _guide_for_last_event(self) -> str:
        """What to watch after the last thing that happened (a key, a crash, the workload's own
        repair), or what the demo does when nothing did."""
        kind, name = self.last_event
        held = self.pending_by_consumer.get(name, 0) if name else 0
        if kind == "crash":
            return self._guide_after_crash(name, held)
        running = self.running_consumers()
        if not running:
            return "no consumer reads group1: its lag grows with every event; F5 adds one"
        return (
            self._guide_for_consumers(kind, name, held, len(running))
            or self._guide_for_producer(kind, name)
            or self._guide_steady()
        )

    def _guide_after_crash(self, name: str, held: int) -> str:
        """A crashed consumer: what it holds, and who takes it over (retry, c, or nobody yet)."""
        peak = max(self._crash_peak.get(name, 0), held)
        retried = bool(self.life.retry_every)
        if held and retried:
            return (
                f"{name} crashed holding {held} pending entries: once idle "
                f"{self.life.stuck_ms / 1000:g} s the live consumers XAUTOCLAIM and retry "
                "them (press c to claim them now)"
            )
        if held:
            return (
                f"{name} crashed holding {held} pending entries: press c to claim them into a live consumer"
            )
        if peak and retried:
            return (
                f"{name}'s {peak} pending entries were claimed: their new owner retries them "
                "and acks what succeeds"
            )
        if peak:
            return (
                f"{name}'s {peak} pending entries were claimed: their new owner acks them "
                "with a (or F5 adds a consumer)"
            )
        return f"{name} crashed without acking: what it held stays pending until claimed (c)"

    def _guide_for_consumers(self, kind: str, name: str, held: int, running: int) -> str | None:
        """A consumer stopped, added or recreated; None for any other event."""
        if kind == "stop":
            tail = f"; its {held} failed entries stay pending (c claims them)" if held else ""
            return f"{name} stopped cleanly after acking its last batch{tail}"
        if kind == "add":
            return f"{name} joined group1: {running} consumers now share the events"
        if kind == "recreated":
            return (
                f"{name} was gone (destroyed, or {self.stream} deleted, by hand): the workload "
                f"created it again with XGROUP CREATE {self.stream} {name} $ MKSTREAM and reads on"
            )
        return None

    def _guide_for_producer(self, kind: str, name: str) -> str | None:
        """F8's readers away, MAXLEN, pause, rate, resume; None for any other event."""
        if kind == "away":
            run = self.away_run
            if run is not None and not run.over:
                return (
                    f"sub1 (SUBSCRIBE {CHANNEL}), {AUDIT_CONSUMER} (XREADGROUP in {AUDIT_GROUP}) and "
                    f"reader1 (XREAD) are away for {name} s: watch what each gets back"
                )
            return (
                "pub/sub delivers only to who listens now; a stream keeps the events for a group "
                f"to catch up from its position and a reader from its last ID ({LASTID_KEY})"
            )
        if kind == "maxlen":
            if self.producer.approximate:
                return (
                    f"the producer adds with XADD MAXLEN ~ {self.producer.maxlen}: watch {self.stream}'s "
                    "length stay bounded, trimmed a whole node (100 entries) at a time"
                )
            return f"the producer adds without MAXLEN ~ again: {self.stream} grows"
        if kind == "pause":
            return "producer paused: watch analytics catch up and its lag fall; F2 resumes"
        if kind == "rate":
            return f"rate now {self.rate:g}/s: watch in/s follow, and analytics' lag grow faster or slower"
        if kind == "resume":
            return f"producer resumed at {self.rate:g}/s"
        return None

    def _guide_steady(self) -> str:
        """Nothing happened yet: what the demo does."""
        if self.life.retry_every:
            return (
                f"sensor1..3 add {self.rate:g} events/s to {self.stream}; group1 acks them, temp > "
                f"{self.fail_above:g} fails and stays pending, is retried after "
                f"{self.life.stuck_ms / 1000:g} s idle and goes to {self.dlq} once delivered "
                f"more than {self.life.poison_deliveries} times (poison). Try F7 to crash a consumer"
            )
        return (
            f"sensor1..3 add {self.rate:g} events/s to {self.stream}; group1 acks them, temp > "
            f"{self.fail_above:g} fails and stays pending; analytics lags. Try F7 to crash a consumer"
        )
