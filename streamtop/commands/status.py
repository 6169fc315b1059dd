"""`streamtop status`: one snapshot for shells, CI and cron, as a table or as JSON.

Exit codes: 0 when every threshold holds (or none was given), 2 when any is breached or part of a
cluster is out (a primary that does not answer, CLUSTERDOWN, hash slots no node serves: with or
without thresholds, since nothing there was read), 1 when the server cannot be reached, an option
is bad, or a KEY named on the command line is missing or not a stream. Thresholds are maxima: a
value *above* the threshold is a breach (`--max-lag 0` alerts on any lag at all).
With `--health`, 2 also when any group's health verdict is not `ok` or `idle`.

Lag and thresholds: a group's lag is the server's `lag` field when it gives a number (7.0+). When
it cannot (NULL on 7.0+ after deletions, trims or a group created / SETID at an arbitrary ID; no
field at all on 6.2) streamtop counts the entries after the group's last-delivered-id with a
bounded XRANGE and uses that *estimate* for `--max-lag`. The count stops at a cap (1000, raised to
`--max-lag + 1`, at most 100000) and a capped estimate is a lower bound. A lag that is still
unknown (the count failed, or was capped below the threshold) counts as a BREACH with value null:
exit 0 promises that every threshold was verified. `--max-idle` likewise treats a group with
pending entries whose oldest entry could not be read as a breach.

Health (see health.py for the rules): `--window 30s` polls for that long (about once a second)
before answering and judges each group over those polls; without it one poll is judged (against a
60 s window: what one poll can decide, e.g. `stopped`, else `unknown`).

One poll is read, judged and written a part of the keyspace at a time (PART streams, issue 29:
memory bounded by a part, not by the number of streams), into a spool that reaches stdout once
every part was read (Report); `--rates`, `--window`, `--from-file` and a cluster are one part.

JSON document (`--json`): its fields are written once, in status.schema.json next to this module
(JSON Schema draft 2020-12, printed by `--json-schema`; docs/status-json.md links it). Every test
that runs `--json` validates its output against that file.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from importlib import resources
from json.encoder import encode_basestring
from typing import TextIO, cast

from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from streamtop import __version__
from streamtop import numbers as num
from streamtop.cliargs import UsageError, add_watch_arguments, spec_from_args
from streamtop.commands.shared import Connected, connected
from streamtop.errors import ClusterOutage
from streamtop.options import POLL_DEFAULTS, PollOptions
from streamtop.pipeline import render
from streamtop.pipeline.cluster import ClusterError
from streamtop.pipeline.collector import Collector
from streamtop.pipeline.connection import (
    CLUSTER_OUTAGES,
    REDIS_ERRORS,
    AsyncClient,
    ConnectError,
    ConnectionSpec,
    describe_error,
)
from streamtop.pipeline.health import DEFAULT_WINDOW, Verdict
from streamtop.pipeline.history import History
from streamtop.pipeline.liveness import (
    Clients,
    group_liveness,
    liveness,
    needs_clients,
    poll_clock,
    read_clients,
)
from streamtop.pipeline.model import GroupInfo, LagSource, Snapshot, StreamInfo, id_ms, label
from streamtop.pipeline.source import Wants
from streamtop.session import ServerSource, close_collector, make_collector

SCHEMA_VERSION = 2  # 2: health "failing" renamed "stuck" (issue 25)
OUTAGE_REPLIES = ("CLUSTERDOWN", "MOVED", "ASK", "TRYAGAIN", "MASTERDOWN")  # the cluster, not the key
MAX_ESTIMATE_CAP = 100_000
EXIT_OK, EXIT_ERROR, EXIT_BREACH = 0, 1, 2
PART = 1000  # streams read, judged and written at a time (issue 29; Collector.parts)
WINDOW_POLL = 1.0  # seconds between the polls of --window (less for a window under 10 s)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_watch_arguments(p)
    p.add_argument("--json", action="store_true", help="print a JSON document (schema_version 2)")
    p.add_argument(
        "--json-schema",
        action="store_true",
        help="print the JSON Schema (draft 2020-12) of the --json document and exit",
    )
    p.add_argument(
        "--rates", action="store_true", help="poll twice, --rates-interval apart, to show in/s and read/s"
    )
    p.add_argument(
        "--rates-interval",
        type=num.RATES_INTERVAL.arg,
        default=1.0,
        metavar="SECONDS",
        help="seconds between the two polls of --rates (default 1)",
    )
    p.add_argument(
        "--window",
        dest="window_ms",
        type=num.WINDOW.arg,
        default=None,
        metavar="DURATION",
        help="poll for this long (30s, 2m) and judge each group's health over it",
    )
    p.add_argument(
        "--from-file",
        metavar="FILE",
        help="answer from a recording (streamtop record, --record) instead of the server",
    )
    p.add_argument(
        "--at",
        metavar="TIME",
        help="with --from-file: the moment (03:12, 03:12:04, 2026-12-07T03:12:04, -5m, end; default end)",
    )
    p.add_argument(
        "--health",
        action="store_true",
        help="exit 2 when any group is not ok or idle (stalled, stopped, stuck...)",
    )
    t = p.add_argument_group("thresholds (exit 2 when any is exceeded)")
    t.add_argument(
        "--max-lag",
        type=num.MAX_LAG.arg,
        metavar="N",
        help="entries a group may lag behind (an estimate counts; unknown breaches)",
    )
    t.add_argument(
        "--max-pending",
        type=num.MAX_PENDING.arg,
        metavar="N",
        help="entries a group may have pending (delivered, not acknowledged)",
    )
    t.add_argument(
        "--max-idle",
        type=num.MAX_IDLE.arg,
        metavar="SECONDS",
        help="idle time of a group's oldest pending entry",
    )
    t.add_argument("--max-length", type=num.MAX_LENGTH.arg, metavar="N", help="entries in a stream")


# thresholds ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_lag: int | None = None
    max_pending: int | None = None
    max_idle_ms: int | None = None
    max_length: int | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.max_lag, self.max_pending, self.max_idle_ms, self.max_length))

    def estimate_cap(self) -> int:
        """Count far enough past last-delivered-id that an estimate can decide --max-lag."""
        if self.max_lag is None:
            return POLL_DEFAULTS.estimate_cap
        return min(max(POLL_DEFAULTS.estimate_cap, self.max_lag + 1), MAX_ESTIMATE_CAP)

    def poll_options(self, max_streams: int) -> PollOptions:
        """One-shot polls: every estimate counted now (none kept from an earlier poll), far
        enough to decide --max-lag."""
        return PollOptions(max_streams=max_streams, estimate_cap=self.estimate_cap(), estimate_interval=0)

    def as_json(self) -> dict[str, int | None]:
        return {
            "max_lag": self.max_lag,
            "max_pending": self.max_pending,
            "max_idle_ms": self.max_idle_ms,
            "max_length": self.max_length,
        }


@dataclass(frozen=True, slots=True)
class Breach:
    stream: bytes | None  # None for a cluster node that did not answer
    group: bytes | None
    metric: str  # "lag" | "pending" | "idle_ms" | "length" | "unreadable"
    value: int | None
    threshold: int | None
    value_source: str = "exact"  # "exact" | "estimate" | "unknown"
    error: str | None = None  # why it is unreadable (the server's error, or the node's)
    node: str | None = None

    def text(self) -> str:
        """One line, names and errors escaped and long names cut (the JSON has them whole)."""
        if self.metric == "unreadable":
            what = _name(self.stream) if self.stream is not None else f"node {render.clean(self.node)}"
            return f"{what}: could not be read, thresholds unverified ({render.clean(self.error)})"
        where = _name(self.stream or b"") + (f" group {_name(self.group)}" if self.group is not None else "")
        if self.metric == "idle_ms":
            shown, limit = render.duration_ms(self.value), render.duration_ms(self.threshold)
            what = "oldest pending idle"
        else:
            shown, limit, what = (
                ("?" if self.value is None else str(self.value)),
                str(self.threshold),
                self.metric,
            )
        if self.value_source == "estimate":
            shown = f"~{shown}"
        if self.value is None:
            return f"{where}: {what} unknown, cannot verify <= {limit}"
        return f"{where}: {what} {shown} > {limit}"

    def as_json(self) -> dict[str, object]:
        return {
            "stream": None if self.stream is None else label(self.stream),
            "stream_hex": None if self.stream is None else self.stream.hex(),
            "group": None if self.group is None else label(self.group),
            "group_hex": None if self.group is None else self.group.hex(),
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "value_source": self.value_source,
            "error": self.error,
            "node": self.node,
        }


def _lag_breach(stream: StreamInfo, g: GroupInfo, limit: int) -> Breach | None:
    lag = g.lag
    if lag.value is not None:
        return Breach(stream.key, g.name, "lag", lag.value, limit) if lag.value > limit else None
    if lag.estimate is not None:
        if lag.estimate > limit:  # a capped estimate is a lower bound: still proves the breach
            return Breach(stream.key, g.name, "lag", lag.estimate, limit, "estimate")
        if not lag.capped:
            return None
    return Breach(stream.key, g.name, "lag", None, limit, "unknown")


def _idle_breach(stream: StreamInfo, g: GroupInfo, limit_ms: int) -> Breach | None:
    if g.pending_summary is None:  # XPENDING failed: only a group with nothing pending is fine
        if g.pending > 0:
            return Breach(stream.key, g.name, "idle_ms", None, limit_ms, "unknown")
        return None
    idle = g.oldest_pending_idle_ms
    if idle is None and g.pending > 0:  # the oldest entry could not be read: unverified
        return Breach(stream.key, g.name, "idle_ms", None, limit_ms, "unknown")
    if idle is not None and idle > limit_ms:
        return Breach(stream.key, g.name, "idle_ms", idle, limit_ms)
    return None


def slot_ranges_text(ranges: tuple[tuple[int, int], ...]) -> str:
    """'0-5460, 10923' for people; the JSON has the pairs."""
    return ", ".join(f"{s}-{e}" if s != e else str(s) for s, e in ranges)


def find_breaches(snap: Snapshot, th: Thresholds) -> list[Breach]:
    """Every threshold exceeded, in stream order. An outage is always one, thresholds or not: a
    cluster node that did not answer, slots no node serves, a stream refused with CLUSTERDOWN (its
    data was not read, so "ok" would be a guess). With any threshold set, a stream whose XINFO
    failed otherwise (e.g. NOPERM) is one too: exit 0 must mean every threshold was checked. A
    stream deleted since discovery is not."""
    return [*server_breaches(snap), *stream_breaches(snap.streams, th)]


def server_breaches(snap: Snapshot) -> list[Breach]:
    """The cluster's part of find_breaches: nodes that did not answer, slots no node serves."""
    out: list[Breach] = [
        Breach(None, None, "unreadable", None, None, "unknown", n.error or "did not answer", n.address)
        for n in snap.stale_nodes
    ]
    if snap.uncovered:
        out.append(
            Breach(
                None,
                None,
                "unreadable",
                None,
                None,
                "unknown",
                f"hash slots {slot_ranges_text(snap.uncovered)} are served by no node",
            )
        )
    return out


