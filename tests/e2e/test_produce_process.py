"""`streamtop produce` as a real process: a pipe gets only the last ID; a terminal (a pty) gets the
progress bar."""

from __future__ import annotations

import os
import pty
import subprocess
import sys


def test_process_in_a_pipe(server, r):
    done = subprocess.run(
        [sys.executable, "-m", "streamtop", "produce", "s", "-n", "3", "--url", server.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == r.xrevrange("s", count=1)[0][0].decode() + "\n"


def test_process_on_a_terminal_shows_progress(server, r):
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamtop", "produce", "s", "-n", "50", "--url", server.url],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    text = out.decode("utf-8", "replace")
    assert "XADD s" in text and "50/50" in text
    assert r.xrevrange("s", count=1)[0][0].decode() in text
    assert r.xlen("s") == 50
