"""Numbers on the real console script and a real server: refusals are exit 1, one line, no traceback,
nothing written; valid odd spellings work."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.numbers import short


def run_cli(*argv: str) -> subprocess.CompletedProcess:
    # the timeout only stops a hang from stalling the suite; nothing is judged by the time taken
    return subprocess.run(
        [sys.executable, "-m", "streamtop", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["status", "--max-idle", "1e308"], ["--max-idle", "max idle must be at most 315,360,000 s"]),
        (["status", "--rates", "--rates-interval", "1e308"], ["--rates-interval", "at most 600 s"]),
        (["status", "--max-idle", "4" * 400], ["--max-idle", "(400 characters)"]),
        (["status", "--max-lag", "9" * 4400], ["--max-lag", "at most 9,223,372,036,854,775,807"]),
        (["--stuck-after", "1e308"], ["--stuck-after", "at most 315,360,000 s"]),
        (["--interval", "nan"], ["--interval", "must be a number, got 'nan'"]),
        (["produce", "k", "--rate", "1e-300"], ["--rate", "at least 0.01 entries/s"]),
        (["produce", "k", "-n", "99999999"], ["--count", "at most 10,000,000"]),
        (["produce", "k", "-n", "٣"], ["--count", "whole number"]),
        (["produce", ""], ["KEY is empty"]),
        (["demo", "--rate", "inf"], ["--rate", "must be a number"]),
    ],
    ids=short,
)
def test_cli_refusals_end_to_end(server, r, argv, words):
    """The console entry point on a real server: exit 1, one line, no traceback, nothing written."""
    proc = run_cli(*argv, "--url", server.url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert r.dbsize() == 0  # produce "" used to create a key named ""


def test_cli_valid_numbers_end_to_end(server, r):
    proc = run_cli("produce", "k", "--url", server.url, "-n", " 3 ", "--rate", "1000", "--maxlen", "1,000")
    assert proc.returncode == 0 and r.xlen("k") == 3, proc.stderr
    proc = run_cli("status", "--url", server.url, "--max-idle", "1e5", "--max-lag", "0", "--max-length", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
