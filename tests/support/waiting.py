"""The one way tests wait for a condition: a bounded wait that fails the test with what it waited
for, never a speed figure. `wait_for` for code without an event loop, `until` inside one (with a
Textual pilot, so the app keeps running while we wait, or without one)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.pilot import Pilot

WAIT = 20.0  # a generous upper bound for a condition to become true; only a failing test waits it


def wait_for(cond: Callable[[], object], what: str, timeout: float = WAIT, interval: float = 0.05) -> object:
    """Poll `cond()` until it is truthy (returned), or fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


async def until(
    pilot: Pilot | None,
    cond: Callable[[], object | Awaitable[object]],
    what: str = "",
    timeout: float = WAIT,
    interval: float = 0.02,
) -> object:
    """Let the app (or the event loop) run until `cond()` is truthy (returned), or fail the test
    after `timeout` seconds. `cond` may be a coroutine function (a poll, say)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or cond}")
        if pilot is not None:
            await pilot.pause(interval)
        else:
            await asyncio.sleep(interval)
