"""`streamtop --attach` and the hub's options as real processes: bad input is one line and exit 1
(issue 31)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def attach(*args: str, **kw) -> subprocess.Popen:
    env = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDISCLI_AUTH", "STREAMTOP_HUB_TOKEN")
    }
    return subprocess.Popen(
        [sys.executable, "-m", "streamtop", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        **kw,
    )


def one_line_error(proc: subprocess.Popen, *words: str) -> None:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert all(w in lines[0] for w in words), lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--attach", "ftp://hub:1"], ["--attach", "http://"]),
        (["--attach", "http://127.0.0.1:1", "--token-file", "/nonexistent/token"], ["--token-file"]),
        (["--attach", "http://127.0.0.1:1", "orders:*"], ["--attach", "the hub's"]),  # was ignored
    ],
)
def test_bad_attach_input_is_one_line(args, words):
    one_line_error(attach(*args), *words)


def test_a_short_token_file_is_refused(server, tmp_path):
    token = tmp_path / "token"
    token.write_text("short\n")
    proc = attach("serve", "--url", server.url, "--metrics-port", "0", "--token-file", str(token))
    one_line_error(proc, "--token-file", "16 characters")
