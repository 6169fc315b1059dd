"""A real server process made to hang: SIGSTOP for the block, SIGCONT always after."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def stopped(srv) -> Iterator[None]:
    """SIGSTOP the server (anything with a `process`: a ServerProcess, a cluster node) for the
    block; SIGCONT always, whatever the test did."""
    pid = srv.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
