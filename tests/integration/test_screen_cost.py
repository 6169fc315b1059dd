"""Watching cost follows the screen (issue 17), on real servers: off-screen streams are read as
summaries, a stream that comes into view gets its details in the next poll, a full poll stays
available (status, --full-poll), and the server budget holds while the server is slowed by
DEBUG SLEEP on a schedule."""

from __future__ import annotations

import asyncio
import dataclasses
import threading

import pytest
import redis

from streamtop.embedded import start_server
from streamtop.monitor import Monitor
from streamtop.pipeline.cadence import DETAIL_COMMANDS, SUMMARY_COMMANDS
from streamtop.pipeline.connection import parse_url
from streamtop.pipeline.model import Focus
from tests.support.streams import pending_streams, screen_monitor


def detailed(stream) -> bool:
    """What only a full read has: the consumers and the oldest pending entry."""
    g = stream.groups[0]
    return not stream.summary_only and bool(g.consumer_list) and g.pending_summary is not None


async def test_a_stream_scrolled_into_view_gets_its_details_in_the_next_poll(server, r) -> None:
    keys = pending_streams(r, 30)
    m = screen_monitor(server)
    try:
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:5])))
        snap = await m.poll()
        assert snap is not None and snap.cost is not None
        assert all(detailed(snap.stream(k)) for k in keys[:5])
        far = snap.stream(keys[25])
        # off screen: the summary's values, and what it does not know left unknown, not 0
        assert far.summary_only and far.length == 3 and far.total_pending == 3
        assert far.groups[0].consumer_list == () and far.groups[0].pending_summary is None
        assert far.oldest_pending_idle_ms is None

        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[20:30])))  # scrolled down
        snap = await m.poll()
        assert all(detailed(snap.stream(k)) for k in keys[20:30])
        assert [c.name for c in snap.stream(keys[25]).groups[0].consumer_list] == [b"c1"]
        assert snap.stream(keys[25]).oldest_pending_idle_ms is not None
        assert detailed(snap.stream(keys[0]))  # the selection stays in full
        assert snap.cost.detailed == 11
    finally:
        await m.close()


async def test_offscreen_summaries_are_spread_and_carried(server, r) -> None:
    """After the first poll, a poll reads only its share of the off-screen summaries; the others
    are the very objects shown before (no work redone for them)."""
    keys = pending_streams(r, 50)
    m = screen_monitor(server)
    try:
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:2])))
        first = await m.poll()
        second = await m.poll()
        assert first is not None and second is not None and second.cost is not None
        assert first.cost.summarized == 48
        assert 0 < second.cost.summarized < 48
        assert second.cost.carried == 48 - second.cost.summarized
        # nothing changed: read again or not, each row is the very object shown before
        assert all(second.stream(k) is first.stream(k) for k in keys[2:])
        assert second.cost.summary_age is not None
    finally:
        await m.close()


async def test_only_a_summary_that_changed_is_made_again(server, r) -> None:
    """An off-screen stream read again with the same replies keeps its object (nothing above
    parses or draws it again); one that changed is a new object with the new values."""
    keys = pending_streams(r, 10)
    m = screen_monitor(server)
    try:
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:1])))
        first = await m.poll()
        r.xadd(keys[5], {"f": "new"})
        m.collector.options = dataclasses.replace(m.collector.options, summary_period=0.05)  # every summary
        m.set_interval(0.05)
        await asyncio.sleep(0.1)
        snap = await m.poll()
        assert snap.cost.summarized == 9
        assert snap.stream(keys[5]) is not first.stream(keys[5]) and snap.stream(keys[5]).length == 4
        assert all(snap.stream(k) is first.stream(k) for k in keys[1:] if k != keys[5])
    finally:
        await m.close()


async def test_a_visible_change_shows_in_the_next_poll_and_an_offscreen_one_within_the_period(
    server, r
) -> None:
    keys = pending_streams(r, 40)
    m = screen_monitor(server, summary_period=0.5)
    m.set_interval(0.05)
    try:
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:3])))
        await m.poll()
        r.xadd(keys[1], {"f": "new"})
        r.xadd(keys[39], {"f": "new"})
        snap = await m.poll()
        assert snap.stream(keys[1]).length == 4
        for _ in range(60):  # polls 0.05 s apart: every summary read again within 0.5 s
            if snap.stream(keys[39]).length == 4:
                break
            await asyncio.sleep(0.05)
            snap = await m.poll()
        assert snap.stream(keys[39]).length == 4
    finally:
        await m.close()


async def test_full_poll_reads_everything_in_full(server, r) -> None:
    """--full-poll (the old cost) and a Monitor the dashboard did not set up read every stream in
    full, with no cost figures."""
    keys = pending_streams(r, 10)
    for m in (screen_monitor(server, full_poll=True), Monitor(parse_url(server.url))):
        try:
            m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:1])))
            snap = await m.poll()
            assert snap.cost is None
            assert all(detailed(s) for s in snap.streams)
        finally:
            await m.close()


