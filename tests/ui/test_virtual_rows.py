"""Issue 29: the streams table's rows are virtual. Cells are made for the rows drawn, not for every
stream; a poll that changed streams off screen makes none; the order (sort, filter) kept between
polls is the order `visible_streams` gives from scratch."""

from __future__ import annotations

import random

import pytest

import streamtop.ui.streams as streams_mod
from streamtop.monitor import Monitor
from streamtop.pipeline.history import History
from streamtop.pipeline.model import GroupInfo, Lag, LagSource, Snapshot, StreamInfo
from streamtop.pipeline.source import ListSource
from streamtop.ui.app import StreamtopApp
from streamtop.ui.streams import RowOrder, row_key, visible_streams
from tests.support.ui import row
from tests.support.waiting import until

N = 3000


def stream(i: int, t: int = 0) -> StreamInfo:
    groups = tuple(
        GroupInfo(g, 1, i % 5, f"{t}-0", t, Lag(LagSource.EXACT, value=(i * 7 + t) % 11))
        for g in (b"a", b"b")
    )
    return StreamInfo(f"s:{i:05d}".encode(), length=(i * 13 + t) % 97, entries_added=t, groups=groups)


async def test_cells_are_made_for_the_rows_on_screen_only(monkeypatch):
    made: list[bytes] = []
    real = streams_mod.stream_cells
    monkeypatch.setattr(
        streams_mod, "stream_cells", lambda s, *a, **k: made.append(s.key) or real(s, *a, **k)
    )
    app = StreamtopApp(Monitor.on(ListSource()))
    async with app.run_test(size=(140, 42)) as pilot:
        snap = Snapshot(streams=tuple(stream(i) for i in range(N)), taken_at=1000.0)
        app.show_snapshot(snap)
        await pilot.pause()
        table = app.w("streams-table")
        assert table.row_count == N and len(table.row_keys) == N
        on_screen = set(table.ids_in_view())
        assert 0 < len(on_screen) < 60 and set(made) <= on_screen | {table.cursor_id}
        made.clear()
        changed = list(snap.streams)
        for i in range(1000, N, 10):  # off screen
            changed[i] = stream(i, 1)
        app.show_snapshot(Snapshot(streams=tuple(changed), taken_at=1001.0))
        await pilot.pause()
        assert made == []  # nothing drawn changed
        changed[0] = stream(0, 5)
        app.show_snapshot(Snapshot(streams=tuple(changed), taken_at=1002.0))
        await pilot.pause()
        assert made == [b"s:00000"]
        # an off-screen row still answers what it shows, made when asked
        assert row(app, "streams-table", row_key(b"s:02990"))[0] == "s:02990"
        await pilot.press("pagedown")  # scrolled: the rows that came into view are drawn
        await until(pilot, lambda: table.cursor_id not in on_screen and table.cursor_id in made)
        table.action_scroll_bottom()
        await until(pilot, lambda: b"s:02999" in table.ids_in_view() and b"s:02999" in made)


@pytest.mark.parametrize("column", ["key", "length", "groups", "lag", "pending", "rate"])
@pytest.mark.parametrize("reverse", [False, True])
def test_the_kept_order_is_the_order_from_scratch(column, reverse):
    rng = random.Random(f"{column}{reverse}")
    history = History()
    rate_of = history.stream_rate
    order = RowOrder()
    current = [stream(i) for i in range(300)]
    for t in range(1, 8):
        for i in rng.sample(range(len(current)), 40):
            current[i] = stream(i + rng.choice((0, 1000)) if t % 3 == 0 else i, t)
        if t == 4:
            del current[10:20]  # streams gone
        keys = {s.key for s in current}
        snap_streams = tuple(s for s in {s.key: s for s in current}.values() if s.key in keys)
        history.update(Snapshot(streams=snap_streams, taken_at=1000.0 + t))
        pattern = "*1*" if t >= 6 else ""
        order.update(snap_streams, pattern, column, reverse, rate_of)
        want = [s.key for s in visible_streams(snap_streams, pattern, column, reverse, rate_of)]
        if column == "key" or not reverse:
            assert order.shown == want
        else:  # reversed: the same values in the same order; ties may list their keys Z-A
            got = {s.key: streams_mod.sort_value(s, column, rate_of) for s in snap_streams}
            assert [got[k] for k in order.shown] == [got[k] for k in want]


@pytest.mark.parametrize("column", ["key", "length"])
@pytest.mark.parametrize("reverse", [False, True])
def test_keys_added_part_by_part_keep_the_order_and_name_only_what_changed(column, reverse):
    """The first scan's parts: each poll's tuple has more keys (in key order), some of the kept
    ones read again. The rows named changed are the new and the re-read ones alone (found by
    identity, not by a pass over every key), and the order is the order from scratch."""
    rng = random.Random(f"parts{column}{reverse}")
    history = History()
    order = RowOrder()
    found: dict[bytes, StreamInfo] = {}
    ids = list(range(600))
    rng.shuffle(ids)  # SCAN finds keys in no order
    for t, lo in enumerate(range(0, 600, 150), start=1):
        new = {s.key: s for s in (stream(i, t) for i in ids[lo : lo + 150])}
        again = rng.sample(sorted(found), min(20, len(found)))
        for k in again:
            found[k] = stream(int(k[2:]), t)
        found.update(new)
        snap_streams = tuple(found[k] for k in sorted(found))
        history.update(Snapshot(streams=snap_streams, taken_at=1000.0 + t))
        changed = order.update(snap_streams, "", column, reverse, history.stream_rate)
        assert changed is not None and set(changed) == set(new) | set(again)
        want = [s.key for s in visible_streams(snap_streams, "", column, reverse, history.stream_rate)]
        if column == "key" or not reverse:
            assert order.shown == want
        else:
            assert sorted(order.shown) == sorted(want)