def stream_breaches(streams: Iterable[StreamInfo], th: Thresholds) -> list[Breach]:
    """The streams' part of find_breaches, in their order (each stream judged on its own, so a
    part of the keyspace at a time gives the same list)."""
    out: list[Breach] = []
    for s in streams:
        if s.stale:
            continue  # its node is reported above
        if s.error is not None:
            outage = s.error.startswith(OUTAGE_REPLIES)
            if (th.any or outage) and "no such key" not in s.error:
                out.append(Breach(s.key, None, "unreadable", None, None, "unknown", s.error, s.node))
            continue
        if th.max_length is not None and s.length > th.max_length:
            out.append(Breach(s.key, None, "length", s.length, th.max_length))
        for g in s.groups:
            if th.max_lag is not None and (b := _lag_breach(s, g, th.max_lag)):
                out.append(b)
            if th.max_pending is not None and g.pending > th.max_pending:
                out.append(Breach(s.key, g.name, "pending", g.pending, th.max_pending))
            if th.max_idle_ms is not None and (b := _idle_breach(s, g, th.max_idle_ms)):
                out.append(b)
    return out


# collecting ----------------------------------------------------------------------------------


@dataclass
class Result:
    snapshot: Snapshot
    history: History
    url: str
    rates_interval: float | None
    targets: tuple[str, ...] = ()
    window: float = DEFAULT_WINDOW
    polls: int = 1
    clients: Clients | None = None  # CLIENT LIST for liveness, when a consumer idled long (standalone)

    def unhealthy(self) -> list[tuple[StreamInfo, GroupInfo, Verdict]]:
        """Every group whose verdict is not ok or idle, in stream order."""
        out = []
        for s in self.snapshot.streams:
            for g in s.groups if s.error is None else ():
                verdict = self.history.health(s.key, g.name).verdict
                if not verdict.healthy:
                    out.append((s, g, verdict))
        return out


