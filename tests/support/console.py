"""The console script as a real process, for the e2e tests: started with pipes and without the
caller's connection or hub token in its environment, its one-line refusals checked, stopped by
SIGTERM with its exit code kept, its /metrics page waited for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable

from tests.support.scrape import Scrape
from tests.support.waiting import wait_for

# what the tests' own environment must not hand to the process under test
CALLERS_ENV = ("REDIS_URL", "REDISCLI_AUTH", "STREAMTOP_HUB_TOKEN")


def streamtop(*args: str, **kw) -> subprocess.Popen:
    """`python -m streamtop ARGS` with stdout and stderr piped, no stdin."""
    env = {k: v for k, v in os.environ.items() if k not in CALLERS_ENV}
    return subprocess.Popen(
        [sys.executable, "-m", "streamtop", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        **kw,
    )


def one_line_error(proc: subprocess.Popen, *words: str) -> str:
    """The process ends with exit 1, nothing on stdout and one line on stderr holding `words`."""
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def terminate(proc: subprocess.Popen) -> int:
    """SIGTERM, its exit code, its pipes closed (a `finally`: the process may have ended)."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    finally:
        close(proc)


def close(proc: subprocess.Popen) -> None:
    """SIGKILL if it still runs (a test that failed half-way), then its pipes closed."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def scrape_until(url: str, ready: Callable[[Scrape], object], what: str) -> Scrape:
    """GET the /metrics page at `url` until `ready(page)`: that page."""

    def page() -> Scrape | None:
        with urllib.request.urlopen(url, timeout=10) as resp:
            got = Scrape.parse(resp.read().decode())
        return got if ready(got) else None

    got = wait_for(page, what)
    assert isinstance(got, Scrape)
    return got
