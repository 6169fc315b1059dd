"""Waiting for a condition in tests that run no event loop: a bounded wait, not a speed figure."""

from __future__ import annotations

import time
from collections.abc import Callable

WAIT = 20.0  # a generous upper bound for a condition to become true


def wait_for(cond: Callable[[], object], what: str, timeout: float = WAIT) -> object:
    """Poll `cond()` until it is truthy (returned), or fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
