"""Record and replay against a real server (issue 30): what a replay rebuilds is what was live.

The truth test records a live workload through the dashboard's session (Monitor + Recorder) and,
at ten moments, compares the replayed `status --at --json` with a live `status --json` taken at
that moment (the workload paused for the two reads, so the server holds still between them): the
same numbers and verdicts; ages agree as the moments they point to, within the recording's slack.
"""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from streamtop import cli
from streamtop.commands import status
from streamtop.monitor import Monitor
from streamtop.options import PollOptions, SessionOptions
from streamtop.pipeline.connection import parse_url
from streamtop.pipeline.history import History
from streamtop.pipeline.model import Snapshot
from streamtop.record import Recording, RecordingError, attach
from streamtop.record.codec import AGE_SLACK_MS
from tests.support.recording import Gate, differences, live_workload, moments
from tests.support.waiting import until

FULL = PollOptions(estimate_interval=0)  # as `status` and `streamtop record` poll


def status_doc(res: status.Result) -> dict:
    th = status.Thresholds()
    return status.to_json(res, th, status.find_breaches(res.snapshot, th))


@pytest.mark.slow
async def test_replayed_status_equals_the_live_status_at_ten_moments(server, tmp_path) -> None:
    gate = Gate()
    path = tmp_path / "rec.db"
    spec = parse_url(server.url)
    monitor = Monitor(spec, SessionOptions(poll=FULL))
    attach(monitor, path, role="test")
    compared = []
    try:
        with live_workload(server, gate) as workers:
            for _ in range(10):
                steps = workers[0].steps
                await until(None, lambda s=steps: workers[0].steps >= s + 5, "the producer to go on")
                await monitor.poll()  # a poll of the running workload between the moments
                with gate.paused():
                    # a session reads a time lag from where the group was at its previous poll
                    # (collector.time_lag): the poll after the pause reads it as one-shot status
                    # does, exactly, instead of "at most" when the consumers moved in between
                    await monitor.poll()
                    snap = await monitor.poll()
                    live = await status.collect(spec, [], status.Thresholds().poll_options(1000), None)
                assert snap is not None
                replayed = status.recorded(str(path), repr(snap.taken_at), [], None, False)
                compared.append((status_doc(live), status_doc(replayed)))
    finally:
        await monitor.close()
        assert monitor.recorder is not None
        monitor.recorder.close()  # type: ignore[attr-defined]
    verdicts = set()
    for live_doc, replayed_doc in compared:
        assert differences(moments(live_doc), moments(replayed_doc), AGE_SLACK_MS + 50) == []
        verdicts |= {g["health"] for s in replayed_doc["streams"] for g in s["groups"]}
    assert "stopped" in verdicts  # the verdicts compared are not all "unknown"
    lags = {g["lag"] for _, doc in compared for s in doc["streams"] for g in s["groups"]}
    assert len(lags) > 3  # the moments differ: the workload moved between them


async def _record(server, path, polls: int, **kw) -> tuple[Monitor, list[Snapshot]]:
    monitor = Monitor(parse_url(server.url), SessionOptions(poll=FULL))
    attach(monitor, path, role="test", **kw)
    snaps = []
    for _ in range(polls):
        snap = await monitor.poll()
        assert snap is not None
        snaps.append(snap)
    return monitor, snaps


async def test_every_poll_replays_as_it_was_and_the_history_judges_alike(server, r, tmp_path) -> None:
    r.xadd("s", {"n": "0"})
    r.xgroup_create("s", "g", id="0")
    r.xgroup_create("s", "idle", id="$")
    r.xadd("t", {"n": "0"})
    monitor = Monitor(parse_url(server.url), SessionOptions(poll=FULL))
    recorder = attach(monitor, tmp_path / "rec.db", role="test")
    live: list[Snapshot] = []
    try:
        for i in range(12):
            if i % 3 == 0:
                r.xadd("s", {"n": str(i)})
            if i == 4:
                r.xreadgroup("g", "c1", {"s": ">"}, count=2)
            if i == 7:
                r.xgroup_create("t", "late", id="0")  # a group appears
            if i == 9:
                r.xgroup_destroy("s", "idle")  # and one goes
            snap = await monitor.poll()
            assert snap is not None
            live.append(snap)
    finally:
        await monitor.close()
        recorder.close()
    rec = Recording(tmp_path / "rec.db")
    assert len(rec) == 12
    replayed = list(rec.snapshots(0, 11))
    for a, b in zip(live, replayed, strict=True):
        assert differences(status_doc_of(a), status_doc_of(b), AGE_SLACK_MS) == []
    snap, history = rec.history_until(11, window=60.0, points=12)
    for s in snap.streams:
        for g in s.groups:
            assert history.health(s.key, g.name) == monitor.history.health(s.key, g.name)
    kinds = {e.kind for e in rec.events()}
    assert {"group", "group gone", "consumer", "verdict"} <= kinds


def status_doc_of(snap: Snapshot) -> dict:
    """A snapshot as `status --json` prints it, ages as moments (one History per snapshot)."""
    history = History()
    history.update(snap)
    return moments(status_doc(status.Result(snap, history, "", None)))


