"""`streamtop replay`: the dashboard on a recording (issue 30), through the real app's pilot.

A real server is recorded through the session (Monitor + Recorder); the replay app then shows it:
the cursor in the header, the keys that move it, the events, the refusal of every write key, what
was not recorded, and a file that grows while it is replayed.
"""

from __future__ import annotations

import pytest

from streamtop.monitor import Monitor
from streamtop.options import PollOptions, SessionOptions
from streamtop.pipeline.connection import parse_url
from streamtop.record import Recording, attach
from streamtop.record.session import ReplaySession
from streamtop.ui.header import header_text
from streamtop.ui.replay import NOT_RECORDED, PENDING_NOT_RECORDED, ReplayApp
from tests.support.waiting import until


async def record(server, r, path, polls: int, start: int = 0) -> Monitor:
    monitor = Monitor(parse_url(server.url), SessionOptions(poll=PollOptions(estimate_interval=0)))
    attach(monitor, path, role="test")
    for i in range(start, start + polls):
        r.xadd("orders", {"n": str(i)})
        if i == 3:
            r.xgroup_create("orders", "billing", id="0")  # an event: a group appears
        await monitor.poll()
    return monitor


def header(app) -> str:
    return header_text(app.header_info()).plain


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


@pytest.mark.slow
async def test_replay_moves_the_cursor_refuses_writes_and_follows_a_growing_file(server, r, tmp_path) -> None:
    path = tmp_path / "rec.db"
    r.xadd("orders", {"n": "start"})
    r.xgroup_create("orders", "shipping", id="0")
    monitor = await record(server, r, path, 8)
    rec = Recording(path)
    session = ReplaySession(rec)
    app = ReplayApp(session)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: session.index == 7, "the replay at the last poll")
            assert "REPLAY" in header(app) and "poll 8 of 8" in header(app) and "paused" in header(app)
            assert app.snapshot is not None and app.snapshot.streams[0].length == 9
            await pilot.press("comma")
            await until(pilot, lambda: session.index == 6, "one poll back")
            assert app.snapshot.streams[0].length == 8 and "poll 7 of 8" in header(app)
            await pilot.press("less_than_sign")  # a minute back: the first poll
            await until(pilot, lambda: session.index == 0, "a minute back")
            await pilot.press("n")  # the next event: the billing group appeared at poll 4
            await until(pilot, lambda: session.index == 3, "the next event")
            assert any("billing" in n and "appeared" in n for n in notes(app)), notes(app)
            assert {g.name for g in app.snapshot.streams[0].groups} == {b"shipping", b"billing"}
            await pilot.press("e")  # produce: a write
            await until(
                pilot, lambda: any(n.startswith("replay is read-only: produce (e)") for n in notes(app))
            )
            info = app.main.query_one("#messages-info")
            assert NOT_RECORDED in str(info.render())
            app.select(b"orders", b"shipping")
            pending = app.main.query_one("#pending-info")
            await until(
                pilot, lambda: PENDING_NOT_RECORDED in str(pending.render()), "the pending page: not recorded"
            )
            await pilot.press("plus", "plus")
            assert "60x" in header(app)
            # the file grows while it is replayed: the cursor reaches the new polls
            for i in range(8, 11):
                r.xadd("orders", {"n": str(i)})
                await monitor.poll()
            await pilot.press("greater_than_sign")
            await until(pilot, lambda: session.index == 10, "the polls written since")
            assert "poll 11 of 11" in header(app) and app.snapshot.streams[0].length == 12
            await pilot.press("less_than_sign", "p")  # play from the start at 60x
            assert "playing" in header(app)
            await until(pilot, lambda: session.index == 10, "play to reach the end")
            assert app.snapshot.streams[0].length == 12
    finally:
        await monitor.close()
        rec.close()


async def test_the_dashboard_records_and_a_path_it_cannot_write_is_one_notice(server, r, tmp_path) -> None:
    import argparse

    from streamtop.commands.dashboard import record_to
    from streamtop.ui.app import StreamtopApp

    r.xadd("orders", {"n": "0"})
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for path, works in ((tmp_path / "rec.db", True), (blocker / "rec.db", False)):
        monitor = Monitor(parse_url(server.url), SessionOptions(interval=0.1, follow_screen=True))
        app = StreamtopApp(monitor)
        record_to(monitor, argparse.Namespace(record=str(path), keep=None, max_size=None), app.notify)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda m=monitor: m.polls >= 3, "three polls")
            stopped = [n for n in notes(app) if n.startswith("recording stopped")]
        if works:
            assert stopped == [] and len(Recording(path)) >= 3
        else:
            assert len(stopped) == 1 and "cannot record to" in stopped[0] and not path.exists()


async def test_a_recording_feeds_the_live_app_as_a_poll_source(server, r, tmp_path) -> None:
    """The recording's polls through the session and the app's own poll loop (RecordingSource),
    one a poll, then a poll written later: the app draws each and the rates are fed as live."""
    from streamtop.record.source import RecordingSource
    from streamtop.ui.app import StreamtopApp

    path = tmp_path / "rec.db"
    live = await record(server, r, path, 4)
    source = RecordingSource(path)
    session = Monitor.on(source, SessionOptions(interval=0.1, read_only=True), url="recording")
    app = StreamtopApp(session)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            drawn = lambda n: session.polls == n and app.snapshot is session.last  # noqa: E731
            await until(pilot, lambda: drawn(4), "the four recorded polls drawn")
            assert app.snapshot is not None and app.snapshot.streams[0].length == 4
            assert session.history.stream_rate(b"orders") is not None
            r.xadd("orders", {"n": "late"})
            await live.poll()  # written while the app is on it
            await until(pilot, lambda: drawn(5), "the poll recorded later drawn")
            assert app.snapshot.streams[0].length == 5 and session.polls == 5
    finally:
        await live.close()
        assert live.recorder is not None
        live.recorder.close()  # type: ignore[attr-defined]
