"""A snapshot as compact msgpack-able lists, and back, exactly (apart from ages, see below).

Each stream is encoded on its own, so a poll stores only the streams that changed. Ages that grow by
themselves (a consumer's idle and inactive time, the oldest pending entry's idle time, the time lag
and the oldest pending entry's age) are stored as the moment they point to (`taken_ms - age`): an
idle consumer then encodes the same at every poll and is not written again. Those moments travel
beside the body (`Encoded.ages`), and two encodings whose ages differ by at most AGE_SLACK_MS count
as the same (the server's and the client's clocks are read a few ms apart at every poll); a
replayed age is off by at most that much.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

from streamtop.pipeline.model import (
    ConsumerInfo,
    Discovery,
    GroupInfo,
    Lag,
    LagSource,
    NodeStatus,
    PendingEntry,
    PendingSummary,
    PollCost,
    ServerInfo,
    StreamInfo,
    TimeLag,
    TimeLagSource,
)

AGE_SLACK_MS = 250
_LAG_SOURCES = {str(v): v for v in LagSource}  # Enum(value) is slow; a replay decodes many
_TIME_LAG_SOURCES = {str(v): v for v in TimeLagSource}

Packed: TypeAlias = Any
"""A value as msgpack gives it back from a recording (None, bool, int, float, str, bytes, or a list
or dict of those): the file's own positional format, which the decoders here read by position as
the encoders wrote it (the file's format version says which). Untyped as a raw reply is."""

Body = list[Packed]  # one record's fields, in the order its encoder wrote them


@dataclass(frozen=True, slots=True)
class Encoded:
    """One stream: its fields (ages left out) and the moments its ages point to, in order."""

    body: Body
    ages: tuple[int | None, ...]

    def same(self, other: Encoded | None) -> bool:
        """Equal, with every age within AGE_SLACK_MS: nothing worth writing again."""
        if other is None or self.body != other.body or len(self.ages) != len(other.ages):
            return False
        for a, b in zip(self.ages, other.ages, strict=True):
            if a is None or b is None:
                if a is not b:
                    return False
            elif abs(a - b) > AGE_SLACK_MS:
                return False
        return True

    def packable(self) -> list[object]:
        return [self.body, list(self.ages)]

    @classmethod
    def unpack(cls, value: Body) -> Encoded:
        return cls(value[0], tuple(value[1]))


def taken_ms(taken_at: float) -> int:
    return round(taken_at * 1000)


# encoding -------------------------------------------------------------------------------------


class _Ages:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms
        self.out: list[int | None] = []

    def put(self, age: int | None) -> None:
        self.out.append(None if age is None else self.now - age)


def _entry(p: PendingEntry | None, ages: _Ages) -> Body | None:
    if p is None:
        return None
    ages.put(p.idle_ms)
    return [p.id, p.consumer, p.deliveries]


def _consumer(c: ConsumerInfo, ages: _Ages) -> Body:
    ages.put(c.idle_ms)
    negative = c.inactive_ms is not None and c.inactive_ms < 0  # -1: never active, stays so
    ages.put(None if negative else c.inactive_ms)
    return [c.name, c.pending, c.inactive_ms is None, c.inactive_ms if negative else None]


def _group(g: GroupInfo, ages: _Ages) -> Body:
    lag = g.lag
    ps = g.pending_summary
    summary = (
        None
        if ps is None
        else [
            ps.count,
            ps.smallest_id,
            ps.greatest_id,
            [list(c) for c in ps.consumers],
            _entry(ps.oldest, ages),
        ]
    )
    consumers = [_consumer(c, ages) for c in g.consumer_list]
    caught_up = g.time_lag.ms == 0  # stays 0 poll after poll: not an age that moves
    ages.put(None if caught_up else g.time_lag.ms)
    ages.put(g.oldest_pending_age_ms)
    return [
        g.name,
        g.consumers,
        g.pending,
        g.last_delivered_id,
        g.entries_read,
        [str(lag.source), lag.value, lag.estimate, lag.capped, lag.as_of],
        consumers,
        summary,
        g.error,
        str(g.time_lag.source),
        caught_up,
    ]


def encode_stream(s: StreamInfo, now_ms: int) -> Encoded:
    ages = _Ages(now_ms)
    body = [
        s.key,
        s.length,
        s.first_entry_id,
        s.last_entry_id,
        s.last_generated_id,
        s.entries_added,
        s.max_deleted_entry_id,
        s.recorded_first_entry_id,
        s.radix_tree_keys,
        s.radix_tree_nodes,
        [_group(g, ages) for g in s.groups],
        s.error,
        s.node,
        s.stale,
        s.info_taken_at,
        s.summary_only,
    ]
    return Encoded(body, tuple(ages.out))


# decoding -------------------------------------------------------------------------------------


class _Moments:
    def __init__(self, ages: tuple[int | None, ...], now_ms: int) -> None:
        self.it: Iterator[int | None] = iter(ages)
        self.now = now_ms

    def take(self) -> int | None:
        at = next(self.it)
        return None if at is None else self.now - at


def _d_entry(v: Body | None, ages: _Moments) -> PendingEntry | None:
    if v is None:
        return None
    idle = ages.take()
    return PendingEntry(v[0], v[1], idle if idle is not None else 0, v[2])


def _d_consumer(v: Body, ages: _Moments) -> ConsumerInfo:
    idle = ages.take()
    inactive = ages.take()
    name, pending, no_inactive, negative = v
    if no_inactive:
        inactive = None
    elif negative is not None:
        inactive = negative
    return ConsumerInfo(name, pending, idle if idle is not None else 0, inactive)


def _d_group(v: Body, ages: _Moments) -> GroupInfo:
    name, consumers, pending, ldi, entries_read, lag, clist, summary, error, tl_source, caught_up = v
    ps = None
    if summary is not None:
        count, smallest, greatest, pcons, oldest = summary
        ps = PendingSummary(
            count, smallest, greatest, tuple((c[0], c[1]) for c in pcons), _d_entry(oldest, ages)
        )
    consumer_list = tuple(_d_consumer(c, ages) for c in clist)
    tl_ms = ages.take()
    if caught_up:
        tl_ms = 0
    age_ms = ages.take()
    return GroupInfo(
        name=name,
        consumers=consumers,
        pending=pending,
        last_delivered_id=ldi,
        entries_read=entries_read,
        lag=Lag(_LAG_SOURCES[lag[0]], lag[1], lag[2], lag[3], lag[4]),
        consumer_list=consumer_list,
        pending_summary=ps,
        error=error,
        time_lag=TimeLag(_TIME_LAG_SOURCES[tl_source], tl_ms),
        oldest_pending_age_ms=age_ms,
    )


def decode_stream(e: Encoded, now_ms: int) -> StreamInfo:
    b = e.body
    ages = _Moments(e.ages, now_ms)
    return StreamInfo(
        key=b[0],
        length=b[1],
        first_entry_id=b[2],
        last_entry_id=b[3],
        last_generated_id=b[4],
        entries_added=b[5],
        max_deleted_entry_id=b[6],
        recorded_first_entry_id=b[7],
        radix_tree_keys=b[8],
        radix_tree_nodes=b[9],
        groups=tuple(_d_group(g, ages) for g in b[10]),
        error=b[11],
        node=b[12],
        stale=b[13],
        info_taken_at=b[14],
        summary_only=b[15],
    )


# the poll's own fields --------------------------------------------------------------------------


def encode_server(s: ServerInfo) -> Body:
    return [s.name, s.version, list(s.compat_version), s.mode, s.known, s.info_refused]


def decode_server(v: Body) -> ServerInfo:
    """Recordings made before `known` and `info_refused` were kept have 4 fields."""
    known, refused = (v[4], v[5]) if len(v) > 4 else (True, False)
    return ServerInfo(v[0], v[1], (v[2][0], v[2][1], v[2][2]), v[3], known, refused)


def encode_discovery(d: Discovery) -> Body:
    return [list(d.patterns), list(d.keys), d.capped, d.max_streams, d.taken_at]


def decode_discovery(v: Body) -> Discovery:
    return Discovery(tuple(v[0]), tuple(v[1]), v[2], v[3], v[4])


def encode_nodes(nodes: tuple[NodeStatus, ...]) -> Body:
    return [
        [
            n.address,
            n.ok,
            n.error,
            n.streams,
            n.slots,
            n.stale_since,
            n.not_answering_for,
            [list(r) for r in n.slot_ranges],
            n.first_poll,
        ]
        for n in nodes
    ]


def decode_nodes(v: Body) -> tuple[NodeStatus, ...]:
    """Recordings made before `first_poll` was kept have 8 fields per node."""
    return tuple(
        NodeStatus(
            n[0], n[1], n[2], n[3], n[4], n[5], n[6], tuple((r[0], r[1]) for r in n[7]), len(n) > 8 and n[8]
        )
        for n in v
    )


def encode_cost(c: PollCost | None) -> Body | None:
    if c is None:
        return None
    return [
        c.detailed,
        c.summarized,
        c.carried,
        c.summary_age,
        c.load,
        c.budget,
        c.visible_period,
        c.summary_period,
        c.stretched,
        c.round_trip_load,
        c.met,
        c.predicted_load,
    ]


def decode_cost(v: Body | None) -> PollCost | None:
    """`oldest_read` (a time.monotonic() of the writer's process) is not kept: the summaries' age
    is the one at the poll. Recordings made before the last three fields were kept have 9."""
    if v is None:
        return None
    detailed, summarized, carried, summary_age, load, budget, visible, summary, stretched = v[:9]
    extra = v[9:12] if len(v) >= 12 else (False, True, 0.0)
    return PollCost(
        detailed=detailed,
        summarized=summarized,
        carried=carried,
        summary_age=summary_age,
        load=load,
        budget=budget,
        visible_period=visible,
        summary_period=summary,
        stretched=stretched,
        round_trip_load=extra[0],
        met=extra[1],
        predicted_load=extra[2],
    )
