"""The tutorial's claims about Redis Streams, one lesson at a time, each ticked when the server's
state shows it happened (never from a key press): `LESSONS` says what to do and watch and which
command is behind it; `LessonTracker.update(db)` runs the checks of the lessons not yet ticked,
from the demo's observer thread, on its own connection. A tick stays.

Some lessons have a step the lessons view runs itself (`r`, and `m` for lesson 11): the three
range reads, a manual ID (typed, so a refused one shows the server's error), an exact XTRIM with
its preview. They are here too, and the view reaches them through the demo controller
(`DemoController.run_lesson_step`), so the view makes no Redis call of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..connection import REDIS_ERRORS, ConnectionSpec, error_text
from ..model import id_key
from ..parse import text
from .audit import AUDIT_GROUP
from .base import BLOCK_MS, make_db
from .pubsub import CHANNEL
from .reader import LASTID_KEY


class _Settings(Protocol):
    @property
    def stuck_ms(self) -> int: ...


class Watched(Protocol):
    """What the tracker reads of the workload (`DemoController`), without importing it: the
    controller owns the tracker, so the import would go both ways."""

    @property
    def spec(self) -> ConnectionSpec: ...
    @property
    def stream(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def dlq(self) -> str: ...
    @property
    def life(self) -> _Settings: ...


SAMPLE = 500  # entries a check looks at, at most
ADD_MAXLEN = 100  # lesson 11's `m`: the producer adds with XADD MAXLEN ~ this
MANUAL_SENSOR = "manual"


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    sentence: str
    key: str  # what to press
    watch: str  # what to watch on screen
    command: str  # the Redis command behind it
    check: Callable[[Any, LessonTracker], bool]
    step: str | None = None  # what `r` in the lessons view runs (DemoController.run_lesson_step)
    m_step: str | None = None  # what `m` runs, for a lesson with a second step


# --- the checks: server state only -----------------------------------------------------------


def _cmdstat(db: Any, command: str, field: str = "calls") -> int:
    stats = db.info("commandstats").get(f"cmdstat_{command}") or {}
    return int(stats.get(field) or 0)


def _server_ms(db: Any) -> int:
    sec, usec = db.time()
    return int(sec) * 1000 + int(usec) // 1000


def check_auto_ids(db: Any, t: LessonTracker) -> bool:
    """Two entries with ms-seq IDs, newest first greater, the ms part the server's clock."""
    ids = [text(e[0]) for e in db.xrevrange(t.stream, count=2)]
    if len(ids) < 2 or "-" not in ids[0]:
        return False
    newest, older = id_key(ids[0]), id_key(ids[1])
    if newest is None or older is None:
        return False
    return newest > older and abs(_server_ms(db) - newest[0]) < 86_400_000


def check_manual_id(db: Any, t: LessonTracker) -> bool:
    """An entry added with an ID of the user's is in the stream (and, where the server counts
    failed calls, an XADD was refused since the lessons began)."""
    failed_before = t.baseline.get("xadd_failed")
    if failed_before is not None and _cmdstat(db, "xadd", "failed_calls") <= failed_before:
        return False
    return any(f.get(b"sensor_id") == MANUAL_SENSOR.encode() for _, f in db.xrevrange(t.stream, count=SAMPLE))


RANGE_READS = frozenset({"xrange", "xrevrange", "xread"})


def check_ranges(db: Any, t: LessonTracker) -> bool:
    """The server answered the user's own XRANGE, XREVRANGE and XREAD (`r`) with entries. A read
    leaves no trace in the keyspace, and the server's command counts mix every client's reads
    (the workload's dead-letter moves and the dashboard's time lags run XRANGE as well), so the
    evidence is the server's replies to the lessons' own connection, not a count."""
    return t.ranges_answered >= RANGE_READS


