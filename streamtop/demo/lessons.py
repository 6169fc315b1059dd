"""The tutorial's claims about Redis Streams, one lesson at a time. Two marks per lesson, two
meanings: **done** when the server shows that the learner's own action caused it (a key, a
command typed in the lessons view, or a script of theirs), and **seen** when the server shows it
whoever caused it (the demo's own workload shows most of them within seconds). A fresh demo left
alone marks lessons seen, never done.

`LESSONS` says what to do and watch and which command is behind it; each lesson has two checks,
`seen` (server state only) and `done` (server state caused by the learner: what streamtop sent
for them, read from the command log, the demo keys they pressed, or entries and consumers the
workload did not make). `LessonTracker.update(db)` runs them from the demo's observer thread, on
its own connection. A mark stays.

Some lessons have a step the lessons view runs itself (`r`, and `m` for lesson 11): the three
range reads, a manual ID (typed, so a refused one shows the server's error), an exact XTRIM after
its preview and a confirmation. They are here too, and the view reaches them through the demo
controller (`DemoController.run_lesson_step`), so the view makes no Redis call of its own. Their
commands go to the command log like the dashboard's actions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

import redis

from streamtop.pipeline.connection import REDIS_ERRORS, ConnectionSpec, error_text
from streamtop.pipeline.model import id_key, label
from streamtop.pipeline.parse import ReplyFields, text

from ..commandlog import CommandLog, Logged, attach, attach_sync
from .audit import AUDIT_GROUP
from .base import BLOCK_MS, make_db
from .pubsub import CHANNEL
from .reader import LASTID_KEY

if TYPE_CHECKING:
    from ..actions.trim import TrimPreview


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
    @property
    def command_log(self) -> CommandLog: ...
    def workload_ids(self) -> Collection[str]: ...
    def initial_consumers(self) -> Collection[str]: ...


SAMPLE = 500  # entries a check looks at, at most
ADD_MAXLEN = 100  # lesson 11's `m`: the producer adds with XADD MAXLEN ~ this
MANUAL_SENSOR = "manual"
LEARNER = ("action", "lesson")  # command log sources that are the learner's
FOREIGN_AFTER = 0.5  # s an entry must stay unclaimed by the producer before it counts as the learner's


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    sentence: str
    key: str  # what to press
    watch: str  # what to watch on screen
    command: str  # the Redis command behind it
    check: Callable[[redis.Redis, LessonTracker], bool]  # seen: the server shows it, whoever caused it
    done: Callable[[redis.Redis, LessonTracker], bool]  # the learner's own action caused it
    step: str | None = None  # what `r` in the lessons view runs (DemoController.run_lesson_step)
    m_step: str | None = None  # what `m` runs, for a lesson with a second step


# The demo's clients are walrus Databases (a redis.Redis, bytes replies, RESP2); walrus ships no types,
# so they are typed as the redis.Redis they are. redis-py types an entry read loosely (str or bytes,
# maybe None): these two say what this client returns.
Entry = tuple[bytes, dict[bytes, bytes]]


def _xrange(db: redis.Redis, key: str, lo: str = "-", hi: str = "+", count: int | None = None) -> list[Entry]:
    return cast("list[Entry]", db.xrange(key, lo, hi, count=count))


def _xrevrange(
    db: redis.Redis, key: str, hi: str = "+", lo: str = "-", count: int | None = None
) -> list[Entry]:
    return cast("list[Entry]", db.xrevrange(key, hi, lo, count=count))


# --- the checks: server state only -----------------------------------------------------------


def _cmdstat(db: redis.Redis, command: str, field: str = "calls") -> int:
    stats = db.info("commandstats").get(f"cmdstat_{command}") or {}
    return int(stats.get(field) or 0)


def _server_ms(db: redis.Redis) -> int:
    sec, usec = db.time()
    return int(sec) * 1000 + int(usec) // 1000


def check_auto_ids(db: redis.Redis, t: LessonTracker) -> bool:
    """Two entries with ms-seq IDs, newest first greater, the ms part the server's clock."""
    ids = [text(e[0]) for e in _xrevrange(db, t.stream, count=2)]
    if len(ids) < 2 or "-" not in ids[0]:
        return False
    newest, older = id_key(ids[0]), id_key(ids[1])
    if newest is None or older is None:
        return False
    return newest > older and abs(_server_ms(db) - newest[0]) < 86_400_000