async def test_actions_are_recorded_with_who_and_the_result(server, r, tmp_path) -> None:
    r.xadd("s", {"n": "0"})
    monitor, _ = await _record(server, tmp_path / "rec.db", 1)
    try:
        actions = monitor.actions
        assert actions is not None
        assert (await actions.produce_one(b"s")).ok
        assert not (await actions.group_setid(b"s", b"nogroup", "0")).ok
        await actions.groups(b"s")  # a read: not recorded
    finally:
        await monitor.close()
    db = sqlite3.connect(tmp_path / "rec.db")
    rows = db.execute("SELECT command, who, ok, result, args FROM actions ORDER BY t").fetchall()
    assert [(c, ok) for c, _, ok, _, _ in rows] == [("produce_one", 1), ("group_setid", 0)]
    assert all(who.endswith("(test)") and "@" in who for _, who, _, _, _ in rows)
    assert "failed" in rows[1][3] and "nogroup" in rows[1][3]
    assert json.loads(rows[1][4])["args"] == ["s", "nogroup", "0"]


async def test_an_outage_is_recorded_and_status_at_says_the_server_was_down(own_server, tmp_path) -> None:
    path = tmp_path / "rec.db"
    monitor, snaps = await _record(own_server, path, 2)
    try:
        own_server.stop()
        assert await monitor.poll() is snaps[-1]  # failed: the last good one
        down_at = monitor.stale_since
        assert down_at is not None
    finally:
        await monitor.close()
    rec = Recording(path)
    assert rec.outage_at(down_at + 0.001) is not None
    with pytest.raises(Exception, match="the server was stale"):
        status.recorded(str(path), repr(down_at + 0.001), [], None, False)
    assert (
        status.recorded(str(path), repr(snaps[-1].taken_at), [], None, False).snapshot.taken_at
        == snaps[-1].taken_at
    )


async def test_a_file_that_fails_stops_the_recording_with_one_line_and_polling_goes_on(
    server, r, tmp_path
) -> None:
    r.xadd("s", {"n": "0"})
    lines: list[str] = []
    monitor, _ = await _record(server, tmp_path / "rec.db", 1, on_error=lines.append)
    recorder = monitor.recorder
    try:
        db = recorder.db  # type: ignore[attr-defined]
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")  # disk full
        with r.pipeline() as pipe:
            for _ in range(300):
                pipe.xadd(f"more:{os.urandom(16).hex()}", {"n": "1"})  # names zlib cannot shrink
            pipe.execute()
        monitor.request_discovery()
        for _ in range(3):
            assert await monitor.poll() is not None
        assert monitor.polls == 4 and monitor.last is not None and len(monitor.last.streams) == 301
    finally:
        await monitor.close()
    assert len(lines) == 1 and "full" in lines[0] and "going on without recording" in lines[0]


async def test_a_path_that_cannot_be_written_is_one_line_and_polling_goes_on(server, r, tmp_path) -> None:
    r.xadd("s", {"n": "0"})
    lines: list[str] = []
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monitor, _ = await _record(server, blocker / "rec.db", 2, on_error=lines.append)
    await monitor.close()
    assert monitor.polls == 2
    assert len(lines) == 1 and "cannot record to" in lines[0] and "\n" not in lines[0]


async def test_retention_drops_the_oldest_polls_and_the_file_still_opens(
    server, r, tmp_path, monkeypatch
) -> None:
    r.xadd("s", {"n": "0"})
    r.xgroup_create("s", "g", id="0")
    path = tmp_path / "rec.db"
    monitor, snaps = await _record(server, path, 6)
    try:
        recorder = monitor.recorder
        from streamtop.record import writer

        monkeypatch.setattr(writer, "KEYFRAME_MIN_BYTES", 0)
        recorder._kf_bytes = 0  # type: ignore[attr-defined] # every poll a keyframe from here
        for _ in range(4):
            r.xadd("s", {"n": "1"})
            snaps.append(await monitor.poll())  # type: ignore[arg-type]
        recorder.keep_s = 1.0  # type: ignore[attr-defined]
        recorder.retain(snaps[-2].taken_at + 1.0)  # type: ignore[attr-defined]
        assert writer.RETENTION_EVERY > 0
    finally:
        await monitor.close()
    rec = Recording(path)
    assert 1 <= len(rec) < 10 and rec.times[-1] == snaps[-1].taken_at
    assert rec.snapshot(len(rec) - 1).streams[0].length == snaps[-1].streams[0].length
    assert rec.times[0] > snaps[5].taken_at  # the polls before the last keyframes are gone


def test_a_future_schema_version_and_a_damaged_file_are_refused_in_one_line(tmp_path, capsys) -> None:
    future = tmp_path / "future.db"
    db = sqlite3.connect(future)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    db.commit()
    db.close()
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 20)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.close()
    for path, words in (
        (future, "newer streamtop"),
        (damaged, "damaged"),
        (other, "not a streamtop recording"),
    ):
        with pytest.raises(RecordingError, match=words):
            Recording(path)
        assert cli.main(["status", "--from-file", str(path), "--json"]) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and words in err and "Traceback" not in err
        assert cli.main(["replay", str(path)]) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and words in err
