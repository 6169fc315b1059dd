"""Issue 29: long passes over every stream run in time slices on the event loop, not in fixed
counts of streams: 2,000 streams between two yields was 0.8 s of frozen screen on a loaded host.
The clock is made to run fast here (each look at it a second later), so every look finds its
slice spent, whatever this machine's speed: the pass must then yield within a few dozen streams."""

from __future__ import annotations

import asyncio
import itertools

import pytest

import streamtop.pipeline.slicing as slicing
from streamtop.pipeline.history import History
from streamtop.pipeline.model import GroupInfo, Lag, LagSource, Snapshot, StreamInfo


def stream(i: int) -> StreamInfo:
    g = GroupInfo(
        name=b"g",
        consumers=1,
        pending=0,
        last_delivered_id="0-0",
        entries_read=None,
        lag=Lag(LagSource.UNKNOWN),
    )
    return StreamInfo(key=b"s:%05d" % i, length=1, groups=(g,))


@pytest.fixture
def slow_clock(monkeypatch):
    ticks = itertools.count()
    monkeypatch.setattr(slicing.time, "perf_counter", lambda: float(next(ticks)))


async def test_history_update_yields_once_its_slice_is_spent(slow_clock) -> None:
    streams = tuple(stream(i) for i in range(300))
    h = History()
    turns = 0
    done = False

    async def other() -> None:  # another task of the loop: the screen, the keys
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.ensure_future(other())
    await asyncio.sleep(0)
    before = turns
    await h.update_in_steps(Snapshot(taken_at=1.0, streams=streams))
    done = True
    await task
    assert turns - before >= 300 // 64, "the loop did not run during a pass over 300 streams"
    assert all(h.in_rate.get(s.key) is not None for s in streams)  # and every stream was read


async def test_a_slicer_yields_only_when_its_slice_is_spent(monkeypatch) -> None:
    now = [0.0]
    monkeypatch.setattr(slicing.time, "perf_counter", lambda: now[0])
    slicer = slicing.Slicer(0.01)
    assert not slicer.due()
    now[0] = 0.02
    assert slicer.due()
    await slicer.pause()
    assert not slicer.due()  # a new slice from the yield