async def _key_problems(client: AsyncClient, collector: ServerSource, snap: Snapshot) -> list[str]:
    """Keys named on the command line that are missing or hold another type: a usage error."""
    problems = []
    for s in snap.streams:
        if s.error is None or s.key not in collector.explicit:
            continue
        kind = await client.type(s.key)
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        if kind == "none":
            problems.append(f"no stream at key '{label(s.key)}' (it does not exist)")
        elif kind != "stream":
            problems.append(f"key '{label(s.key)}' holds a {kind}, not a stream")
        else:
            problems.append(f"key '{label(s.key)}': {s.error}")
    return problems


@asynccontextmanager
async def _polling(
    spec: ConnectionSpec, targets: list[str], options: PollOptions
) -> AsyncIterator[tuple[Connected, ServerSource]]:
    """The connection (commands.shared.connected: in a cluster, TYPE checks go to the node that
    owns each key) and a one-shot collector on it, both closed at the end; redis-py's errors as
    one line (part of a cluster out: ClusterOutage, exit 2)."""
    collector: ServerSource | None = None
    try:
        async with connected(spec, keep_seed=True) as conn:
            try:
                collector = make_collector(spec, conn.seed, conn.server, targets, options)
                collector.want(Wants(one_shot=True))  # a cluster waits a hung node out, then says so
                yield conn, collector
            finally:
                if collector is not None:
                    await close_collector(collector)
    except ClusterError as exc:
        raise ConnectError(str(exc)) from None
    except CLUSTER_OUTAGES as exc:  # part of the cluster is out: a breach (exit 2), as a node down
        raise ClusterOutage(describe_error(exc, spec)) from None
    except REDIS_ERRORS as exc:
        raise ConnectError(describe_error(exc, spec)) from None


async def collect(
    spec: ConnectionSpec,
    targets: list[str],
    options: PollOptions,
    rates_interval: float | None,
    window: float | None = None,
) -> Result:
    """One snapshot (two, `rates_interval` apart, when rates are wanted; polls for `window`
    seconds when given, for the health verdicts); the client is closed."""
    async with _polling(spec, targets, options) as (conn, collector):
        history = History(window or DEFAULT_WINDOW)
        snap = await collector.poll()
        history.update(snap)
        started, polls = snap.taken_at, 1
        if rates_interval is not None:
            await asyncio.sleep(rates_interval)
            snap = await collector.poll()
            history.update(snap)
            polls += 1
        step = min(WINDOW_POLL, (window or 0) / 10)
        while window and snap.taken_at - started < window:
            await asyncio.sleep(min(step, max(0.0, window - (snap.taken_at - started))))
            snap = await collector.poll()
            history.update(snap)
            polls += 1
        problems = await _key_problems(conn.keys, collector, snap)
        groups = [g for s in snap.streams for g in s.groups]
        standalone = conn.server.mode != "cluster"
        clients = await read_clients(conn.seed) if standalone and needs_clients(groups) else None
    if problems:
        raise UsageError("; ".join(problems))
    url = spec.display_url()
    return Result(
        snap, history, url, rates_interval, tuple(targets), window or DEFAULT_WINDOW, polls, clients
    )


