"""BullMQ (Node) against a real server: BullMQ keeps its jobs in lists and hashes and writes only
its events to a stream (`bull:<queue>:events`, trimmed to ~10000). streamtop finds that stream
and decodes its entries: plain field/value events, and the JSON `returnvalue` of completed jobs.
Skipped, with the reason, where node/npm are missing or the npm install fails (offline)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from streamtop.pipeline.decode import decode_entry
from streamtop.pipeline.decode.preview import pairs

SCRIPT = Path(__file__).resolve().parents[1] / "support" / "bullmq" / "emails.js"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def bullmq_dir(tmp_path_factory) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed (.ci/run installs Debian's nodejs and npm)")
    where = tmp_path_factory.mktemp("bullmq")
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", "bullmq", "ioredis"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        pytest.skip(f"npm install bullmq ioredis failed: {done.stderr.strip()[-300:]}")
    shutil.copy(SCRIPT, where / "emails.js")
    return where


def test_bullmq_events_stream(bullmq_dir, server, r):
    done = subprocess.run(
        ["node", "emails.js", str(server.port)], cwd=bullmq_dir, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "done 3"
    key = "bull:emails:events"
    assert r.type(key) == b"stream"
    entries = [tuple(fields.items()) for _, fields in r.xrange(key)]
    events = [dict(e)[b"event"] for e in entries]
    assert events.count(b"completed") == 3 and b"added" in events
    completed = [decode_entry(e) for e in entries if dict(e)[b"event"] == b"completed"]
    first = completed[0]
    assert first is not None and first.format == "json"
    assert first.body["returnvalue"] == {"sent": "user0@example.com"}
    assert pairs(first)[0] == ("event", "completed")
    added = next(decode_entry(e) for e in entries if dict(e)[b"event"] == b"added")
    assert added is not None and added.format == "text" and added.body["name"] == "send-welcome"