def check_blocking(db: Any, t: LessonTracker) -> bool:
    """A group1 consumer keeps blocking in XREADGROUP while nothing has been added for a while:
    each BLOCK ends empty, and it blocks again. On 7.2+ (Valkey 8+) XINFO CONSUMERS shows it: its
    `idle` (since the last attempt) stays under a BLOCK or two while `inactive` (since the last
    read that returned something) grows; before 7.2, CLIENT LIST shows the demo's named consumer
    connections blocked in XREADGROUP (an ACL without +client|list sees no tick there)."""
    last = db.xrevrange(t.stream, count=1)
    if not last:
        return False
    quiet_ms = _server_ms(db) - (id_key(text(last[0][0])) or (0, 0))[0]
    if quiet_ms < 3 * BLOCK_MS:
        return False
    consumers = _consumers(db, t)
    if consumers and "inactive" in consumers[0]:
        return any(
            (_since_success_ms(c) or 0) >= 3 * BLOCK_MS and int(c.get("idle", -1)) in range(0, 2 * BLOCK_MS)
            for c in consumers
        )
    return any(
        c.get("name", "").startswith("streamtop-demo-c")
        and c.get("cmd") == "xreadgroup"
        and "b" in c.get("flags", "")
        for c in db.client_list()
    )


def _consumers(db: Any, t: LessonTracker) -> list[dict[str, Any]]:
    return db.xinfo_consumers(t.stream, t.group)


def _since_success_ms(c: dict[str, Any]) -> int | None:
    """ms since the consumer last read something: `inactive` (7.2+; -1 never), else `idle`."""
    if "inactive" in c:
        value = int(c["inactive"])
        return None if value < 0 else value
    return int(c.get("idle", -1))


def check_share(db: Any, t: LessonTracker) -> bool:
    """Two or more consumers of group1 have each read entries in the last 10 s."""
    recent = [c for c in _consumers(db, t) if (_since_success_ms(c) or 10**9) < 10_000]
    return len(recent) >= 2


def _delivered(db: Any, t: LessonTracker, group: dict[str, Any]) -> int:
    if group.get("entries-read") is not None:
        return int(group["entries-read"])
    return len(db.xrange(t.stream, "-", group["last-delivered-id"], count=10_000))


def _group(db: Any, t: LessonTracker) -> dict[str, Any] | None:
    return next((g for g in db.xinfo_groups(t.stream) if g["name"] == t.group.encode()), None)


def check_ack(db: Any, t: LessonTracker) -> bool:
    """group1 delivered more entries than it holds pending: the rest were acked."""
    g = _group(db, t)
    return g is not None and _delivered(db, t, g) > int(g["pending"])


def check_no_order(db: Any, t: LessonTracker) -> bool:
    """An entry later in the stream was acked while an earlier one is still pending, in a group
    of two or more consumers: acks do not follow stream order."""
    g = _group(db, t)
    if g is None or int(g["consumers"]) < 2 or not int(g["pending"]):
        return False
    rows = db.xpending_range(t.stream, t.group, "-", "+", SAMPLE)
    if not rows:  # acked between XINFO GROUPS and XPENDING: nothing to compare this round
        return False
    pending = {text(r["message_id"]) for r in rows}
    first = text(rows[0]["message_id"])
    upto = text(rows[-1]["message_id"]) if len(rows) == SAMPLE else text(g["last-delivered-id"])
    return any(text(e[0]) not in pending for e in db.xrange(t.stream, first, upto, count=SAMPLE))


def check_stuck(db: Any, t: LessonTracker) -> bool:
    """A pending entry of group1 has been idle over the stuck threshold."""
    return bool(db.xpending_range(t.stream, t.group, "-", "+", 1, idle=t.stuck_ms))


def check_retry(db: Any, t: LessonTracker) -> bool:
    """An entry of group1 was delivered twice or more (claimed and tried again)."""
    rows = db.xpending_range(t.stream, t.group, "-", "+", SAMPLE)
    if any(int(r["times_delivered"]) >= 2 for r in rows):
        return True
    return any(int(f.get(b"dlq-deliveries", b"0")) >= 2 for _, f in db.xrevrange(t.dlq, count=SAMPLE))


def check_dlq(db: Any, t: LessonTracker) -> bool:
    """The dead-letter stream holds an entry moved from group1."""
    return any(f.get(b"dlq-group") == t.group.encode() for _, f in db.xrevrange(t.dlq, count=SAMPLE))