async def parts_of(collector: ServerSource, size: int) -> AsyncIterator[Snapshot]:
    """The poll a part at a time (Collector.parts); a cluster's in one piece (ClusterCollector
    merges its nodes' rows by key, with the keys on their way between nodes)."""
    if isinstance(collector, Collector):
        async for part in collector.parts(size):
            yield part
    else:
        yield await collector.poll()


async def collect_parts(
    spec: ConnectionSpec, targets: list[str], options: PollOptions, report: Report, size: int | None = None
) -> None:
    """One poll, `size` streams at a time, each part judged and written by `report` and dropped
    (issue 29: memory bounded by a part, not by the keyspace); the client is closed. As `collect`
    otherwise: the keys named on the command line that are missing or not streams are a usage
    error, CLIENT LIST is read (once) when a consumer idled long."""
    problems: list[str] = []
    clients: Clients | None = None
    url = spec.display_url()
    async with _polling(spec, targets, options) as (conn, collector):
        clients_read = conn.server.mode == "cluster"  # standalone only, as collect
        async for snap in parts_of(collector, size or PART):
            history = History(DEFAULT_WINDOW)  # each stream is judged on its own: a part's is enough
            history.update(snap)
            problems += await _key_problems(conn.keys, collector, snap)
            if not clients_read and needs_clients([g for s in snap.streams for g in s.groups]):
                clients, clients_read = await read_clients(conn.seed), True
            if not problems:  # a usage error prints nothing else
                report.add(Result(snap, history, url, None, tuple(targets), DEFAULT_WINDOW, 1, clients))
    if problems:
        raise UsageError("; ".join(problems))


def recorded(path: str, at: str | None, targets: list[str], window: float | None, rates: bool) -> Result:
    """What a live status said at `at` (default: the end), from a recording: the poll at or
    before that moment, judged over the recorded polls of `window` before it (one poll without
    it, as live); with `rates` the poll before it too. The server down then is exit 1, as live."""
    import bisect
    import fnmatch
    from datetime import datetime

    from streamtop.record import Recording, RecordingError
    from streamtop.record.moments import MomentError, parse_moment

    def moment(t: float) -> str:
        return datetime.fromtimestamp(t).isoformat(sep=" ", timespec="seconds")

    try:
        rec = Recording(path)
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    try:
        if rec.span is None:
            raise UsageError(f"{path}: no poll recorded yet")
        first_t, last_t = rec.span
        try:
            t = parse_moment(at or "end", first_t, last_t)
        except MomentError as exc:
            raise UsageError(f"--at: {exc}") from None
        i = rec.index_at(t)
        if i is None:
            raise UsageError(f"nothing recorded at {moment(t)}: the recording starts at {moment(first_t)}")
        outage = rec.outage_at(t)
        if outage is not None:
            start, state, error = outage
            raise ConnectError(
                f"at {moment(t)} the server was {state} (since {moment(start)})"
                + (f": {error}" if error else "")
            )
        gap = max(10.0, 3 * (rec.times[i] - rec.times[i - 1])) if i > 0 else 10.0
        if t - rec.times[i] > gap:
            raise UsageError(
                f"nothing recorded at {moment(t)}: the last poll before it is at {moment(rec.times[i])}"
                + (" (the recording ends there)" if i == len(rec) - 1 else "")
            )
        first = i
        if window:
            first = bisect.bisect_left(rec.times, rec.times[i] - window)
        if rates and i > 0:
            first = min(first, i - 1)
        history = History(window or DEFAULT_WINDOW)
        polls = 0
        snap: Snapshot | None = None
        for snap in rec.snapshots(first, i):
            history.update(snap)
            polls += 1
        assert snap is not None
        if targets:
            keep = tuple(
                s for s in snap.streams if any(fnmatch.fnmatchcase(label(s.key), p) for p in targets)
            )
            snap = dataclasses.replace(snap, streams=keep)
        rates_interval = rec.times[i] - rec.times[i - 1] if rates and i > 0 else None
        return Result(
            snap,
            history,
            rec.url,
            rates_interval,
            tuple(targets) or rec.targets,
            window or DEFAULT_WINDOW,
            polls,
        )
    finally:
        rec.close()


# JSON ----------------------------------------------------------------------------------------


