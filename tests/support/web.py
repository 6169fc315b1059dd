"""`streamtop web` as a subprocess for the e2e tests: started on a free loopback port, waited for
until its page answers, and stopped by its PID with every dashboard session it spawned."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil

from streamtop.embedded import free_port
from tests.support.waiting import wait_for


@dataclass
class WebProcess:
    process: subprocess.Popen
    port: int
    sessions_seen: dict[int, psutil.Process] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def sessions(self) -> list[psutil.Process]:
        """The dashboard processes textual-serve started, one per browser session."""
        try:
            found = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        self.sessions_seen.update((p.pid, p) for p in found)
        return found

    def output(self) -> str:
        out, err = self.process.communicate(timeout=20)
        return out + err


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def web_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDISCLI_AUTH")}
    return {**env, **extra}


@contextmanager
def running_web(*args: str, env: dict[str, str] | None = None) -> Iterator[WebProcess]:
    """`python -m streamtop web ARGS --port FREE`; stopped with SIGTERM on exit, and the sessions it
    leaves (there should be none) killed by PID."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamtop", "web", *args, "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or web_env(),
    )
    web = WebProcess(proc, port)
    try:

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"streamtop web exited {proc.returncode}: {web.output()}")
            return _answers(web.url)

        wait_for(up, f"streamtop web to answer on {web.url}")
        yield web
    finally:
        web.sessions()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for session in web.sessions_seen.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                session.kill()  # psutil checks the PID was not reused
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