def check_trim(db: Any, t: LessonTracker) -> bool:
    """Entries were removed from the stream since the lessons began, by XTRIM or by the
    producer's XADD MAXLEN ~: more added than it holds by a wider margin than at the start
    (7.0+: entries-added - length; max-deleted-entry-id moves with it), or its first entry moved
    past the first one the tracker saw (6.2)."""
    info = db.xinfo_stream(t.stream)
    if info.get("entries-added") is not None:
        removed = int(info["entries-added"]) - int(info["length"])
        if t.removed_at_start is None:
            t.removed_at_start = removed
        return removed > t.removed_at_start
    first = info.get("first-entry")
    key = id_key(text(first[0])) if first else None
    if key is None:
        return False
    if t.first_seen is None:
        t.first_seen = key
    return key > t.first_seen


def check_pubsub(db: Any, t: LessonTracker) -> bool:
    """Seen on the server: the channel had no subscriber while the stream grew past some ID;
    later it has one again, and both the audit group's last-delivered-id and reader1's stored
    last ID are past that ID (they caught up)."""
    subs = dict(db.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0)
    last = db.xrevrange(t.stream, count=1)
    last_key = id_key(text(last[0][0])) if last else None
    if not subs:
        if last_key is not None:
            t.unheard = last_key if t.unheard is None else max(t.unheard, last_key)
        return False
    if t.unheard is None:
        return False
    stored = id_key(text(db.get(LASTID_KEY)))
    audit = next((g for g in db.xinfo_groups(t.stream) if g["name"] == AUDIT_GROUP.encode()), None)
    position = id_key(text(audit["last-delivered-id"])) if audit else None
    return stored is not None and stored >= t.unheard and position is not None and position >= t.unheard


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        1,
        "Auto IDs and ordering",
        "XADD with * lets the server pick the ID: <milliseconds>-<sequence>, always greater than "
        "the last, so a stream is ordered by time of arrival.",
        "e (one event), or just watch the producer",
        "Messages tab (2): the newest IDs at the top, ms-seq, increasing",
        "XADD app:event * sensor_id sensor1 temp 0.42 humidity 0.77",
        check_auto_ids,
    ),
    Lesson(
        2,
        "A manual ID",
        "You may give the ID yourself, but only one greater than the last: the server refuses "
        "an equal or smaller one. Try the last ID first, then a greater one.",
        "type an ID below and press enter",
        "the server's error, then your entry in the Messages tab",
        "XADD app:event <ID> sensor_id manual temp 0.1 humidity 0.1",
        check_manual_id,
        step="manual",
    ),
    Lesson(
        3,
        "XRANGE, XREVRANGE, XREAD",
        "Reading needs no group: XRANGE walks forward by ID, XREVRANGE backward (the Messages "
        "tab's newest-first pages), XREAD reads what comes after an ID (reader1 does).",
        "r (run the three)",
        "the replies below; the Messages tab (2) says the XREVRANGE it runs; reader1 in the demo panel",
        "XRANGE app:event - + COUNT 3 · XREVRANGE app:event + - COUNT 3 · XREAD COUNT 3 STREAMS app:event 0",
        check_ranges,
        step="ranges",
    ),
    Lesson(
        4,
        "The blocking read",
        "A consumer waits on the server for new entries with BLOCK; when none come in time "
        "the read returns empty and it simply blocks again.",
        "F2 (pause the producer; F2 again resumes)",
        "Consumers panel: idle resets every 0.5 s while inactive grows",
        "XREADGROUP GROUP group1 c1 COUNT 100 BLOCK 500 STREAMS app:event >",
        check_blocking,
    ),
    Lesson(
        5,
        "Groups share the work",
        "Consumers of one group each get different entries: adding one spreads the load.",
        "F5 (add a consumer)",
        "Consumers panel: each consumer reading; demo panel: processed per worker",
        "XREADGROUP GROUP group1 c4 COUNT 100 BLOCK 500 STREAMS app:event >",
        check_share,
    ),
    Lesson(
        6,
        "Acknowledge",
        "An entry read in a group stays pending until its consumer acks it; ack means done.",
        "watch, or x on a pending entry then a",
        "Groups panel: pending stays low while entries-read climbs",
        "XACK app:event group1 <ID>",
        check_ack,
    ),
    Lesson(
        7,
        "No ordering across parallel consumers",
        "Each consumer acks on its own: a later entry is acked while an earlier one is still "
        "pending at another consumer. A group never waits for stream order.",
        "watch (F4 speeds it up)",
        "Pending tab: old IDs pending while newer ones are gone (acked)",
        "XPENDING app:event group1 - + 10",
        check_no_order,
    ),
    Lesson(
        8,
        "A failure stays pending, like a dead-letter queue",
        "A consumer that fails does not ack: the entry stays in the group's pending list, with "
        "its owner and delivery count, until someone deals with it. Nothing is lost.",
        "watch (temp over the threshold fails)",
        "Pending tab: entries idle over 5 s are shown as stuck",
        "XPENDING app:event group1 IDLE 5000 - + 10",
        check_stuck,
    ),
    Lesson(
        9,
        "Claim and retry",
        "XAUTOCLAIM hands entries idle too long to a live consumer, which tries them again: "
        "their delivery count rises; a transient failure may now succeed and be acked.",
        "wait a few seconds, or c to claim now (F7 crashes a consumer first)",
        "Pending tab: deliveries 2, 3...; demo panel: retried",
        "XAUTOCLAIM app:event group1 c1 5000 0-0 COUNT 50",
        check_retry,
    ),
    Lesson(
        10,
        "Give up: the dead-letter stream",
        "After N deliveries a poison entry is moved to app:event:dlq (its fields plus where it "
        "came from) and acked, so it stops coming back.",
        "wait, or D on the pending entries",
        "Streams panel: app:event:dlq grows; demo panel: dead-lettered",
        "MULTI · XADD app:event:dlq * ...fields dlq-original-id <ID> ... · XACK app:event group1 <ID> · EXEC",
        check_dlq,
    ),
    Lesson(
        11,
        "Trim",
        "A stream keeps everything until trimmed: XTRIM MAXLEN as a job, or XADD MAXLEN ~ N on "
        "every add (~: whole nodes only, cheaper). Each step shows its preview first: what "
        "goes and what is still unread.",
        f"r (XTRIM to the newest half), m (the producer adds with MAXLEN ~ {ADD_MAXLEN} on/off), t",
        f"Streams panel: length drops (with m: stays between {ADD_MAXLEN} and about {ADD_MAXLEN + 100})",
        f"XTRIM app:event MAXLEN = <N> · XADD app:event MAXLEN ~ {ADD_MAXLEN} * ...",
        check_trim,
        step="trim",
        m_step="maxlen",
    ),
    Lesson(
        12,
        "Streams vs pub/sub",
        "PUBLISH reaches only who is subscribed right now; a stream keeps the events, so a "
        "reader that was away catches up from its last ID.",
        "F8 (sub1, the group consumer audit1 and reader1 away for 10 s)",
        "demo panel: pub/sub missed N of N; stream caught up N of N",
        "PUBLISH app:event <json> · SUBSCRIBE app:event · XREADGROUP GROUP audit audit1 ... > · "
        "XREAD ... STREAMS app:event <last id>",
        check_pubsub,
    ),
)