async def test_summary_shows_a_null_lag_as_unknown(server, r) -> None:
    """An off-screen group whose lag the server cannot say (NULL after an XDEL in its unread
    range) has no estimate in a summary: '?', never a number."""
    keys = pending_streams(r, 3)
    ids = [r.xadd(keys[2], {"f": str(i)}).decode() for i in range(3)]
    r.xdel(keys[2], ids[1])
    m = screen_monitor(server)
    try:
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:1])))
        snap = await m.poll()
        s = snap.stream(keys[2])
        assert s.summary_only and s.max_lag is not None
        assert s.max_lag.best is None and s.max_lag.text() == "?"
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys)))
        snap = await m.poll()
        assert snap.stream(keys[2]).max_lag.text() == "~2"  # in view: counted
    finally:
        await m.close()


def own_usec(r: redis.Redis) -> int:
    """Server usec of the commands the polls send, but INFO (this test asks INFO itself)."""
    total = 0
    for name, stat in r.info("commandstats").items():
        command = name.removeprefix("cmdstat_")
        if command in SUMMARY_COMMANDS | DETAIL_COMMANDS | {"time", "xrevrange"}:
            total += int(stat["usec"])
    return total


@pytest.mark.slow
async def test_the_budget_holds_on_a_server_slowed_by_debug_sleep() -> None:
    """2,000 streams, 40 on screen, polls every 0.2 s and a budget of 0.08 %: the visible rows
    alone take more than that at 0.2 s, so both cadences stretch (the summaries to their 60 s
    bound). Meanwhile another client makes the server sleep 50 ms every 250 ms (DEBUG SLEEP), so
    round trips come late and irregular.
    Measured from outside (INFO commandstats of the poll's commands, after the warm-up), the
    load stays within the budget, and the dashboard's own figure agrees with it."""
    srv = start_server("valkey-9.1", extra_args=["--enable-debug-command", "yes"])
    stop = threading.Event()
    try:
        r = redis.Redis(host=srv.host, port=srv.port, protocol=2)
        keys = pending_streams(r, 2000)

        def sleeper() -> None:
            with redis.Redis(host=srv.host, port=srv.port) as s:
                while not stop.wait(0.25):
                    s.execute_command("DEBUG", "SLEEP", "0.05")

        thread = threading.Thread(target=sleeper, daemon=True)
        thread.start()
        budget = 0.08
        m = screen_monitor(srv, max_server_load=budget, max_streams=5000)
        m.set_interval(0.2)
        loop = asyncio.get_running_loop()
        try:
            m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:40])))
            for _ in range(8):  # warm-up: the first poll reads every summary; costs get measured
                await m.poll()
                await asyncio.sleep(m.poll_delay())
            start_usec, start_t = own_usec(r), loop.time()
            snap = None
            while loop.time() - start_t < 6.0:
                snap = await m.poll()
                await asyncio.sleep(m.poll_delay())
            outside = (own_usec(r) - start_usec) / 1e6 / (loop.time() - start_t)
        finally:
            await m.close()
        assert snap is not None and snap.cost is not None
        assert snap.cost.stretched and snap.cost.visible_period > 0.2  # the header says so
        # the summaries stretch to their bound (60 s, less the poll that reads them), no further
        assert snap.cost.summary_period > 50 and snap.cost.summary_period + snap.cost.visible_period <= 60
        assert snap.cost.met
        assert outside <= budget / 100 * 1.25, f"{outside:.4%} of the server for a {budget}% budget"
        assert snap.cost.load is not None
        assert 0.5 * outside <= snap.cost.load <= 2.0 * outside + 0.0002, (snap.cost, outside)
        assert dataclasses.replace(snap.cost, load=None).budget == budget / 100
    finally:
        stop.set()
        srv.cleanup()


@pytest.mark.slow
async def test_another_clients_scans_and_xinfo_are_not_the_dashboards_load(server, r) -> None:
    """Between and inside the polls another client runs SCAN and XINFO STREAM: the load the
    dashboard measures holds only its own calls (INFO commandstats, cut to the calls it sent)."""
    keys = pending_streams(r, 10)
    m = screen_monitor(server)
    other = redis.Redis.from_url(server.url)
    try:
        m.set_focus(Focus(key=keys[0], visible=frozenset(keys[:3])))
        for _ in range(3):
            await m.poll()
        collector = m.collector
        assert collector is not None
        before = dict(collector.meter._polls)
        for _ in range(3):
            for _ in range(300):  # another client's work between two polls
                other.scan(0, count=1000)
                other.xinfo_stream(keys[5])
            await m.poll()
        own = [u for t, u in collector.meter._polls if t not in before]
    finally:
        other.close()
        await m.close()
    assert len(own) == 3
    # 300 SCANs of 10+ keys and 300 XINFO STREAM calls cost the server far more than a poll of 10
    # small streams; counted as ours, each poll would read thousands of usec. The bar is half of
    # what the other client spent between two polls (both commands: one poll on a loaded host
    # once read 451 usec of its own, more than half the SCANs alone)
    stats = r.info("commandstats")
    scans = stats["cmdstat_scan"]
    xinfo = stats.get("cmdstat_xinfo|stream") or stats["cmdstat_xinfo"]
    assert scans["calls"] >= 900
    between = (scans["usec"] / scans["calls"] + xinfo["usec"] / xinfo["calls"]) * 300
    assert max(own) < between / 2, (own, scans, xinfo)
