"""The recorder: one hook in the Monitor's poll loop appends each poll to the recording file.

What a poll writes: the streams that changed since the previous poll (codec.Encoded.same), the
indices of those read again unchanged and of those carried from an earlier poll (so a replay hands
the History the same objects the live one got), and, every so often, a keyframe with every stream.
A keyframe is due when the deltas since the last one weigh KEYFRAME_RATIO times what it did (a
replay seeks to a keyframe and unpacks at most that much again), or after KEYFRAME_POLLS polls
or KEYFRAME_SECONDS.
Beside the polls: the groups' lag and verdict changes, consumers coming and going, outages and the
actions, in plain tables for `sqlite3` (schema.py).

Each poll is one transaction (a kill -9 loses at most the poll being written). Any failure of the
file (full disk, read-only path, removed directory) stops the recording with one line
(`on_error`); the poll loop and the dashboard go on without it.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import inspect
import json
import os
import socket
import sqlite3
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import msgpack  # type: ignore[import-untyped]  # no type information shipped

from streamtop.pipeline.model import Discovery, Snapshot, StreamInfo, label

from .. import __version__
from .codec import (
    Encoded,
    encode_cost,
    encode_discovery,
    encode_nodes,
    encode_server,
    encode_stream,
    taken_ms,
)
from .schema import DDL, SCHEMA_VERSION, RecordingError, check_version

if TYPE_CHECKING:
    from streamtop.pipeline.history import History

    from ..actions import Actions


class Monitor(Protocol):
    """What the recorder reads of the Monitor (streamtop.monitor, a layer beside this one: a
    structural type, so record never imports it, not even for the type checker)."""

    @property
    def targets(self) -> tuple[str | bytes, ...]: ...
    @property
    def url(self) -> str: ...
    @property
    def answer_timeout(self) -> float: ...

    history: History
    last: Snapshot | None
    stale_since: float | None
    error: str | None
    failures: int

    @property
    def recorder(self) -> object: ...  # monitor.PollRecorder | None: only set here
    @recorder.setter
    def recorder(self, value: Recorder) -> None: ...

    def clock(self) -> float: ...


KEYFRAME_POLLS = 600
KEYFRAME_SECONDS = 600.0
KEYFRAME_MIN_BYTES = 64_000  # a small server's keyframe is tiny: not one every other poll
# deltas since the last keyframe may weigh this many keyframes: at 10,000 streams a keyframe is
# ~110 kB, and a seek only unpacks the deltas on its way (streams become objects when shown)
KEYFRAME_RATIO = 4
RETENTION_EVERY = 60  # polls between two retention checks
TIME_LAG_STEP = 0.1  # a time lag is written again when it moved by this share (and 1 s)
# Actions methods that only read: not recorded (every other coroutine of Actions is)
READS = frozenset(
    {
        "consumers",
        "groups",
        "pending_list",
        "pending_ids",
        "without_data_preview",
        "trim_preview",
        "consumer_preview",
        "group_preview",
        "dead_letter_preview",
        "gone_preview",
        "key_type",
        "entry",
        "cmd",
        "reread",
        "lost",
        "reconnect_error",
        "refusal",
        "default_dlq",
    }
)


def who(role: str) -> str:
    """Who sent an action: the local user, the host and the front end (dashboard, web, demo)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (a container without one)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()} ({role})"


def _pack(value: object, previous: bytes | None) -> tuple[bytes, bytes]:
    """(stored, raw): a delta is compressed with the previous poll's raw bytes as zlib's preset
    dictionary (a poll repeats most of the one before: keys, group names, ids), a keyframe alone."""
    raw: bytes = msgpack.packb(value, use_bin_type=True)
    if previous is None:
        return zlib.compress(raw, 6), raw
    z = zlib.compressobj(6, zdict=previous)
    return z.compress(raw) + z.flush(), raw


