"""Work in time slices on the event loop (issue 29): a pass over 100,000 streams yields to the loop
once it has run for SLICE seconds, whatever one item costs (a fixed count of items between yields
was 800 ms on a loaded host, where one item costs ten times an idle host's)."""

from __future__ import annotations

import asyncio
import time

SLICE = 0.01  # seconds of work between two yields to the event loop


class Slicer:
    """`await slicer.pause()` inside a long pass: yields when SLICE has passed since the last yield."""

    __slots__ = ("since", "slice")

    def __init__(self, slice_s: float = SLICE) -> None:
        self.slice = slice_s
        self.since = time.perf_counter()

    def due(self) -> bool:
        return time.perf_counter() - self.since >= self.slice

    async def pause(self) -> None:
        if self.due():
            await asyncio.sleep(0)
            self.since = time.perf_counter()

    async def yield_now(self) -> None:
        """A yield between two phases of a pass, each a few ms at 100,000 streams."""
        await asyncio.sleep(0)
        self.since = time.perf_counter()
