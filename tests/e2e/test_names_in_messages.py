"""A name in a command's message is written as the status table and the dashboard write it
(model.label's one form, in plain quotes), never as Python's repr of that form: repr doubles the
backslash, so the stream `ESC s` read as `'e\\\\x1bs'`, which by the README's rule is the other
stream, the one whose name holds a backslash (the review of the issue 24/25 merge)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis

from streamtop.pipeline.model import label

pytestmark = pytest.mark.slow  # several runs of the console script
ESC_KEY = b"e\x1bs"  # a control character: label writes \x1b
BACKSLASH_KEY = b"e\\x1bs"  # a real backslash: label writes \\x1b


def run(*args: str | bytes, columns: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": str(columns)} if columns else None
    return subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"streamtop",
            *(a if isinstance(a, bytes) else a.encode() for a in args),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=env,
    )


def test_a_message_names_a_stream_as_status_does(server, r: redis.Redis):
    for key in (ESC_KEY, BACKSLASH_KEY):
        r.xadd(key, {"a": "1"})
        r.xgroup_create(key, "g", 0)
        r.xreadgroup("g", "c", {key: ">"})
    status = run("status", "--url", server.url, "e*").stdout
    for key in (ESC_KEY, BACKSLASH_KEY):
        assert f"\n{label(key)}  length 1" in status, status
        moved = run("deadletter", key, "g", "--min-deliveries", "1", "--yes", "--url", server.url)
        assert moved.returncode == 0, moved.stderr
        assert f"to '{label(key)}:dlq' and acked them in 'g'" in moved.stdout, moved.stdout
        empty = run("trim", key + b":none", "--maxlen", "0", "--yes", "--url", server.url)
        assert f"'{label(key)}:none'" in empty.stdout + empty.stderr, empty.stderr
    # the two keys' messages differ, and each reads back (model.unlabel) as its own bytes
    assert label(ESC_KEY) != label(BACKSLASH_KEY)


def test_two_long_keys_with_one_head_print_as_two_in_the_status_table(server, r: redis.Redis):
    """The table cuts a key at 200 cells; two keys that differ after that printed the same line
    (`nnn…`), as two series would without the exporter's hash: the cut carries a hash of the whole
    name, as /metrics labels do."""
    head = b"k:" + b"n" * 400
    keys = (head + b"1", head + b"2")
    for key in keys:
        r.xadd(key, {"a": "1"})
    out = run("status", "--url", server.url, "k:*", columns=1000).stdout
    lines = [line.split("  length")[0] for line in out.splitlines() if "  length 1" in line]
    assert len(lines) == 2 and lines[0] != lines[1], out
    assert all(len(line) < 250 for line in lines), lines