def json_schema() -> str:
    """The JSON Schema of the `--json` document, as shipped in the package (status.schema.json)."""
    return resources.files("streamtop").joinpath("status.schema.json").read_text(encoding="utf-8")


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _group_json(res: Result, s: StreamInfo, g: GroupInfo) -> dict[str, object]:
    health = res.history.health(s.key, g.name)
    ps = g.pending_summary
    oldest = ps.oldest if ps else None
    now_ms, server_clock = poll_clock(res.snapshot)
    states = group_liveness(g, now_ms, clients=res.clients, server_clock=server_clock)
    return {
        "name": label(g.name),
        "name_hex": g.name.hex(),
        "error": g.error,
        "consumer_count": g.consumers,
        "pending": g.pending,
        "last_delivered_id": g.last_delivered_id,
        "last_delivered_ms": id_ms(g.last_delivered_id),
        "entries_read": g.entries_read,
        "lag": g.lag.value,
        "lag_source": str(g.lag.source),
        "lag_estimate": g.lag.estimate if g.lag.source is LagSource.ESTIMATE else None,
        "lag_estimate_capped": g.lag.capped,
        "lag_text": g.lag.text(),
        "read_per_s": _rate(res.history.group_rate(s.key, g.name)),
        "oldest_pending_id": oldest.id if oldest else None,
        "oldest_pending_consumer": label(oldest.consumer) if oldest else None,
        "oldest_pending_idle_ms": oldest.idle_ms if oldest else None,
        "oldest_pending_deliveries": oldest.deliveries if oldest else None,
        "oldest_pending_age_ms": g.oldest_pending_age_ms,
        "time_lag_ms": g.time_lag.ms,
        "time_lag_source": str(g.time_lag.source),
        "last_read_ms": g.last_read_ms,
        "read_rate": _rate(health.read_rate),
        "add_rate": _rate(health.add_rate),
        "eta_s": None if health.eta_s is None else round(health.eta_s, 1),
        "health": str(health.verdict),
        "health_reason": health.reason,
        "consumers": [
            {
                "name": label(c.name),
                "name_hex": c.name.hex(),
                "pending": c.pending,
                "idle_ms": c.idle_ms,
                "inactive_ms": c.inactive_ms,
                "gone": states[c.name].gone,
                "gone_reason": states[c.name].reason or None,
                "liveness": str(states[c.name].state),
            }
            for c in g.consumer_list
        ],
    }


def _stream_json(res: Result, s: StreamInfo) -> dict[str, object]:
    return {
        "key": label(s.key),
        "key_hex": s.key.hex(),
        "node": s.node,
        "error": s.error,
        "stale": s.stale,
        "length": None if s.error is not None else s.length,
        "first_entry_id": s.first_entry_id,
        "first_entry_ms": id_ms(s.first_entry_id),
        "last_entry_id": s.last_entry_id,
        "last_entry_ms": id_ms(s.last_entry_id),
        "last_generated_id": s.last_generated_id,
        "entries_added": s.entries_added,
        "max_deleted_entry_id": s.max_deleted_entry_id,
        "recorded_first_entry_id": s.recorded_first_entry_id,
        "in_per_s": _rate(res.history.stream_rate(s.key)),
        "groups": [_group_json(res, s, g) for g in s.groups],
    }


def to_json(
    res: Result, th: Thresholds, breaches: list[Breach], health: bool = False, streamed: bool = False
) -> dict[str, object]:
    """The whole document of one Result. `streamed`: the streams as a Streamed list, for
    write_json (the command itself writes a part at a time: Report)."""
    snap = res.snapshot
    unhealthy = bool(res.unhealthy())
    streams: list[object] = (
        Streamed(lambda: map(partial(_stream_json, res), snap.streams), len(snap.streams))
        if streamed
        else [_stream_json(res, s) for s in snap.streams]
    )
    return _document(
        res,
        th,
        len(snap.streams),
        not unhealthy,
        not breaches and not (health and unhealthy),
        [b.as_json() for b in breaches],
        streams,
    )


def _document(
    res: Result,
    th: Thresholds,
    keys_found: int,
    health_ok: bool,
    ok: bool,
    breaches: list[object],
    streams: object,
) -> dict[str, object]:
    """The document's fields in their order; `res` the first (or only) part: the server, the
    discovery, the cluster's nodes."""
    snap = res.snapshot
    srv = snap.server
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_by": f"streamtop {__version__}",
        "taken_at_ms": int(snap.taken_at * 1000),
        "server": {
            "url": res.url,
            "name": srv.name,
            "version": srv.version,
            "redis_version": ".".join(map(str, srv.compat_version)),
            "mode": srv.mode,
        },
        "discovery": {
            "targets": [label(os.fsencode(t)) for t in res.targets],
            "patterns": list(snap.discovery.patterns),
            "keys_found": keys_found,
            "capped": snap.discovery.capped,
            "max_streams": snap.discovery.max_streams,
        },
        "rates_interval_ms": None if res.rates_interval is None else round(res.rates_interval * 1000),
        "window_ms": round(res.window * 1000),
        "polls_in_window": res.polls,
        "thresholds": th.as_json(),
        "health_ok": health_ok,
        "ok": ok,
        "breaches": breaches,
        "nodes": [
            {
                "address": n.address,
                "ok": n.ok,
                "error": n.error,
                "streams": n.streams,
                "slots": n.slots,
                "slot_ranges": [list(r) for r in n.slot_ranges],
                "streams_known": n.ok or n.streams > 0,
            }
            for n in snap.nodes
        ],
        "uncovered_slots": [list(r) for r in snap.uncovered],
        "streams": streams,
    }


class Streamed(list[object]):  # a list, as json's encoder wants one
    """A list that write_json walks without holding it: each item is made when its turn comes
    and dropped once written (issue 29: at 100,000 streams the document and its one string took
    4.1 GB)."""

    def __init__(self, items: Callable[[], Iterator[object]], count: int) -> None:
        super().__init__()
        self.items, self.size = items, count

    def __iter__(self) -> Iterator[object]:
        return self.items()

    def __len__(self) -> int:
        return self.size


