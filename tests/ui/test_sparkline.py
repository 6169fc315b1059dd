"""The lag sparkline on constructed snapshots: an unknown lag is never drawn as a dip to 0."""

from __future__ import annotations

from dataclasses import replace

import pytest

from streamtop.monitor import Monitor
from streamtop.pipeline.model import Lag, LagSource, Snapshot
from streamtop.pipeline.source import ListSource
from streamtop.ui.app import StreamtopApp
from tests.support.sample import sample_snapshot


@pytest.mark.slow
async def test_lag_sparkline_carries_the_last_known_lag_over_an_unknown_poll():
    """On the data the sparkline widget gets: a poll where the lag was unknown is no dip to 0."""

    def with_lag(tick: int, lag: Lag) -> Snapshot:
        snap = sample_snapshot(tick)
        orders = snap.streams[0]
        groups = (replace(orders.groups[0], lag=lag), *orders.groups[1:])
        return replace(snap, streams=(replace(orders, groups=groups), *snap.streams[1:]))

    lags = [
        Lag(LagSource.UNKNOWN),
        Lag(LagSource.EXACT, value=30),
        Lag(LagSource.UNKNOWN),
        Lag(LagSource.EXACT, value=40),
    ]
    app = StreamtopApp(Monitor.on(ListSource()))
    async with app.run_test(size=(140, 42)) as pilot:
        for tick, lag in enumerate(lags):
            app.show_snapshot(with_lag(tick, lag))
        app.select(b"orders", b"billing")
        await pilot.pause()
        assert list(app.w("lag-spark").data) == [30, 30, 40]