class LessonTracker:
    """Which lessons the server has shown, updated from the demo's observer thread."""

    def __init__(self, controller: Watched) -> None:
        self.controller = controller
        self.stream = controller.stream
        self.group = controller.group
        self.ticked: dict[int, float] = {}  # lesson number -> time.time() it was seen
        self.baseline: dict[str, int | None] = {}
        self.first_seen: tuple[int, int] | None = None
        self.removed_at_start: int | None = None
        self.ranges_answered: set[str] = set()  # lesson 3: range reads the user ran, answered
        self.unheard: tuple[int, int] | None = None  # last stream ID seen with no subscriber
        self.errors: dict[int, str] = {}

    @property
    def dlq(self) -> str:
        return self.controller.dlq

    @property
    def stuck_ms(self) -> int:
        return self.controller.life.stuck_ms

    def done(self, number: int) -> bool:
        return number in self.ticked

    def start(self, db: Any) -> None:
        """Counters as they are now: a lesson counts what happens from here on."""
        stats = db.info("commandstats").get("cmdstat_xadd") or {}
        self.baseline["xadd_failed"] = int(stats["failed_calls"]) if "failed_calls" in stats else None

    def update(self, db: Any) -> None:
        if not self.baseline:
            self.start(db)
        for lesson in LESSONS:
            if lesson.number in self.ticked:
                continue
            try:
                ok = lesson.check(db, self)
            except REDIS_ERRORS as exc:  # no stream or group yet...: not yet
                self.errors[lesson.number] = error_text(exc)
                continue
            if ok:
                self.ticked[lesson.number] = time.time()

    # --- the steps the lessons view runs (in a thread of its own) --------------------------
    def _db(self) -> Any:
        return make_db(self.controller.spec, "lessons", None)

    def last_id(self) -> str:
        db = self._db()
        try:
            last = db.xrevrange(self.stream, count=1)
            return text(last[0][0]) if last else "0-1"
        except REDIS_ERRORS:
            return "0-1"
        finally:
            db.close()

    def add_manual(self, entry_id: str) -> tuple[bool, str]:
        """XADD with the user's ID: (True, the ID) or (False, the server's error as it said it)."""
        entry_id = entry_id.strip()
        if not entry_id:
            return False, "type an ID: <ms>-<seq>, <ms>, or <ms>-*"
        db = self._db()
        try:
            new = db.xadd(
                self.stream, {"sensor_id": MANUAL_SENSOR, "temp": "0.1", "humidity": "0.1"}, id=entry_id
            )
            return True, f"added {text(new)}"
        except REDIS_ERRORS as exc:
            return False, error_text(exc)
        finally:
            db.close()

    def run_ranges(self) -> tuple[bool, str]:
        """The three reads; each one the server answered with entries counts for lesson 3."""
        db = self._db()
        try:
            fwd = [text(e[0]) for e in db.xrange(self.stream, count=3)]
            back = [text(e[0]) for e in db.xrevrange(self.stream, count=3)]
            read = db.xread({self.stream: "0"}, count=3)
            ids = [text(e[0]) for e in read[0][1]] if read else []
        except REDIS_ERRORS as exc:
            return False, error_text(exc)
        finally:
            db.close()
        self.ranges_answered.update(
            c for c, got in (("xrange", fwd), ("xrevrange", back), ("xread", ids)) if got
        )
        if not (fwd and back and ids):
            return False, f"{self.stream} is empty: add events first (e), then r again"
        return True, (
            f"XRANGE - + COUNT 3: {' '.join(fwd)}\nXREVRANGE + - COUNT 3: {' '.join(back)}"
            f"\nXREAD COUNT 3 STREAMS {self.stream} 0: {' '.join(ids)}"
        )

    def trim_preview(self, strategy: str, threshold: int, approx: bool) -> str:
        """The dashboard's trim preview (`t`): what a trim removes, and what of it each group
        still holds pending or has not read. Run on an asyncio client of its own."""
        from ..actions import Actions
        from ..model import ServerInfo

        async def preview() -> str:
            actions = Actions(self.controller.spec.make_client(raw=True), ServerInfo())
            try:
                return (await actions.trim_preview(self.stream, strategy, threshold, approx)).message
            finally:
                await actions.client.aclose()

        return asyncio.run(preview())

    def run_trim(self) -> tuple[bool, str]:
        """XTRIM MAXLEN = half the length, exact, after its preview."""
        db = self._db()
        try:
            keep = db.xlen(self.stream) // 2
            seen = self.trim_preview("MAXLEN", keep, False)
            removed = db.xtrim(self.stream, maxlen=keep, approximate=False)
            return True, f"preview: {seen}\nXTRIM {self.stream} MAXLEN = {keep}: {removed} entries removed"
        except REDIS_ERRORS as exc:
            return False, error_text(exc)
        finally:
            db.close()

    def run_step(self, name: str, value: str | None = None) -> tuple[bool, str]:
        if name == "manual":
            ok, message = self.add_manual(value or "")
            return ok, message if ok else f"refused by the server: {message}"
        if name == "ranges":
            return self.run_ranges()
        if name == "trim":
            return self.run_trim()
        return False, f"no step {name!r}"
