"""`streamtop record` as a real process: a kill -9 mid-recording leaves a file that opens and
replays up to the last poll written before the kill; SIGTERM ends it cleanly; a file it cannot
write is one line and exit 1; `status --at --from-file` answers from the file."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from streamtop.record import Recording, RecordingError
from tests.support.waiting import wait_for


def start(srv, out, *argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamtop",
            "record",
            "--url",
            srv.url,
            "--out",
            str(out),
            "--interval",
            "0.1",
            *argv,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def polls(path) -> int:
    try:
        rec = Recording(path)
    except RecordingError:
        return 0
    try:
        return len(rec)
    finally:
        rec.close()


@pytest.mark.slow
def test_kill_9_mid_recording_leaves_a_file_that_replays_to_the_last_poll(server, r, tmp_path):
    r.xadd("s", {"n": "0"})
    r.xgroup_create("s", "g", id="0")
    out = tmp_path / "rec.db"
    proc = start(server, out)
    try:
        for n in range(1, 6):
            r.xadd("s", {"n": str(n)})
            wait_for(lambda n=n: polls(out) >= 3 * n, f"{3 * n} polls recorded")
        seen = polls(out)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    rec = Recording(out)  # opens after the kill (the WAL is recovered)
    assert len(rec) >= seen
    last = rec.snapshot(len(rec) - 1)
    assert last.streams[0].length == 6
    done = subprocess.run(
        [sys.executable, "-m", "streamtop", "status", "--from-file", str(out), "--at", "end", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["streams"][0]["length"] == 6 and doc["taken_at_ms"] == int(last.taken_at * 1000)


def test_sigterm_ends_cleanly_and_a_bad_path_is_one_line(server, r, tmp_path):
    r.xadd("s", {"n": "0"})
    out = tmp_path / "rec.db"
    proc = start(server, out)
    wait_for(lambda: polls(out) >= 2, "two polls recorded")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = subprocess.run(
        [sys.executable, "-m", "streamtop", "record", "--url", server.url, "--out", str(blocker / "x.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "cannot record to" in bad.stderr
