"""A command on a real terminal that can go away: a pty whose slave is the command's controlling
terminal (it leads its own session), and whose master the test drains, stops reading (a terminal
that hangs) or closes (the window closed: the kernel hangs up, SIGHUP to the foreground group)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import threading

import psutil

from tests.support.waiting import wait_for


def _own_terminal() -> None:  # in the child, before exec: a new session with the pty as its tty
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """`python -m streamtop ARGS` on a 120x40 pty."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamtop", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            preexec_fn=_own_terminal,  # noqa: PLW1509 (single-purpose: setsid + TIOCSCTTY)
        )
        os.close(slave)
        self.output = bytearray()
        self.reading = threading.Event()
        self.reading.set()
        self.closed = False
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        while self.reading.is_set():
            # a read blocked in this thread would hold the master open past close(): no hangup
            if not select.select([self.master], [], [], 0.1)[0]:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def family(self) -> list[psutil.Process]:
        """The command and every process it started (a server, a worker)."""
        me = psutil.Process(self.proc.pid)
        return [me, *me.children(recursive=True)]

    def stall(self) -> None:
        """The terminal stops reading: the command's writes block once the pty's buffer is full."""
        self.reading.clear()

    def stopped_reading(self) -> bool:
        """True once the drain has read its last chunk."""
        return not self._drainer.is_alive()

    def hang_up(self) -> None:
        """What the kernel does for the foreground group when its terminal goes."""
        os.killpg(self.proc.pid, signal.SIGHUP)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.reading.clear()
            self._drainer.join()
            os.close(self.master)

    def kill(self) -> None:
        """Leave nothing behind whatever the test found (SIGKILL to what is left)."""
        for p in self.family() if self.proc.poll() is None else []:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        self.close()
        self.proc.wait(10)


def gone(procs: list[psutil.Process]) -> bool:
    """Every process ended (a zombie waiting for its reaper counts as ended)."""
    for p in procs:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


def wait_gone(term: Terminal, procs: list[psutil.Process], what: str) -> None:
    term.proc.poll()  # reap our own child, so it is not a zombie forever
    wait_for(lambda: term.proc.poll() is not None and gone(procs), what)