def check_manual_id(db: redis.Redis, t: LessonTracker) -> bool:
    """An entry added with an ID of the user's is in the stream (and, where the server counts
    failed calls, an XADD was refused since the lessons began)."""
    failed_before = t.baseline.get("xadd_failed")
    if failed_before is not None and _cmdstat(db, "xadd", "failed_calls") <= failed_before:
        return False
    return any(
        f.get(b"sensor_id") == MANUAL_SENSOR.encode() for _, f in _xrevrange(db, t.stream, count=SAMPLE)
    )


RANGE_READS = frozenset({"xrange", "xrevrange", "xread"})


def check_ranges(db: redis.Redis, t: LessonTracker) -> bool:
    """The server answered the user's own XRANGE, XREVRANGE and XREAD (`r`) with entries. A read
    leaves no trace in the keyspace, and the server's command counts mix every client's reads
    (the workload's dead-letter moves and the dashboard's time lags run XRANGE as well), so the
    evidence is the server's replies to the lessons' own connection, not a count."""
    return t.ranges_answered >= RANGE_READS


def check_blocking(db: redis.Redis, t: LessonTracker) -> bool:
    """A group1 consumer keeps blocking in XREADGROUP while nothing has been added for a while:
    each BLOCK ends empty, and it blocks again. On 7.2+ (Valkey 8+) XINFO CONSUMERS shows it: its
    `idle` (since the last attempt) stays under a BLOCK or two while `inactive` (since the last
    read that returned something) grows; before 7.2, CLIENT LIST shows the demo's named consumer
    connections blocked in XREADGROUP (an ACL without +client|list sees no tick there)."""
    last = _xrevrange(db, t.stream, count=1)
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


def _consumers(db: redis.Redis, t: LessonTracker) -> list[ReplyFields]:
    return db.xinfo_consumers(t.stream, t.group)


def _since_success_ms(c: ReplyFields) -> int | None:
    """ms since the consumer last read something: `inactive` (7.2+; -1 never), else `idle`."""
    if "inactive" in c:
        value = int(c["inactive"])
        return None if value < 0 else value
    return int(c.get("idle", -1))


def check_share(db: redis.Redis, t: LessonTracker) -> bool:
    """Two or more consumers of group1 have each read entries in the last 10 s."""
    recent = [c for c in _consumers(db, t) if (_since_success_ms(c) or 10**9) < 10_000]
    return len(recent) >= 2


def _delivered(db: redis.Redis, t: LessonTracker, group: ReplyFields) -> int:
    if group.get("entries-read") is not None:
        return int(group["entries-read"])
    return len(_xrange(db, t.stream, "-", group["last-delivered-id"], count=10_000))


def _group(db: redis.Redis, t: LessonTracker) -> ReplyFields | None:
    return next((g for g in db.xinfo_groups(t.stream) if g["name"] == t.group.encode()), None)


def check_ack(db: redis.Redis, t: LessonTracker) -> bool:
    """group1 delivered more entries than it holds pending: the rest were acked."""
    g = _group(db, t)
    return g is not None and _delivered(db, t, g) > int(g["pending"])


def check_no_order(db: redis.Redis, t: LessonTracker) -> bool:
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
    return any(text(e[0]) not in pending for e in _xrange(db, t.stream, first, upto, count=SAMPLE))


def check_stuck(db: redis.Redis, t: LessonTracker) -> bool:
    """A pending entry of group1 has been idle over the stuck threshold."""
    return bool(db.xpending_range(t.stream, t.group, "-", "+", 1, idle=t.stuck_ms))


