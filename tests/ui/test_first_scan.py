"""Issue 29: the dashboard's first scan shows rows as it finds them. Each poll makes a bounded
number of SCAN calls and shows the keys found so far at once, the header saying DISCOVERING (with
how many so far), not LIVE, until the scan has ended; then every stream is there, and LIVE.

The bound is made small here (1 SCAN call of COUNT 10 per poll) so that 60 streams take several
polls; at 100,000 streams the same code shows 2,000 rows after the first poll, then as many SCAN
calls a poll as answer within FIRST_SCAN_SECONDS (at most 32 calls, 32,000 keys, a poll)."""

from __future__ import annotations

import redis

import streamtop.pipeline.collector as collector_mod
from streamtop.monitor import Monitor
from streamtop.options import SessionOptions
from streamtop.pipeline.connection import parse_url
from streamtop.ui.app import StreamtopApp
from streamtop.ui.header import header_text
from tests.support.waiting import until

N = 60


def arrange(r: redis.Redis) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(N):
        pipe.xadd(f"scan:{i:03d}", {"f": "v"})
    pipe.execute()


async def test_rows_come_as_the_first_scan_finds_them_live_at_its_end(server, r, monkeypatch) -> None:
    arrange(r)
    monkeypatch.setattr(collector_mod, "FIRST_SCAN_CALLS", 1)
    monkeypatch.setattr(collector_mod, "FIRST_PART_CALLS", 1)
    monkeypatch.setattr(collector_mod, "SCAN_COUNT", 10)
    options = SessionOptions(targets=("scan:*",), interval=1.0, follow_screen=True)
    monitor = Monitor(parse_url(server.url), options)
    seen: list[tuple[int, str, str]] = []  # (streams shown, badge, header line) at each poll
    app = StreamtopApp(monitor)
    real_apply = app.apply_snapshot

    def apply_snapshot(snapshot):  # type: ignore[no-untyped-def]
        real_apply(snapshot)
        info = app.header_info()
        seen.append((len(snapshot.streams), info.state, header_text(info, 250).plain))

    app.apply_snapshot = apply_snapshot  # type: ignore[method-assign]
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: any(state == "live" for _, state, _ in seen), "LIVE", timeout=30)
    first_live = next(i for i, (_, state, _) in enumerate(seen) if state == "live")
    during, done = seen[:first_live], seen[first_live]
    assert during, "the first poll already had every stream: nothing shown while scanning"
    assert all(state == "discovering" for _, state, _ in during)
    assert 0 < during[0][0] < N  # rows after the first poll, before the scan ended
    counts = [n for n, _, _ in during]
    assert counts == sorted(counts)  # never fewer rows as the scan goes on
    assert f"{during[0][0]} streams found so far, discovering" in during[0][2]
    assert done[0] == N and "found so far" not in done[2]
    assert monitor.last is not None and monitor.last.discovery.complete


async def test_a_part_of_the_first_scan_ends_when_its_time_is_spent(server, r, monkeypatch) -> None:
    """Each later part makes SCAN calls while they have taken less than FIRST_SCAN_SECONDS (up to
    FIRST_SCAN_CALLS): with no time at all, one call a part; with time to spare, the part's cap."""
    from streamtop.pipeline.collector import Collector
    from streamtop.pipeline.connection import connect

    arrange(r)
    monkeypatch.setattr(collector_mod, "SCAN_COUNT", 10)
    monkeypatch.setattr(collector_mod, "FIRST_PART_CALLS", 1)
    client, info = await connect(parse_url(server.url))
    try:
        for seconds, calls in ((0.0, 1), (60.0, 3)):
            monkeypatch.setattr(collector_mod, "FIRST_SCAN_SECONDS", seconds)
            monkeypatch.setattr(collector_mod, "FIRST_SCAN_CALLS", 3)
            col = Collector(client, info, ["scan:*"])
            col.follow_screen = True
            assert (await col.poll()).discovery_round_trips == 1  # the first part
            second = await col.poll()
            assert second.discovery_round_trips == calls
            assert not second.discovery.complete
    finally:
        await client.aclose()


def test_not_live_while_the_first_part_is_on_its_way_to_the_screen() -> None:
    """The poll has its snapshot (the monitor is live) one turn of the loop before the screen
    does: the header says DISCOVERING then too, not LIVE over an empty table."""
    import time

    from streamtop.pipeline.model import Discovery, Snapshot

    options = SessionOptions(targets=("scan:*",), interval=1.0, follow_screen=True)
    monitor = Monitor(parse_url("redis://127.0.0.1:1"), options)  # never connects
    app = StreamtopApp(monitor)
    monitor.accept(Snapshot(taken_at=time.time(), discovery=Discovery(complete=False)))
    assert app.snapshot is None
    assert app.header_info().state == "discovering"