def _runs(indices: list[int]) -> list[int]:
    """Sorted indices as differences (compress to almost nothing when they run on)."""
    out, last = [], 0
    for i in indices:
        out.append(i - last)
        last = i
    return out


def _json_arg(value: object) -> object:
    if isinstance(value, bytes):
        return label(value)
    if isinstance(value, dict):
        return {str(k): _json_arg(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_arg(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


class Recorder:
    """Appends polls to `path`; `after_poll` is the Monitor's hook, `wrap` records actions."""

    def __init__(
        self,
        path: str | Path,
        *,
        url: str = "",
        targets: tuple[str, ...] = (),
        keep_s: float | None = None,
        max_bytes: int | None = None,
        role: str = "dashboard",
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.url = url
        self.targets = targets
        self.keep_s = keep_s
        self.max_bytes = max_bytes
        self.who = who(role)
        self.on_error = on_error
        self.error: str | None = None
        self.db: sqlite3.Connection | None = None
        self.polls = 0  # written by this recorder
        self._prev: Snapshot | None = None
        self._keys: tuple[bytes, ...] | None = None
        self._encs: dict[bytes, Encoded] = {}
        self._discovery: Discovery | None = None
        self._since_kf_bytes = 0
        self._kf_bytes = 0
        self._since_kf_polls = 0
        self._kf_t = 0.0
        self._gids: dict[tuple[bytes, bytes], int] = {}
        self._lag: dict[int, tuple[object, object, object, int | None]] = {}  # best, text, pending, time lag
        self._verdicts: dict[int, str] = {}
        self._consumers: dict[int, dict[bytes, float | None]] = {}
        self._groups_of: dict[bytes, set[bytes]] = {}
        self._outage: int | None = None  # rowid of the open outage
        self._wrapped: tuple[Actions, Actions] | None = None
        self._last_raw: bytes | None = None  # the previous poll's msgpack: the next one's zdict

    # the file ------------------------------------------------------------------------------

    def open(self) -> None:
        """Create or append to the file; RecordingError with one line when it cannot be written."""
        if self.db is not None:
            return
        try:
            fresh = not self.path.exists() or self.path.stat().st_size == 0
            db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
            try:
                if fresh:
                    db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # retention can give space back
                else:
                    check_version(db, self.path)
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise RecordingError(f"{self.path}: cannot use WAL mode here (got {mode})")
                db.execute("PRAGMA synchronous = NORMAL")
                db.executescript(DDL)
                now = str(time.time())
                for key, value in (
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("created_by", f"streamtop {__version__}"),
                    ("created_at", now),
                    ("url", self.url),
                    ("targets", json.dumps(list(self.targets))),
                ):
                    db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
                self._load_ids(db)
            except BaseException:
                db.close()
                raise
        except RecordingError:
            raise
        except (sqlite3.Error, OSError) as exc:
            raise RecordingError(f"cannot record to {self.path}: {exc}") from None
        self.db = db

    def _load_ids(self, db: sqlite3.Connection) -> None:
        """Appending to a file: the groups it knows keep their ids."""
        for gid, shex, ghex in db.execute("SELECT id, stream_hex, grp_hex FROM groups"):
            self._gids[(bytes.fromhex(shex), bytes.fromhex(ghex))] = gid
        for (rowid,) in db.execute('SELECT rowid FROM outages WHERE "end" IS NULL'):
            self._outage = rowid

    @property
    def active(self) -> bool:
        return self.error is None

    def _fail(self, exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, RecordingError) else f"{self.path}: {exc}"
        self.error = f"recording stopped ({text}); going on without recording"
        with contextlib.suppress(Exception):
            if self.db is not None:
                self.db.close()
        self.db = None
        if self.on_error is not None:
            self.on_error(self.error)

    def close(self) -> None:
        db, self.db = self.db, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.close()

    # the hook ------------------------------------------------------------------------------

    def after_poll(self, monitor: Monitor, started: float) -> None:
        """Called by Monitor.poll when a poll ended, well or not (never raises)."""
        if self.error is not None:
            return
        try:
            self.open()
            assert self.db is not None
            self._write_poll(self.db, monitor, started)
        except (RecordingError, sqlite3.Error, OSError) as exc:
            self._fail(exc)
        except Exception as exc:  # a bug here must not take the poll loop down: one line, go on
            self._fail(RecordingError(f"{type(exc).__name__}: {exc}"))

    def _write_poll(self, db: sqlite3.Connection, monitor: Monitor, started: float) -> None:
        now = monitor.clock()
        db.execute("BEGIN")
        try:
            waited = now - started
            if waited >= monitor.answer_timeout:
                db.execute(
                    "INSERT INTO outages VALUES (?, ?, 'not answering', NULL)",
                    (started + monitor.answer_timeout, now),
                )
            snap = monitor.last
            if monitor.failures:
                if self._outage is None:
                    cur = db.execute(
                        "INSERT INTO outages VALUES (?, NULL, 'stale', ?)",
                        (monitor.stale_since or now, monitor.error),
                    )
                    self._outage = cur.lastrowid
            elif snap is not None and snap is not self._prev:
                if self._outage is not None:
                    db.execute('UPDATE outages SET "end" = ? WHERE rowid = ?', (snap.taken_at, self._outage))
                    self._outage = None
                self._poll(db, monitor, snap)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        if self.polls and self.polls % RETENTION_EVERY == 0:
            self.retain(now)

    def _keyframe_due(self, snap: Snapshot) -> bool:
        return (
            self._prev is None
            or self._since_kf_polls >= KEYFRAME_POLLS
            or snap.taken_at - self._kf_t >= KEYFRAME_SECONDS
            or self._since_kf_bytes >= max(KEYFRAME_RATIO * self._kf_bytes, KEYFRAME_MIN_BYTES)
        )

    def _poll(self, db: sqlite3.Connection, monitor: Monitor, snap: Snapshot) -> None:
        """One poll's row: the streams it changed (all of them in a keyframe), the rest named by
        place; then what else differs from the last poll, packed against the last row."""
        keyframe = self._keyframe_due(snap)
        keys = tuple([s.key for s in snap.streams])
        same_keys = self._prev is not None and keys == self._keys
        before = self._before(keys, same_keys)
        changed, reread, carried, touched = self._changed_streams(db, snap, before, keyframe)
        if not same_keys:
            for gone in set(self._encs).difference(keys):
                del self._encs[gone]
                self._stream_gone(db, gone, snap.taken_at)
        for s in touched:
            self._verdict_rows(db, monitor, s, snap.taken_at)
        record = self._record(snap, keys, keyframe, changed, reread, carried)
        data, self._last_raw = _pack(record, None if keyframe else self._last_raw)
        db.execute(
            "INSERT INTO polls (t, keyframe, data) VALUES (?, ?, ?)", (snap.taken_at, int(keyframe), data)
        )
        self._count_bytes(snap, keyframe, len(data))
        self._prev, self._keys, self._discovery = snap, keys, snap.discovery
        self.polls += 1

    def _before(
        self, keys: tuple[bytes, ...], same_keys: bool
    ) -> tuple[StreamInfo | None, ...] | list[StreamInfo | None]:
        """The previous poll's stream at the same place (the usual case), else by key."""
        prev = self._prev
        if prev is not None and same_keys:
            return prev.streams
        objs = {s.key: s for s in prev.streams} if prev is not None else {}
        return [objs.get(k) for k in keys]

    def _changed_streams(
        self,
        db: sqlite3.Connection,
        snap: Snapshot,
        before: Sequence[StreamInfo | None],
        keyframe: bool,
    ) -> tuple[list[list[object]], list[int], list[int], list[StreamInfo]]:
        """(changed rows, places read again unchanged, places carried, streams read this poll).
        What a poll read again is a new object; the rest was carried, written only in a keyframe."""
        streams, encs = snap.streams, self._encs
        now_ms = taken_ms(snap.taken_at)
        fresh = [i for i, (s, b) in enumerate(zip(streams, before, strict=True)) if s is not b]
        changed: list[list[object]] = []
        reread: list[int] = []
        carried: list[int] = []
        if keyframe:
            fresh_set = set(fresh)
            carried = [i for i in range(len(streams)) if i not in fresh_set]
            for i in carried:
                enc = encs[streams[i].key]
                changed.append([i, enc.body, list(enc.ages)])
        touched = [streams[i] for i in fresh]
        for i in fresh:
            s = streams[i]
            if not keyframe and s == before[i]:  # read again, every field equal (a summary)
                reread.append(i)
                continue
            enc = encode_stream(s, now_ms)
            old = encs.get(s.key)
            if old is not None and enc.same(old):  # read again, unchanged: the old one stands
                reread.append(i)
                if not keyframe:
                    continue
                enc = old
            else:
                encs[s.key] = enc
                self._stream_tables(db, s, snap.taken_at, now_ms)
            changed.append([i, enc.body, list(enc.ages)])
        return changed, reread, carried, touched

    def _record(
        self,
        snap: Snapshot,
        keys: tuple[bytes, ...],
        keyframe: bool,
        changed: list[list[object]],
        reread: list[int],
        carried: list[int],
    ) -> dict[str, object]:
        """The row's fields: the poll's own, and what differs from the last poll (all in a keyframe)."""
        prev, discovery = self._prev, snap.discovery
        record: dict[str, object] = {
            "t": snap.taken_at,
            "d": snap.duration_ms,
            "rt": snap.round_trips,
            "drt": snap.discovery_round_trips,
            "cost": encode_cost(snap.cost),
            "chg": changed,
            "rr": _runs(reread),
        }
        if keyframe:  # in a delta, what is neither changed nor read again was carried
            record["cr"] = _runs(carried)
        if keyframe or discovery is not self._discovery and discovery != self._discovery:
            record["disc"] = encode_discovery(discovery)
        if keyframe or keys != self._keys:
            record["keys"] = list(keys)
        if keyframe or prev is None or snap.server != prev.server:
            record["srv"] = encode_server(snap.server)
        if keyframe or prev is None or snap.nodes != prev.nodes or snap.uncovered != prev.uncovered:
            record["nodes"] = encode_nodes(snap.nodes)
            record["unc"] = [list(r) for r in snap.uncovered]
        return record

    def _count_bytes(self, snap: Snapshot, keyframe: bool, size: int) -> None:
        """What decides the next keyframe: the bytes and polls since this one."""
        if keyframe:
            self._kf_bytes, self._since_kf_bytes, self._since_kf_polls = size, 0, 0
            self._kf_t = snap.taken_at
        else:
            self._since_kf_bytes += size
            self._since_kf_polls += 1

    # the plain tables ------------------------------------------------------------------------

    def _gid(self, db: sqlite3.Connection, key: bytes, group: bytes, t: float) -> int:
        gid = self._gids.get((key, group))
        if gid is None:
            cur = db.execute(
                "INSERT INTO groups (stream, grp, stream_hex, grp_hex, first_seen) VALUES (?, ?, ?, ?, ?)",
                (label(key), label(group), key.hex(), group.hex(), t),
            )
            assert cur.lastrowid is not None
            gid = self._gids[(key, group)] = cur.lastrowid
        return gid

    def _stream_tables(self, db: sqlite3.Connection, s: StreamInfo, t: float, now_ms: int) -> None:
        names = {g.name for g in s.groups}
        for gone in self._groups_of.get(s.key, set()) - names:
            self._group_gone(db, s.key, gone, t)
        if s.error is None:
            self._groups_of[s.key] = names
        for g in s.groups:
            known = (s.key, g.name) in self._gids
            gid = self._gid(db, s.key, g.name, t)
            if known and g.name not in self._groups_of.get(s.key, ()):  # back again
                db.execute("UPDATE groups SET gone_at = NULL WHERE id = ?", (gid,))
            lag = (g.lag.best, None if g.lag.known else g.lag.text(), g.pending)
            tl = g.time_lag.ms
            last = self._lag.get(gid)
            if last is None or last[:3] != lag or _moved(last[3], tl):
                db.execute("INSERT OR REPLACE INTO lag VALUES (?, ?, ?, ?, ?, ?)", (gid, t, *lag, tl))
                self._lag[gid] = (*lag, tl)
            if s.summary_only:  # a summary has no consumers: they did not leave
                continue
            seen = self._consumers.setdefault(gid, {})
            for c in g.consumer_list:
                at = (now_ms - c.idle_ms) / 1000
                if c.name not in seen:
                    db.execute(
                        "INSERT INTO consumers (gid, name, name_hex, first_seen, last_seen) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (gid, name_hex) "
                        "DO UPDATE SET gone_at = NULL, last_seen = excluded.last_seen",
                        (gid, label(c.name), c.name.hex(), t, at),
                    )
                elif seen[c.name] is None or abs(at - (seen[c.name] or 0)) >= 1.0:
                    db.execute(
                        "UPDATE consumers SET last_seen = ? WHERE gid = ? AND name_hex = ?",
                        (at, gid, c.name.hex()),
                    )
                else:
                    continue
                seen[c.name] = at
            for name in set(seen) - {c.name for c in g.consumer_list}:
                db.execute(
                    "UPDATE consumers SET gone_at = ? WHERE gid = ? AND name_hex = ?", (t, gid, name.hex())
                )
                del seen[name]

    def _group_gone(self, db: sqlite3.Connection, key: bytes, group: bytes, t: float) -> None:
        gid = self._gids.get((key, group))
        if gid is None:
            return
        db.execute("UPDATE groups SET gone_at = ? WHERE id = ?", (t, gid))
        db.execute("UPDATE consumers SET gone_at = ? WHERE gid = ? AND gone_at IS NULL", (t, gid))
        self._consumers.pop(gid, None)
        self._lag.pop(gid, None)
        self._verdicts.pop(gid, None)

    def _stream_gone(self, db: sqlite3.Connection, key: bytes, t: float) -> None:
        for group in self._groups_of.pop(key, set()):
            self._group_gone(db, key, group, t)

    def _verdict_rows(self, db: sqlite3.Connection, monitor: Monitor, s: StreamInfo, t: float) -> None:
        if s.error is not None:
            return
        history = monitor.history
        # each verdict as the header counts them (History keeps them per stream until a sample)
        for g, verdict in zip(s.groups, history.verdicts_of(s), strict=True):
            gid = self._gid(db, s.key, g.name, t)
            if self._verdicts.get(gid) != verdict:
                reason = history.health(s.key, g.name).reason
                db.execute(
                    "INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?)", (gid, t, str(verdict), reason)
                )
                self._verdicts[gid] = str(verdict)

    # actions -------------------------------------------------------------------------------

    def wrap(self, actions: Actions) -> Actions:
        """The session's Actions, each write recorded with who sent it and what came back."""
        if self._wrapped is None or self._wrapped[0] is not actions:
            # stands in for Actions by delegation (every method the UI calls is there)
            self._wrapped = (actions, cast("Actions", RecordingActions(actions, self)))
        return self._wrapped[1]

    def action(self, command: str, args: dict[str, object], ok: bool, result: str) -> None:
        if self.error is not None:
            return
        try:
            self.open()
            assert self.db is not None
            self.db.execute(
                "INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    self.who,
                    command,
                    json.dumps(_json_arg(args), ensure_ascii=False),
                    int(ok),
                    result,
                ),
            )
        except (RecordingError, sqlite3.Error, OSError) as exc:
            self._fail(exc)

    # retention -----------------------------------------------------------------------------

    def retain(self, now: float) -> None:
        """Drop the oldest polls (whole keyframe runs) past --keep or --max-size."""
        db = self.db
        if db is None:
            return
        try:
            dropped = False
            if self.keep_s is not None:
                row = db.execute(
                    "SELECT max(id) FROM polls WHERE keyframe = 1 AND t <= ?", (now - self.keep_s,)
                ).fetchone()
                if row[0] is not None:
                    dropped |= db.execute("DELETE FROM polls WHERE id < ?", (row[0],)).rowcount > 0
            if self.max_bytes is not None:
                while self._size(db) > self.max_bytes:
                    row = db.execute(
                        "SELECT id FROM polls WHERE keyframe = 1 ORDER BY id LIMIT 1 OFFSET 1"
                    ).fetchone()
                    if row is None or db.execute("DELETE FROM polls WHERE id < ?", (row[0],)).rowcount == 0:
                        break
                    dropped = True
                    self._trim_tables(db)
            if dropped:
                self._trim_tables(db)
        except (sqlite3.Error, OSError) as exc:
            self._fail(exc)

    def _trim_tables(self, db: sqlite3.Connection) -> None:
        first = db.execute("SELECT min(t) FROM polls").fetchone()[0]
        if first is None:
            return
        for table in ("lag", "verdicts", "actions"):
            db.execute(f"DELETE FROM {table} WHERE t < ?", (first,))  # noqa: S608 (fixed names)
        db.execute('DELETE FROM outages WHERE "end" IS NOT NULL AND "end" < ?', (first,))
        db.execute("DELETE FROM consumers WHERE gone_at IS NOT NULL AND gone_at < ?", (first,))
        db.execute("PRAGMA incremental_vacuum")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @staticmethod
    def _size(db: sqlite3.Connection) -> int:
        pages = (
            db.execute("PRAGMA page_count").fetchone()[0] - db.execute("PRAGMA freelist_count").fetchone()[0]
        )
        return int(pages) * int(db.execute("PRAGMA page_size").fetchone()[0])


def _moved(old: int | None, new: int | None) -> bool:
    if old is None or new is None:
        return old is not new
    return abs(new - old) >= max(1000, TIME_LAG_STEP * old)


class RecordingActions:
    """Stands in for Actions: reads pass through, every write is recorded after it returns."""

    def __init__(self, actions: Actions, recorder: Recorder) -> None:
        self._actions = actions
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._actions, name)
        if name.startswith("_") or name in READS or not callable(attr):
            return attr
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def recorded(*args: Any, **kwargs: Any) -> object:
            result = await attr(*args, **kwargs)
            ok = bool(getattr(result, "ok", True))
            message = str(getattr(result, "message", result))
            self._recorder.action(name, {"args": list(args), **kwargs}, ok, message)
            return result

        return recorded

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("_actions", "_recorder"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._actions, name, value)


def attach(
    monitor: Monitor,
    path: str | Path,
    *,
    keep_s: float | None = None,
    max_bytes: int | None = None,
    role: str = "dashboard",
    on_error: Callable[[str], None] | None = None,
) -> Recorder:
    """Record every poll of `monitor` (and every action sent through it) to `path`. The file is
    opened at the first poll: a failure then is one line to `on_error`, and polling goes on."""
    recorder = Recorder(
        path,
        url=monitor.url,
        targets=tuple(t if isinstance(t, str) else label(t) for t in monitor.targets),
        keep_s=keep_s,
        max_bytes=max_bytes,
        role=role,
        on_error=on_error,
    )
    monitor.recorder = recorder
    return recorder


def attach_from_args(
    monitor: Monitor, args: argparse.Namespace | None, role: str, on_error: Callable[[str], None]
) -> Recorder | None:
    """`--record FILE` with its `--keep` and `--max-size` (moments.add_record_arguments), for every
    command that takes them; None without --record."""
    path = getattr(args, "record", None)
    if args is None or path is None:
        return None
    return attach(monitor, path, keep_s=args.keep, max_bytes=args.max_size, role=role, on_error=on_error)