def check_retry(db: redis.Redis, t: LessonTracker) -> bool:
    """An entry of group1 was delivered twice or more (claimed and tried again)."""
    rows = db.xpending_range(t.stream, t.group, "-", "+", SAMPLE)
    if any(int(r["times_delivered"]) >= 2 for r in rows):
        return True
    return any(int(f.get(b"dlq-deliveries", b"0")) >= 2 for _, f in _xrevrange(db, t.dlq, count=SAMPLE))


def check_dlq(db: redis.Redis, t: LessonTracker) -> bool:
    """The dead-letter stream holds an entry moved from group1."""
    return any(f.get(b"dlq-group") == t.group.encode() for _, f in _xrevrange(db, t.dlq, count=SAMPLE))


def check_trim(db: redis.Redis, t: LessonTracker) -> bool:
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


def check_pubsub(db: redis.Redis, t: LessonTracker) -> bool:
    """Seen on the server: the channel had no subscriber while the stream grew past some ID;
    later it has one again, and both the audit group's last-delivered-id and reader1's stored
    last ID are past that ID (they caught up)."""
    subs = dict(db.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0)
    last = _xrevrange(db, t.stream, count=1)
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


# --- done: the learner's own action, as the server shows it ---------------------------------


def _learner_commands(t: LessonTracker, *names: str) -> list[Logged]:
    """What streamtop sent for the learner since the lessons began (keys and lesson steps)."""
    wanted = {n.upper() for n in names}
    return [e for e in t.log.entries(t.log_start) if e.source in LEARNER and e.command in wanted]


def _ok(entry: Logged) -> bool:
    return not isinstance(entry.reply, BaseException)


def _after_start(t: LessonTracker, entry_id: str) -> bool:
    key = id_key(entry_id)
    return key is not None and (t.start_id is None or key > t.start_id)


def done_auto_ids(db: redis.Redis, t: LessonTracker) -> bool:
    """An entry with a server-made ID that the workload did not add: the learner's `e` (the
    reply of the XADD streamtop sent is in the stream), or a script of theirs (an entry after the
    lessons began that is not the producer's, seen on two rounds: the producer records its IDs
    just after the server answers). Lesson 2's manual entries do not count."""
    for e in _learner_commands(t, "XADD"):
        if _ok(e) and e.arg(1) == t.stream and "*" in [text(a) for a in e.args[2:]]:
            new = text(e.reply)
            if new and _xrange(db, t.stream, new, new):
                return True
    ours = t.controller.workload_ids()
    now = time.monotonic()
    foreign: dict[str, float] = {}
    for entry_id, fields in _xrevrange(db, t.stream, count=SAMPLE):
        eid = text(entry_id)
        if not _after_start(t, eid):
            break
        if eid not in ours and fields.get(b"sensor_id") != MANUAL_SENSOR.encode():
            foreign[eid] = t.foreign.get(eid, now)
    t.foreign = foreign
    return any(now - first >= FOREIGN_AFTER for first in foreign.values())


def done_manual_id(db: redis.Redis, t: LessonTracker) -> bool:
    """The learner's own ID, typed in the lessons view (or added by a script of theirs): the
    manual entry added after the lessons began."""
    if not check_manual_id(db, t):
        return False
    return any(
        f.get(b"sensor_id") == MANUAL_SENSOR.encode() and _after_start(t, text(i))
        for i, f in _xrevrange(db, t.stream, count=SAMPLE)
    )


def done_ranges(db: redis.Redis, t: LessonTracker) -> bool:
    return check_ranges(db, t)


def done_blocking(db: redis.Redis, t: LessonTracker) -> bool:
    """The learner paused the producer (F2) and the consumers block, empty, since."""
    return t.last_act("pause", "resume") == "pause" and check_blocking(db, t)


def done_share(db: redis.Redis, t: LessonTracker) -> bool:
    """A consumer the workload did not start with (F5's, or a script's) reads entries of group1
    alongside another one."""
    mine = set(t.controller.initial_consumers())
    recent = [c for c in _consumers(db, t) if (_since_success_ms(c) or 10**9) < 10_000]
    return len(recent) >= 2 and any(text(c["name"]) not in mine for c in recent)


