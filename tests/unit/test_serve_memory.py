"""serve's memory (issue 29), without a server: a hub nobody views encodes no document per poll
(one, when first asked, for every reader); a page's families are written family by family and
dropped as written; serve's command imports no SQLite nor the record writer without --record,
nor Rich nor Textual; serve's history keeps each rate's last value and no sparkline.
The figures: bench/serve_lean.py, docs/serve-lean.md."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import streamtop.hub.api as hub_api
from streamtop.hub.api import Hub
from streamtop.monitor import Monitor
from streamtop.options import PollOptions
from streamtop.pipeline.connection import ConnectionSpec
from streamtop.pipeline.history import History
from streamtop.pipeline.model import GroupInfo, Lag, LagSource, Snapshot, StreamInfo
from streamtop.pipeline.source import ListSource
from streamtop.serve.exposition import render
from streamtop.serve.metrics import ALL_TIERS, PollStats, families
from streamtop.serve.poller import serve_monitor
from tests.support.sample import sample_snapshot


def test_a_hub_nobody_views_encodes_a_poll_only_when_asked(monkeypatch):
    encoded: list[int] = []
    real = hub_api.encode

    def counting(doc):  # the real encoder, counted
        encoded.append(1)
        return real(doc)

    monkeypatch.setattr(hub_api, "encode", counting)
    monitor = Monitor.on(ListSource())
    hub = Hub(monitor, 5.0, "redis://example")
    snap = dataclasses.replace(sample_snapshot(3), focus=None)
    for _ in range(3):
        monitor.accept(snap)
        hub.publish()
    assert encoded == []  # three polls, no viewer, no GET: nothing encoded
    doc = json.loads(hub.current())
    assert doc["seq"] == 3 and len(doc["snapshot"]["streams"]) == len(snap.streams)  # the newest poll
    assert hub.current() is hub.current() and len(encoded) == 1  # encoded once for every reader
    monitor.accept(snap)
    hub.publish()
    assert json.loads(hub.current())["seq"] == 4 and len(encoded) == 2


def test_a_page_written_family_by_family_is_the_same_page_and_consumes_the_samples():
    snap = sample_snapshot(4)
    history = History()
    history.update(snap)
    fams = families(snap, history, 0, PollStats(up=True), ALL_TIERS)
    again = families(snap, history, 0, PollStats(up=True), ALL_TIERS)
    page = render(fams)
    assert any(f.samples for f in fams)  # not consumed unless asked
    assert render(again, consume=True) == page
    assert all(f.samples == [] for f in again)


def _printed_by_a_fresh_interpreter(code: str) -> str:
    """What code prints, run in a new Python process (its sys.modules holds only what code imports)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_serve_imports_no_sqlite_nor_the_recorder_without_record():
    code = (
        "import sys, streamtop.cli, streamtop.commands.serve; "
        "print(sorted(m for m in ('sqlite3', 'msgpack', 'streamtop.record.writer', "
        "'streamtop.record.reader') if m in sys.modules))"
    )
    assert _printed_by_a_fresh_interpreter(code) == "[]"


def test_serve_imports_neither_rich_nor_textual():
    """What `streamtop serve` imports to run (the command, its HTTP server, a poll's modules):
    Rich is the dashboard's and the CLI's, not the exporter's (~2 MB of RSS, docs/serve-lean.md)."""
    code = (
        "import sys, streamtop.cli, streamtop.commands.serve, streamtop.serve.http; "
        "streamtop.cli.build_parser('serve'); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'textual'}))"
    )
    assert _printed_by_a_fresh_interpreter(code) == "[]"


def _group(entries_read: int, lag: int) -> GroupInfo:
    return GroupInfo(
        name=b"g",
        consumers=1,
        pending=0,
        last_delivered_id="0-0",
        entries_read=entries_read,
        lag=Lag(LagSource.EXACT, lag),
    )


def test_serves_history_keeps_each_rates_last_value_and_no_sparkline():
    polls = [
        Snapshot(
            taken_at=100.0 + 2 * i,
            streams=(StreamInfo(b"s", length=10, entries_added=10 + 20 * i, groups=(_group(4 + 6 * i, 3),)),),
        )
        for i in range(5)
    ]
    full, lean = History(), History(sparklines=False)
    for snap in polls:
        full.update(snap)
        lean.update(snap)
    assert lean.stream_rate(b"s") == full.stream_rate(b"s") == 10.0  # 20 added in 2 s
    assert lean.group_rate(b"s", b"g") == full.group_rate(b"s", b"g") == 3.0
    assert lean.health(b"s", b"g") == full.health(b"s", b"g")  # the same window, the same verdict
    assert len(full.in_rate[b"s"].points) == 5 and len(full.lag[(b"s", b"g")].points) == 5
    assert lean.in_rate[b"s"].points == [10.0] and lean.read_rate[(b"s", b"g")].points == [3.0]
    assert lean.lag == {}
    monitor = serve_monitor(ConnectionSpec(), [], PollOptions(), 5.0, 30.0)
    assert not monitor.history.sparklines and monitor.history.window == 30.0
