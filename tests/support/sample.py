"""A constructed, deterministic set of snapshots: for snapshot tests and UI tests that need no server
(test data, so it lives with the tests, outside the runtime package).

Everything a real server can say is in here: exact, estimated, capped and unknown lag, stuck and
poison pending entries, a key that vanished, keys with odd bytes, JSON and binary field values.
"""

from __future__ import annotations

from streamtop.pipeline.model import (
    ConsumerInfo,
    Discovery,
    Entry,
    Focus,
    FocusData,
    GroupInfo,
    Lag,
    LagSource,
    PendingEntry,
    PendingSummary,
    ServerInfo,
    Snapshot,
    StreamInfo,
)

T0 = 1_790_000_000.0  # a fixed epoch: nothing in the picture depends on the real clock
SERVER = ServerInfo(name="valkey", version="9.1.2", compat_version=(7, 2, 4))


def _id(ms_offset: int, seq: int = 0) -> str:
    return f"{int(T0 * 1000) + ms_offset}-{seq}"


def _pending(n: int) -> tuple[PendingEntry, ...]:
    out = []
    for i in range(n):
        idle = 95_000 - i * 9_000 if i < 6 else 1_200 + i * 10
        deliveries = 9 if i in (1, 4) else 1 + i % 3
        out.append(PendingEntry(_id(i * 40, 0), b"worker-%d" % (1 + i % 3), idle, deliveries))
    return tuple(out)


def _group(
    name: bytes, tick: int, *, lag: Lag, pending: int, read: int | None, consumers: int = 3
) -> GroupInfo:
    cons = tuple(
        ConsumerInfo(
            b"worker-%d" % (i + 1), pending // consumers, 1500 * (i + 1), 3000 * (i + 1) if i < 2 else -1
        )
        for i in range(consumers)
    )
    oldest = _pending(1)[0] if pending else None
    return GroupInfo(
        name=name,
        consumers=consumers,
        pending=pending,
        last_delivered_id=_id(40_000 + tick),
        entries_read=read,
        lag=lag,
        consumer_list=cons,
        pending_summary=PendingSummary(pending, _id(0), _id(800), (), oldest),
    )


def _streams(tick: int) -> tuple[StreamInfo, ...]:
    grow = tick * 25
    orders = StreamInfo(
        key=b"orders",
        length=1200 + grow,
        first_entry_id=_id(0),
        last_entry_id=_id(60_000 + tick),
        last_generated_id=_id(60_000 + tick),
        entries_added=5000 + grow,
        max_deleted_entry_id=_id(-10, 3),
        recorded_first_entry_id=_id(0),
        groups=(
            _group(
                b"billing", tick, lag=Lag(LagSource.EXACT, value=12 + tick), pending=20, read=4800 + grow - 12
            ),
            _group(
                b"audit", tick, lag=Lag(LagSource.ESTIMATE, estimate=340), pending=0, read=None, consumers=1
            ),
            _group(
                b"replay",
                tick,
                lag=Lag(LagSource.ESTIMATE, estimate=1000, capped=True),
                pending=4,
                read=None,
                consumers=2,
            ),
        ),
    )
    app_event = StreamInfo(
        key=b"app:event",
        length=400 + tick * 3,
        first_entry_id=_id(5),
        last_entry_id=_id(9000),
        last_generated_id=_id(9000),
        entries_added=900 + tick * 3,
        max_deleted_entry_id="0-0",
        recorded_first_entry_id=_id(5),
        groups=(_group(b"group1", tick, lag=Lag(LagSource.UNKNOWN), pending=7, read=880),),
    )
    odd = StreamInfo(
        key=b"sensor readings\n\xf0\x9f\x8c\xa1 \xff",
        length=3,
        first_entry_id=_id(1),
        last_entry_id=_id(3),
        last_generated_id=_id(3),
        entries_added=3,
        max_deleted_entry_id="0-0",
        recorded_first_entry_id=_id(1),
    )
    gone = StreamInfo(key=b"jobs:retired", error="no such key")
    quiet = tuple(
        StreamInfo(
            key=b"tenant:%02d:events" % i,
            length=10 * i,
            first_entry_id=_id(i),
            last_entry_id=_id(i * 7),
            last_generated_id=_id(i * 7),
            entries_added=10 * i + (tick if i == 3 else 0),
            max_deleted_entry_id="0-0",
        )
        for i in range(1, 6)
    )
    return (orders, app_event, odd, gone, *quiet)


MESSAGES = (
    Entry(_id(60_000, 1), ((b"sensor_id", b"sensor2"), (b"temp", b"0.7312"), (b"humidity", b"0.4410"))),
    Entry(
        _id(60_000, 0),
        ((b"payload", b'{"order": 1234, "items": [{"sku": "A-1", "qty": 2}]}'), (b"source", b"web")),
    ),
    Entry(_id(59_000, 0), ((b"blob", b"\x00\x01\xfe\xffPNG"),)),
    Entry(_id(58_000, 0), ()),
)


def sample_snapshot(tick: int = 1, key: bytes = b"orders", group: bytes | None = b"billing") -> Snapshot:
    """The picture at `tick` seconds after T0, with the pages of `key`/`group` filled in."""
    focus = Focus(key=key, group=group, pending_count=100, messages_count=50)
    streams = _streams(tick)
    return Snapshot(
        taken_at=T0 + tick,
        duration_ms=3.2,
        round_trips=1,
        server=SERVER,
        streams=streams,
        discovery=Discovery(patterns=("*",), keys=tuple(s.key for s in streams), taken_at=T0),
        focus=FocusData(focus=focus, pending=_pending(12) if group else (), messages=MESSAGES),
    )


def sample_series(ticks: int = 8) -> list[Snapshot]:
    """Successive snapshots, so rates and sparklines have something to draw."""
    return [sample_snapshot(t) for t in range(ticks)]