def _acked(t: LessonTracker) -> list[tuple[Logged, list[str]]]:
    """The learner's XACKs on group1 that acked something: (entry, its IDs)."""
    out = []
    for e in _learner_commands(t, "XACK"):
        if (
            _ok(e)
            and e.arg(1) == t.stream
            and e.arg(2) == t.group
            and isinstance(e.reply, int)
            and e.reply > 0
        ):
            out.append((e, [text(a) or "" for a in e.args[3:]]))  # never None: redis-py sends no None
    return out


def done_ack(db: redis.Redis, t: LessonTracker) -> bool:
    """The server acknowledged an entry for the learner (`a`): XACK answered 1 or more."""
    return bool(_acked(t))


def done_no_order(db: redis.Redis, t: LessonTracker) -> bool:
    """The learner acked an entry while an older one is still pending in group1: a group does not
    wait for stream order."""
    for _, ids in _acked(t):
        newest = max(ids, key=lambda i: id_key(i) or (0, 0))
        if id_key(newest) is None:
            continue
        if db.xpending_range(t.stream, t.group, "-", f"({newest}", 1):  # exclusive: 6.2+
            return True
    return False


def done_stuck(db: redis.Redis, t: LessonTracker) -> bool:
    """A consumer the learner crashed (F7) still holds entries, unacked, idle: nothing is lost."""
    idle = max(1, t.stuck_ms // 2)  # before the workload's retries (at stuck_ms) take them
    for name in t.acts_named("crash"):
        if db.xpending_range(t.stream, t.group, "-", "+", 1, consumername=name, idle=idle):
            return True
    return False


def _claimed(t: LessonTracker) -> list[str]:
    ids: list[str] = []
    for e in _learner_commands(t, "XCLAIM", "XAUTOCLAIM"):
        if not _ok(e) or e.arg(1) != t.stream or e.arg(2) != t.group:
            continue
        rows = e.reply[1] if e.command == "XAUTOCLAIM" and isinstance(e.reply, list | tuple) else e.reply
        for row in rows if isinstance(rows, list | tuple) else ():
            got = row[0] if isinstance(row, list | tuple) and row else row
            if isinstance(got, bytes | str):
                ids.append(text(got))
    return ids


def done_retry(db: redis.Redis, t: LessonTracker) -> bool:
    """An entry the learner claimed (`c`) is pending at its new owner, delivered twice or more."""
    for entry_id in _claimed(t)[-20:]:
        rows = db.xpending_range(t.stream, t.group, entry_id, entry_id, 1)
        if rows and int(rows[0]["times_delivered"]) >= 2:
            return True
    return False


def done_dlq(db: redis.Redis, t: LessonTracker) -> bool:
    """The learner's dead-letter move (`D`): the entry streamtop added to the dead-letter stream
    for them is there."""
    for e in _learner_commands(t, "XADD"):
        if _ok(e) and e.arg(1) == t.dlq and e.reply:
            new = text(e.reply)
            if new and _xrange(db, t.dlq, new, new):
                return True
    return False


def done_trim(db: redis.Redis, t: LessonTracker) -> bool:
    """The learner's XTRIM (lesson 11's `r`, or `t`) removed entries; or, after `m`, the
    producer's XADD MAXLEN ~ removed some since."""
    for e in _learner_commands(t, "XTRIM"):
        if _ok(e) and e.arg(1) == t.stream and isinstance(e.reply, int) and e.reply > 0:
            return True
    if t.last_act("maxlen_on", "maxlen_off") != "maxlen_on":
        return False
    removed = _removed(db, t)
    if removed is None:
        return False
    if t.removed_at_m is None:
        t.removed_at_m = removed
    return removed > t.removed_at_m


def _removed(db: redis.Redis, t: LessonTracker) -> int | None:
    info = db.xinfo_stream(t.stream)
    if info.get("entries-added") is None:
        return None
    return int(info["entries-added"]) - int(info["length"])


def done_pubsub(db: redis.Redis, t: LessonTracker) -> bool:
    """The learner took sub1, audit1 and reader1 away (F8); they came back and caught up."""
    return bool(t.acts_named("away")) and check_pubsub(db, t)


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        1,
        "Auto IDs and ordering",
        "XADD with * lets the server pick the ID: <milliseconds>-<sequence>, always greater than "
        "the last, so a stream is ordered by time of arrival.",
        "e (one event of yours; the producer's own events only count as seen)",
        "Messages tab (2): the newest IDs at the top, ms-seq, increasing; L: the XADD sent",
        "XADD app:event * sensor_id sensor1 temp 0.42 humidity 0.77",
        check_auto_ids,
        done_auto_ids,
    ),
    Lesson(
        2,
        "A manual ID",
        "You may give the ID yourself, but only one greater than the last: the server refuses "
        "an equal or smaller one. Try the last ID first, then a greater one.",
        "r: the field below takes the focus, holding the last ID; enter sends it (refused), "
        "then make it greater and enter again",
        "the server's error, then your entry in the Messages tab",
        "XADD app:event <ID> sensor_id manual temp 0.1 humidity 0.1",
        check_manual_id,
        done_manual_id,
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
        done_ranges,
        step="ranges",
    ),
    Lesson(
        4,
        "The blocking read",
        "A consumer waits on the server for new entries with BLOCK; when none come in time "
        "the read returns empty and it simply blocks again.",
        "F2 (pause the producer; F2 again resumes it for the next lessons)",
        "Consumers panel: idle resets every 0.5 s while inactive grows",
        "XREADGROUP GROUP group1 c1 COUNT 100 BLOCK 500 STREAMS app:event >",
        check_blocking,
        done_blocking,
    ),
    Lesson(
        5,
        "Groups share the work",
        "Consumers of one group each get different entries: adding one spreads the load.",
        "F5 (add a consumer; the producer must be running: F2)",
        "Consumers panel: the new consumer reading too; demo panel: processed per worker",
        "XREADGROUP GROUP group1 c4 COUNT 100 BLOCK 500 STREAMS app:event >",
        check_share,
        done_share,
    ),
    Lesson(
        6,
        "Acknowledge",
        "An entry read in a group stays pending until its consumer acks it; ack means done.",
        "Pending tab (1): x on the first (oldest) entry, then a",
        "the entry leaves the Pending tab; L: the XACK sent and its reply (integer) 1",
        "XACK app:event group1 <ID>",
        check_ack,
        done_ack,
    ),
    Lesson(
        7,
        "No ordering across parallel consumers",
        "Each consumer acks on its own, in the order it finishes: a later entry is acked while an "
        "earlier one is still pending. A group never waits for stream order.",
        "Pending tab (1): x on an entry below an older one, then a (ack it as its consumer would)",
        "Pending tab: the older entry stays pending while the newer one is gone",
        "XACK app:event group1 <a later ID> · XPENDING app:event group1 - + 10",
        check_no_order,
        done_no_order,
    ),
    Lesson(
        8,
        "A failure stays pending, like a dead-letter queue",
        "A consumer that fails or dies does not ack: the entry stays in the group's pending list, "
        "with its owner and delivery count, until someone deals with it. Nothing is lost.",
        "F7 (crash the consumer holding the most entries)",
        "Pending tab: its entries stay under its name, idle; stuck (red) after 5 s",
        "XPENDING app:event group1 IDLE 5000 - + 10",
        check_stuck,
        done_stuck,
    ),
    Lesson(
        9,
        "Claim and retry",
        "XCLAIM / XAUTOCLAIM hand entries idle too long to a live consumer, which tries them "
        "again: their delivery count rises; a transient failure may now succeed and be acked.",
        "c (claim the stuck entries into a live consumer)",
        "Pending tab: the new owner, deliveries 2, 3...; demo panel: retried",
        "XAUTOCLAIM app:event group1 c1 5000 0-0 COUNT 50",
        check_retry,
        done_retry,
    ),
    Lesson(
        10,
        "Give up: the dead-letter stream",
        "Delivered more than N times (--poison-deliveries), a poison entry is moved to "
        "app:event:dlq (its fields plus where it came from) and acked, so it stops coming back.",
        "D (dead-letter the entries delivered more than N; lower N to 1 to move the claimed ones)",
        "Streams panel: app:event:dlq grows; L: MULTI, XADD, XACK ... EXEC per batch",
        "MULTI · XADD app:event:dlq * ...fields dlq-original-id <ID> ... · XACK app:event group1 <ID> · EXEC",
        check_dlq,
        done_dlq,
    ),
    Lesson(
        11,
        "Trim",
        "A stream keeps everything until trimmed: XTRIM MAXLEN as a job, or XADD MAXLEN ~ N on "
        "every add (~: whole nodes only, cheaper). Each step shows its preview first, per group: "
        "what goes while still pending or unread; y then does it.",
        f"r (preview an XTRIM to the newest half; y trims), m (the producer adds with MAXLEN ~ "
        f"{ADD_MAXLEN}: preview, y; m again: off), or t",
        f"Streams panel: length drops (with m: stays between {ADD_MAXLEN} and about {ADD_MAXLEN + 100})",
        f"XTRIM app:event MAXLEN = <N> · XADD app:event MAXLEN ~ {ADD_MAXLEN} * ...",
        check_trim,
        done_trim,
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
        done_pubsub,
    ),
)