class Spooled:
    """The items of a JSON list written as they come, already encoded, to a temporary file (in
    memory while small): a list whose items are known before the fields written ahead of it
    (the streams, after `ok` and `breaches`) costs disk, not memory (issue 29)."""

    def __init__(self, level: int) -> None:
        self.file = spool_file()
        self.count = 0
        self._first = "\n" + INDENT * (level + 1)
        self._next = "," + self._first
        self.level = level

    def add(self, item: object) -> None:
        self.file.write((self._next if self.count else self._first) + dumps(item, self.level + 1))
        self.count += 1

    def write_to(self, out: TextIO) -> None:
        if not self.count:
            out.write("[]")
            return
        out.write("[")
        self.file.seek(0)
        shutil.copyfileobj(self.file, out, SPOOL_COPY)
        out.write("\n" + INDENT * self.level + "]")

    def close(self) -> None:
        self.file.close()


SPOOL_IN_MEMORY = 1 << 20  # characters a spool keeps in memory before it becomes a temporary file
SPOOL_COPY = 1 << 20  # characters copied from a spool at a time
INDENT = "  "


def spool_file() -> TextIO:
    """A temporary text file in stdout's encoding (what would not go to stdout fails here, as it
    would there); in memory up to SPOOL_IN_MEMORY characters."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    errors = getattr(sys.stdout, "errors", None) or "strict"
    return cast(
        TextIO,
        tempfile.SpooledTemporaryFile(
            max_size=SPOOL_IN_MEMORY, mode="w+", encoding=encoding, errors=errors, newline=""
        ),
    )


def _scalar(o: object) -> str:
    """A JSON scalar as json.dumps(ensure_ascii=False) writes it."""
    if isinstance(o, str):
        return encode_basestring(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        if o != o:
            return "NaN"
        if o in (float("inf"), float("-inf")):
            return "Infinity" if o > 0 else "-Infinity"
        return float.__repr__(o)
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _dump(o: object, level: int, out: list[str]) -> None:
    """`o` appended to `out` as pieces of text; the common scalars of a container written with
    their key or separator in one piece (a call per value was most of the time)."""
    t = type(o)
    if t is dict or t is list or t is tuple:
        if not o:
            out.append("{}" if t is dict else "[]")
            return
        inner = "\n" + INDENT * (level + 1)
        sep = ("{" if t is dict else "[") + inner
        pairs = o.items() if t is dict else ((None, v) for v in o)  # type: ignore[attr-defined]
        for k, v in pairs:
            head = sep if k is None else sep + encode_basestring(k) + ": "
            sep = "," + inner
            tv = type(v)
            if tv is str:
                out.append(head + encode_basestring(v))
            elif tv is int:
                out.append(head + int.__repr__(v))
            elif v is None:
                out.append(head + "null")
            elif tv is bool:
                out.append(head + ("true" if v else "false"))
            else:
                out.append(head)
                _dump(v, level + 1, out)
        out.append("\n" + INDENT * level + ("}" if t is dict else "]"))
    elif isinstance(o, dict | list | tuple):  # a subclass: as json.dumps writes it
        _dump(dict(o) if isinstance(o, dict) else list(o), level, out)
    else:
        out.append(_scalar(o))


def dumps(o: object, level: int = 0) -> str:
    """`json.dumps(o, ensure_ascii=False, indent=2)` as it reads `level` deep in a document, in a
    fraction of its time: with an indent, json encodes in Python, a generator per container and
    a write per token (8.9 million writes at 20,000 streams: 30 of status's 48 s)."""
    out: list[str] = []
    _dump(o, level, out)
    return "".join(out)


def write_json(doc: dict[str, object], out: TextIO) -> None:
    """The document as `json.dumps(doc, ensure_ascii=False, indent=2)` would print it, written
    field by field: a Streamed list an item at a time (never all in memory at once), a Spooled
    one copied from its file."""
    if not doc:
        out.write("{}\n")
        return
    sep = "{\n" + INDENT
    for k, v in doc.items():
        out.write(sep + encode_basestring(k) + ": ")
        sep = ",\n" + INDENT
        if isinstance(v, Spooled):
            v.write_to(out)
        elif isinstance(v, Streamed):
            count = 0
            for item in v:
                out.write(("," if count else "[") + "\n" + INDENT * 2 + dumps(item, 2))
                count += 1
            out.write("\n" + INDENT + "]" if count else "[]")
        else:
            out.write(dumps(v, 1))
    out.write("\n}\n")


# table ---------------------------------------------------------------------------------------

BREACH_STYLE = "bold red"
NAME_LIMIT = 200  # cells of a key or name in the table; --json has them whole


def _name(value: bytes) -> str:
    return render.name_text(value, NAME_LIMIT, tagged=True).plain


def make_console() -> Console:
    """Rich decides colour from the terminal, NO_COLOR and FORCE_COLOR; in a pipe it is plain text,
    wide enough that IDs and keys are not cut."""
    probe = Console(highlight=False)
    width = None if probe.is_terminal or "COLUMNS" in os.environ else 160
    # is_terminal pinned: the report prints to a spool first (Report), and must print there what
    # it would print to stdout
    return Console(highlight=False, width=width, force_terminal=probe.is_terminal)


def _cell(text: str, breached: bool) -> Text:
    """A breached value keeps a visible marker without colour (NO_COLOR, pipes)."""
    return Text(f"{text} !", style=BREACH_STYLE) if breached else Text(text)


def _stream_header(res: Result, s: StreamInfo, marks: set[tuple[bytes | None, str]]) -> Text:
    head = render.name_text(
        s.key, NAME_LIMIT, "bold", tagged=True
    )  # server bytes: escaped Text, never markup
    if s.node:
        head.append_text(render.text(f"  @{s.node}", "dim"))
    if s.error is not None:
        head.append_text(render.text(f"  error: {s.error}", BREACH_STYLE))
        return head
    head.append("  length ")
    head.append_text(_cell(str(s.length), (None, "length") in marks))
    if res.rates_interval is not None:
        head.append(f"  in {render.rate(res.history.stream_rate(s.key))}")
    if s.entries_added is not None:
        head.append(f"  added {s.entries_added}")
    head.append(f"  last-generated {s.last_generated_id or '?'}", style="dim")
    head.append(f"  first {s.first_entry_id or '-'}  last {s.last_entry_id or '-'}", style="dim")
    return head


def _groups_table(res: Result, s: StreamInfo, marks: set[tuple[bytes | None, str]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("group", "left"),
        ("consumers", "right"),
        ("pending", "right"),
        ("oldest pending", "right"),
        ("last delivered", "left"),
        ("entries read", "right"),
        ("lag", "right"),
        ("time lag", "right"),
        ("health", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=name != "group")
    if res.rates_interval is not None:
        table.add_column("read/s", justify="right", no_wrap=True)
    for g in s.groups:
        health = res.history.health(s.key, g.name)
        row = [
            render.name_text(g.name, NAME_LIMIT, tagged=True),
            Text(str(g.consumers)),
            _cell(str(g.pending), (g.name, "pending") in marks),
            _cell(
                render.duration_ms(g.oldest_pending_idle_ms) if g.pending else "-",
                (g.name, "idle_ms") in marks,
            ),
            Text(g.last_delivered_id),
            Text(render.count(g.entries_read)),
            _cell(g.lag.text(), (g.name, "lag") in marks),
            Text(render.time_lag(g.time_lag)),
            render.health_text(health.verdict),
        ]
        if res.rates_interval is not None:
            row.append(Text(render.rate(res.history.group_rate(s.key, g.name))))
        table.add_row(*row)
        if g.error:
            table.add_row(render.text(f"  error: {g.error}", BREACH_STYLE))
    return table


def _consumers_table(
    s: StreamInfo, now_ms: float, clients: Clients | None = None, server_clock: bool = False
) -> Table | None:
    rows = [(g, c) for g in s.groups for c in g.consumer_list]
    if not rows:
        return None
    states = {(g.name, c.name): liveness(c, g, now_ms, None, clients, server_clock) for g, c in rows}
    notes = any(state.reason for state in states.values())
    inactive = any(c.inactive_ms is not None for _, c in rows)
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("group")
    table.add_column("consumer")
    table.add_column("pending", justify="right", no_wrap=True)
    table.add_column("idle", justify="right", no_wrap=True)
    if inactive:
        table.add_column("inactive", justify="right", no_wrap=True)
    if notes:  # gone, waiting, busy or cannot tell (streamtop.pipeline.liveness)
        table.add_column("state")
    for g, c in rows:
        row = [
            render.name_text(g.name, NAME_LIMIT, tagged=True),
            render.name_text(c.name, NAME_LIMIT, tagged=True),
            Text(str(c.pending)),
            Text(render.duration_ms(c.idle_ms)),
        ]
        if inactive:
            row.append(Text("never" if c.inactive_ms == -1 else render.duration_ms(c.inactive_ms)))
        if notes:
            state = states[(g.name, c.name)]
            prefix, style = ("gone: ", "dim") if state.gone else ("", "italic")
            row.append(Text(prefix + state.reason, style))
        table.add_row(*row)
    return table


def _print_stream(console: Console, res: Result, s: StreamInfo, marks: set[tuple[bytes | None, str]]) -> None:
    console.print()
    console.print(_stream_header(res, s, marks))
    if s.error is None and s.groups:
        console.print(_groups_table(res, s, marks))
        for g in s.groups:  # why each verdict: a line of its own, not squeezed into a cell
            why = render.text("  ")
            why.append_text(render.name_text(g.name, NAME_LIMIT, tagged=True))
            why.append(f": {res.history.health(s.key, g.name).reason}", style="dim")
            console.print(why)
        now_ms, server_clock = poll_clock(res.snapshot)
        consumers = _consumers_table(s, now_ms, res.clients, server_clock)
        if consumers is not None:
            console.print(consumers)
    elif s.error is None:
        console.print(Text("no consumer groups", style="dim"))


def _unhealthy_line(key: bytes, group: bytes, verdict: Verdict, reason: str) -> Text:
    line = Text("  ")
    line.append_text(render.name_text(key, NAME_LIMIT, tagged=True))
    line.append(" group ")
    line.append_text(render.name_text(group, NAME_LIMIT, tagged=True))
    line.append(f": {verdict}: {reason}")
    return line


# the report: a part at a time ----------------------------------------------------------------


class Report:
    """What `status` prints, made a part of the keyspace at a time (issue 29): each part (a
    Result of some streams, in key order) is judged and written to a spool, then dropped; what
    needs every stream (the count, the breaches, the verdicts, `ok`) is kept as it goes, and
    `finish` writes the head, then the spool, then the tail. Nothing reaches stdout before every
    part was read: an error half-way (a lost connection, a key named on the command line that is
    missing) prints only the error, as before."""

    def __init__(self, th: Thresholds, health: bool, as_json: bool, console: Console | None = None) -> None:
        self.th, self.health, self.as_json = th, health, as_json
        self.console = console
        self.first: Result | None = None
        self.count = 0
        self.breaches: list[Breach] = []
        self.unhealthy = 0
        self.unhealthy_lines: list[tuple[bytes, bytes, Verdict, str]] = []  # text with --health
        self.streams = Spooled(1)
        self._text = None if console is None or as_json else spool_file()

    def add(self, res: Result) -> None:
        """One part: judged, written to the spool; nothing of its streams is kept. A spool that
        cannot be written (no space, no $TMPDIR) is one line and exit 1."""
        try:
            self._add(res)
        except OSError as exc:
            raise UsageError(
                f"cannot keep the output in a temporary file in {tempfile.gettempdir()} until every "
                f"stream is read: {exc.strerror or exc}"
            ) from None

    def _add(self, res: Result) -> None:
        if self.first is None:
            self.first = res
            self.breaches.extend(server_breaches(res.snapshot))
        streams = res.snapshot.streams
        self.count += len(streams)
        found = stream_breaches(streams, self.th)
        self.breaches.extend(found)
        for s, g, verdict in res.unhealthy():
            self.unhealthy += 1
            if self.health and not self.as_json:
                self.unhealthy_lines.append(
                    (s.key, g.name, verdict, res.history.health(s.key, g.name).reason)
                )
        if self.as_json:
            for s in streams:
                self.streams.add(_stream_json(res, s))
            return
        assert self.console is not None and self._text is not None
        marks: dict[bytes | None, set[tuple[bytes | None, str]]] = {}
        for b in found:
            marks.setdefault(b.stream, set()).add((b.group, b.metric))
        console, out = self.console, self.console.file
        console.file = self._text
        try:
            for s in streams:
                _print_stream(console, res, s, marks.get(s.key, set()))
        finally:
            console.file = out

    @property
    def failed(self) -> bool:
        return bool(self.breaches) or (self.health and self.unhealthy > 0)

    def finish(self, out: TextIO) -> int:
        """Everything written, in the document's (or the table's) order: the JSON to `out`, the
        table through the console. The exit code."""
        res = self.first
        assert res is not None, "a report has at least one part"
        try:
            if self.as_json:
                doc = _document(
                    res,
                    self.th,
                    self.count,
                    self.unhealthy == 0,
                    not self.failed,
                    [b.as_json() for b in self.breaches],
                    self.streams,
                )
                write_json(doc, out)
            else:
                self._finish_text(res)
        finally:
            self.close()
        return EXIT_BREACH if self.failed else EXIT_OK

    def _finish_text(self, res: Result) -> None:
        assert self.console is not None and self._text is not None
        console, snap, th = self.console, res.snapshot, self.th
        head = render.text(f"{snap.server.title} at {res.url}", "bold")
        head.append(f"  {self.count} stream{'s' if self.count != 1 else ''}")
        if snap.discovery.capped:
            head.append(f" (capped by --max-streams {snap.discovery.max_streams})", style="yellow")
        console.print(head)
        if not self.count:
            console.print("no streams found")
        self._text.seek(0)
        shutil.copyfileobj(self._text, console.file, SPOOL_COPY)
        breaches = self.breaches
        if th.any or breaches:
            console.print()
            if breaches:
                console.print(Text(f"BREACHED ({len(breaches)}):", style=BREACH_STYLE))
                for b in breaches:
                    console.print(Text(f"  {b.text()}"))
            else:
                console.print(Text("OK: every threshold holds", style="green"))
        if self.health:
            console.print()
            judged = (
                f"over {render.duration_ms(res.window * 1000)} ({res.polls} polls)"
                if res.polls > 1
                else "from one poll"
            )
            if self.unhealthy_lines:
                console.print(
                    Text(f"UNHEALTHY ({len(self.unhealthy_lines)}, judged {judged}):", style=BREACH_STYLE)
                )
                for line in self.unhealthy_lines:
                    console.print(_unhealthy_line(*line))
            else:
                console.print(Text(f"HEALTHY: every group ok or idle, judged {judged}", style="green"))

    def close(self) -> None:
        self.streams.close()
        if self._text is not None:
            self._text.close()


# entry point ---------------------------------------------------------------------------------


def thresholds_from(args: argparse.Namespace) -> Thresholds:
    idle = args.max_idle
    return Thresholds(
        max_lag=args.max_lag,
        max_pending=args.max_pending,
        max_idle_ms=None if idle is None else round(idle * 1000),
        max_length=args.max_length,
    )


def run(args: argparse.Namespace) -> int:
    if args.json_schema:  # needs no server
        sys.stdout.write(json_schema())
        return EXIT_OK
    th = thresholds_from(args)
    window = None if args.window_ms is None else args.window_ms / 1000
    if args.at is not None and args.from_file is None:
        raise UsageError("--at needs --from-file FILE (a recording): a live status is always now")
    report = Report(th, args.health, args.json, None if args.json else make_console())
    try:
        if args.from_file is not None:
            report.add(recorded(args.from_file, args.at, list(args.targets), window, args.rates))
        elif window or args.rates:  # several polls: each stream's history over them, whole
            spec = spec_from_args(args)
            options = th.poll_options(args.max_streams)
            rates_interval = args.rates_interval if args.rates else None
            report.add(asyncio.run(collect(spec, list(args.targets), options, rates_interval, window)))
        else:  # one poll, a part of the keyspace at a time (issue 29)
            spec = spec_from_args(args)
            asyncio.run(collect_parts(spec, list(args.targets), th.poll_options(args.max_streams), report))
    except BaseException:
        report.close()
        raise
    return report.finish(sys.stdout)
