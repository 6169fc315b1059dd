"""Reading a recording: the snapshot of any poll, the polls around it, the events between.

A snapshot is rebuilt from the keyframe at or before it and the polls after that keyframe
(writer.py). Streams the live poll carried from an earlier poll are the same objects here too, and
streams read again unchanged are new objects with their ages moved on, so a History fed these
snapshots judges exactly as the live one did. The file may still be growing (another streamtop
recording into it): `refresh()` picks up the polls written since.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgpack  # type: ignore[import-untyped]  # no type information shipped

from streamtop.pipeline.history import History
from streamtop.pipeline.model import Discovery, NodeStatus, ServerInfo, Snapshot, StreamInfo

from .codec import (
    Encoded,
    Packed,
    decode_cost,
    decode_discovery,
    decode_nodes,
    decode_server,
    decode_stream,
    taken_ms,
)
from .schema import RecordingError, open_for_reading


def _unruns(diffs: list[int]) -> list[int]:
    out, last = [], 0
    for d in diffs:
        last += d
        out.append(last)
    return out


@dataclass(frozen=True, slots=True)
class Event:
    """Something worth jumping to in a replay."""

    t: float
    kind: str  # "verdict", "outage", "recovered", "action", "group", "group gone", "consumer", ...
    text: str


class _Decoder:
    """The state carried from poll to poll while applying deltas."""

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.encs: dict[bytes, Encoded] = {}
        self.objs: dict[bytes, StreamInfo] = {}  # the streams as objects, made when first asked
        self.read_ms: dict[bytes, int] = {}  # when each stream was last read: its ages count from there
        self.discovery = Discovery()
        self.server: ServerInfo = ServerInfo()
        self.nodes: tuple[NodeStatus, ...] = ()
        self.uncovered: tuple[tuple[int, int], ...] = ()
        self.poll_id: int | None = None
        self.last_raw: bytes | None = None  # the previous poll's msgpack: a delta's zlib zdict

    def apply(
        self, poll_id: int, data: bytes, keyframe: bool, continuing: bool, materialize: bool = True
    ) -> Snapshot | None:
        if keyframe:
            raw = zlib.decompress(data)
        elif self.last_raw is None:
            raise RecordingError(f"poll {poll_id}: a delta without the poll before it (damaged file)")
        else:
            z = zlib.decompressobj(zdict=self.last_raw)
            raw = z.decompress(data) + z.flush()
        self.last_raw = raw
        rec: dict[str, Packed] = msgpack.unpackb(raw, raw=False, strict_map_key=False)
        now_ms = taken_ms(rec["t"])
        if "disc" in rec:
            self.discovery = decode_discovery(rec["disc"])
        if "srv" in rec:
            self.server = decode_server(rec["srv"])
        if "nodes" in rec:
            self.nodes = decode_nodes(rec["nodes"])
            self.uncovered = tuple((r[0], r[1]) for r in rec["unc"])
        carried = set(_unruns(rec.get("cr", []))) if continuing else set()
        objs, encs, read_ms = self.objs, self.encs, self.read_ms
        if "keys" in rec:
            self.keys = list(rec["keys"])
            for gone in set(encs).difference(self.keys):
                del encs[gone]
                read_ms.pop(gone, None)
                objs.pop(gone, None)
        keys = self.keys
        for i, body, ages in rec["chg"]:
            key = keys[i]
            if i in carried and key in objs:  # a keyframe's copy of a stream carried live
                continue
            encs[key] = Encoded(body, tuple(ages))
            read_ms[key] = now_ms
            objs.pop(key, None)
        for i in _unruns(rec["rr"]):  # read again unchanged: a new object, its ages moved on
            read_ms[keys[i]] = now_ms
            objs.pop(keys[i], None)
        self.poll_id = poll_id
        if not materialize:  # a poll on the way to the one asked for: the state is enough
            return None
        streams = []
        for key in keys:
            got = objs.get(key)
            if got is None:
                got = objs[key] = decode_stream(encs[key], read_ms[key])
            streams.append(got)
        return Snapshot(
            taken_at=rec["t"],
            duration_ms=rec["d"],
            round_trips=rec["rt"],
            server=self.server,
            streams=tuple(streams),
            discovery=self.discovery,
            discovery_round_trips=rec["drt"],
            nodes=self.nodes,
            uncovered=self.uncovered,
            cost=decode_cost(rec["cost"]),
        )


class Recording:
    """A recording opened to read (refused with RecordingError if it is not one, or newer)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = open_for_reading(self.path)
        try:
            self.meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
            self.ids: list[int] = []
            self.times: list[float] = []
            self.keyframes: list[int] = []
            self.refresh()
        except sqlite3.Error as exc:
            self.db.close()
            raise RecordingError(f"{self.path}: not a streamtop recording, or damaged ({exc})") from None
        self._decoder = _Decoder()

    def close(self) -> None:
        self.db.close()

    @property
    def url(self) -> str:
        return str(self.meta.get("url", ""))

    @property
    def targets(self) -> tuple[str, ...]:
        try:
            return tuple(json.loads(self.meta.get("targets", "[]")))
        except ValueError:
            return ()

    def refresh(self) -> bool:
        """Read the index of the polls written since; True when there are new ones."""
        last = self.ids[-1] if self.ids else 0
        rows = self.db.execute(
            "SELECT id, t, keyframe FROM polls WHERE id > ? ORDER BY id", (last,)
        ).fetchall()
        if not self.ids:  # retention may have dropped the start: begin at the first keyframe
            while rows and not rows[0][2]:
                rows.pop(0)
        for poll_id, t, keyframe in rows:
            self.ids.append(poll_id)
            self.times.append(t)
            if keyframe:
                self.keyframes.append(poll_id)
        return bool(rows)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def span(self) -> tuple[float, float] | None:
        return (self.times[0], self.times[-1]) if self.times else None

    def index_at(self, t: float) -> int | None:
        """The index of the last poll at or before `t` (None: before the first poll)."""
        i = bisect.bisect_right(self.times, t) - 1
        return i if i >= 0 else None

    # snapshots -----------------------------------------------------------------------------

    def _rows(self, first_id: int, last_id: int) -> Iterator[tuple[int, bytes, int]]:
        yield from self.db.execute(
            "SELECT id, data, keyframe FROM polls WHERE id BETWEEN ? AND ? ORDER BY id", (first_id, last_id)
        )

    def snapshots(self, first: int, last: int) -> Iterator[Snapshot]:
        """The snapshots of polls first..last (indices), in order."""
        if not self.ids or last < first:
            return
        first_id, last_id = self.ids[first], self.ids[last]
        dec = self._decoder
        k = bisect.bisect_right(self.keyframes, first_id) - 1
        keyframe = self.keyframes[max(k, 0)]
        if dec.poll_id is not None and keyframe <= dec.poll_id < first_id:
            start_id = dec.poll_id + 1  # go on from where the decoder is: no keyframe in between
        else:
            start_id, dec = keyframe, _Decoder()
        for poll_id, data, keyframe in self._rows(start_id, last_id):
            wanted = poll_id >= first_id
            try:
                snap = dec.apply(poll_id, data, bool(keyframe), dec.poll_id is not None, materialize=wanted)
            except (zlib.error, ValueError, KeyError, IndexError, TypeError) as exc:
                raise RecordingError(f"{self.path}: poll {poll_id} is damaged ({exc})") from None
            self._decoder = dec
            if snap is not None:
                yield snap

    def snapshot(self, index: int) -> Snapshot:
        return next(iter(self.snapshots(index, index)))

    def history_until(
        self, index: int, window: float, points: int = 0, into: History | None = None
    ) -> tuple[Snapshot, History]:
        """The snapshot of poll `index` and a History (`into`, else a new one) fed the polls of the
        `window` seconds before it (and at least `points` polls), as the live one had them."""
        history = into if into is not None else History(window)
        t = self.times[index]
        first = bisect.bisect_left(self.times, t - window)
        first = max(0, min(first, index - points))
        snap = None
        for snap in self.snapshots(first, index):
            history.update(snap)
        assert snap is not None
        return snap, history

    # the plain tables ----------------------------------------------------------------------

    def outage_at(self, t: float) -> tuple[float, str, str | None] | None:
        """(start, state, error) of an outage that covers `t`."""
        row = self.db.execute(
            'SELECT start, state, error FROM outages WHERE start <= ? AND ("end" IS NULL OR "end" > ?) '
            "ORDER BY start DESC LIMIT 1",
            (t, t),
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def events(self, start: float | None = None, end: float | None = None) -> list[Event]:
        """Verdict changes, outages, actions, groups and consumers coming and going, in time order."""
        lo, hi = start if start is not None else float("-inf"), end if end is not None else float("inf")
        q = self.db.execute
        out: list[Event] = []
        for t, stream, grp, verdict, reason in q(
            "SELECT v.t, g.stream, g.grp, v.verdict, v.reason FROM verdicts v JOIN groups g ON g.id = v.gid "
            "WHERE v.t BETWEEN ? AND ?",
            (lo, hi),
        ):
            out.append(Event(t, "verdict", f"{stream} / {grp}: {verdict} ({reason})"))
        for s, e, state, error in q('SELECT start, "end", state, error FROM outages'):
            if lo <= s <= hi:
                out.append(Event(s, "outage", f"server {state}" + (f": {error}" if error else "")))
            if e is not None and lo <= e <= hi:
                out.append(Event(e, "recovered", f"server back after {state}"))
        for t, who, command, ok, result in q(
            "SELECT t, who, command, ok, result FROM actions WHERE t BETWEEN ? AND ?", (lo, hi)
        ):
            out.append(Event(t, "action", f"{command} by {who}: {'ok' if ok else 'failed'}: {result}"))
        for first, gone, stream, grp in q("SELECT first_seen, gone_at, stream, grp FROM groups"):
            if lo <= first <= hi:
                out.append(Event(first, "group", f"group {stream} / {grp} appeared"))
            if gone is not None and lo <= gone <= hi:
                out.append(Event(gone, "group gone", f"group {stream} / {grp} left"))
        for first, gone, stream, grp, name in q(
            "SELECT c.first_seen, c.gone_at, g.stream, g.grp, c.name "
            "FROM consumers c JOIN groups g ON g.id = c.gid"
        ):
            if lo <= first <= hi:
                out.append(Event(first, "consumer", f"consumer {name} appeared in {stream} / {grp}"))
            if gone is not None and lo <= gone <= hi:
                out.append(Event(gone, "consumer gone", f"consumer {name} left {stream} / {grp}"))
        out.sort(key=lambda e: e.t)
        return out