def preview_lines(p: TrimPreview) -> list[str]:
    """A trim preview (actions.trim.TrimPreview) as lines: what goes, then each group's share of
    it (pending entries whose data goes, entries it has not read yet)."""
    how = f"{p.strategy} {'~' if p.approx else '='} {p.threshold}"
    if p.nothing:
        return [f"preview: XTRIM {label(p.key)} {how} removes nothing ({p.length:,} entries)"]
    out = [f"preview: XTRIM {label(p.key)} {how} removes {p.removes_text()}"]
    up_to = "up to " if p.approx else ""
    for g in p.groups:
        pending = "?" if g.pending is None else f"{'>=' if g.pending_capped else ''}{g.pending:,}"
        unread = "?" if g.unread is None else f"{'>=' if g.unread_capped else ''}{g.unread:,}"
        out.append(
            f"  {label(g.name)}: {up_to}{pending} still pending (data goes, the ID stays), "
            f"{up_to}{unread} not yet read (lost to it)"
        )
    return out


class LessonTracker:
    """Which lessons the learner did (`ticked`) and the server showed (`seen`), updated from the
    demo's observer thread; what the learner pressed that sends no command (`act`)."""

    def __init__(self, controller: Watched) -> None:
        self.controller = controller
        self.stream = controller.stream
        self.group = controller.group
        self.log = controller.command_log
        self.log_start = 0  # the command log's seq when the lessons began
        self.ticked: dict[int, float] = {}  # lesson number -> time.time() the learner did it
        self.seen: dict[int, float] = {}  # lesson number -> time.time() the server showed it
        self.baseline: dict[str, int | None] = {}
        self.started = False
        self.start_id: tuple[int, int] | None = None  # the stream's last ID when the lessons began
        self.first_seen: tuple[int, int] | None = None
        self.removed_at_start: int | None = None
        self.removed_at_m: int | None = None
        self.ranges_answered: set[str] = set()  # lesson 3: range reads the user ran, answered
        self.unheard: tuple[int, int] | None = None  # last stream ID seen with no subscriber
        self.foreign: dict[str, float] = {}  # entries not the producer's -> when first seen
        self.acts: list[tuple[str, str]] = []  # demo keys the learner pressed: (kind, name)
        self.confirming: tuple[str, int] | None = None  # a previewed step waiting for y
        self.errors: dict[int, str] = {}

    @property
    def dlq(self) -> str:
        return self.controller.dlq

    @property
    def stuck_ms(self) -> int:
        return self.controller.life.stuck_ms

    def done(self, number: int) -> bool:
        return number in self.ticked

    def act(self, kind: str, name: str = "") -> None:
        """A demo key the learner pressed (F2 pause, F5, F7, F8, m): no command of streamtop's."""
        self.acts.append((kind, name))

    def last_act(self, *kinds: str) -> str | None:
        return next((k for k, _ in reversed(self.acts) if k in kinds), None)

    def acts_named(self, kind: str) -> list[str]:
        return [n for k, n in list(self.acts) if k == kind]

    def start(self, db: redis.Redis) -> None:
        """Counters and the last ID as they are now: a lesson counts what happens from here on."""
        stats = db.info("commandstats").get("cmdstat_xadd") or {}
        self.baseline["xadd_failed"] = int(stats["failed_calls"]) if "failed_calls" in stats else None
        last = _xrevrange(db, self.stream, count=1)
        self.start_id = id_key(text(last[0][0])) if last else None
        self.log_start = self.log.last_seq
        self.started = True

    def update(self, db: redis.Redis) -> None:
        if not self.started:
            self.start(db)
        for lesson in LESSONS:
            for marks, check in ((self.ticked, lesson.done), (self.seen, lesson.check)):
                if lesson.number in marks:
                    continue
                try:
                    ok = check(db, self)
                except REDIS_ERRORS as exc:  # no stream or group yet...: not yet
                    self.errors[lesson.number] = error_text(exc)
                    continue
                if ok:
                    marks[lesson.number] = time.time()
            if lesson.number in self.ticked and lesson.number not in self.seen:
                self.seen[lesson.number] = self.ticked[lesson.number]

    # --- the steps the lessons view runs (in a thread of its own) --------------------------
    def _db(self) -> redis.Redis:
        return attach_sync(make_db(self.controller.spec, "lessons", None), self.log, "lesson")

    def last_id(self) -> str:
        db = make_db(self.controller.spec, "lessons", None)  # a read for the field: not a step
        try:
            last = _xrevrange(db, self.stream, count=1)
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
            fwd = [text(e[0]) for e in _xrange(db, self.stream, count=3)]
            back = [text(e[0]) for e in _xrevrange(db, self.stream, count=3)]
            read = cast("list[tuple[bytes, list[Entry]]]", db.xread({self.stream: "0"}, count=3))
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

    def trim_preview(self, strategy: str, threshold: int, approx: bool) -> list[str]:
        """The dashboard's trim preview (`t`) as lines: what a trim removes, and what of it each
        group still holds pending or has not read. Run on an asyncio client of its own (its
        reads go to the command log). Raises redis errors."""
        from streamtop.pipeline.model import ServerInfo

        from ..actions import Actions

        async def preview() -> list[str]:
            actions = Actions(
                attach(self.controller.spec.make_client(raw=True), self.log, "lesson"), ServerInfo()
            )
            try:
                result = await actions.trim_preview(self.stream, strategy, threshold, approx)
            finally:
                await actions.client.aclose()
            found = result.preview
            if not result.ok or found is None:
                raise redis.RedisError(result.message)
            return preview_lines(found)

        return asyncio.run(preview())

    def preview_trim(self) -> tuple[bool, str]:
        """Lesson 11's `r`: the preview of XTRIM MAXLEN = half the length; y trims (`confirm`)."""
        db = self._db()
        try:
            keep = db.xlen(self.stream) // 2
            lines = self.trim_preview("MAXLEN", keep, False)
        except REDIS_ERRORS as exc:
            return False, error_text(exc)
        finally:
            db.close()
        self.confirming = ("trim", keep)
        return True, "\n".join([*lines, f"y: XTRIM {self.stream} MAXLEN = {keep} · esc: cancel"])

    def run_trim(self, keep: int) -> tuple[bool, str]:
        """The XTRIM the preview showed, exact."""
        db = self._db()
        try:
            removed = db.xtrim(self.stream, maxlen=keep, approximate=False)
            return True, f"XTRIM {self.stream} MAXLEN = {keep}: {removed} entries removed"
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
            return self.preview_trim()
        if name == "cancel":
            was, self.confirming = self.confirming, None
            return True, "cancelled: nothing was sent" if was else ""
        if name == "confirm" and self.confirming is not None and self.confirming[0] == "trim":
            _, keep = self.confirming
            self.confirming = None
            return self.run_trim(keep)
        return False, f"no step {name!r}"
