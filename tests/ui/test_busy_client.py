"""Issue 29: a client busy on the CPU (100,000 streams' replies parsed, a big table drawn) reads a
healthy server's reply late; that time is the client's, and never makes the server NOT ANSWERING.

The server is SIGSTOPped so the poll stays in flight as long as the test needs; the monitor's wall
clock and CPU clock are the test's, so "busy" and "waiting" are exact, not timed.
"""

from __future__ import annotations

import asyncio

from streamtop.monitor import Monitor, State
from streamtop.options import SessionOptions
from streamtop.pipeline.connection import parse_url
from tests.support.processes import stopped
from tests.support.waiting import until


async def test_time_the_client_spent_busy_is_not_time_the_server_took(own_server):
    wall, cpu = [1000.0], [50.0]
    m = Monitor(
        parse_url(own_server.url),
        SessionOptions(answer_timeout=2.0),
        clock=lambda: wall[0],
        cpu_clock=lambda: cpu[0],
    )
    try:
        assert await m.poll() is not None and m.state is State.LIVE
        with stopped(own_server):
            task = asyncio.ensure_future(m.poll())
            await until(None, lambda: m.polling, timeout=5)
            wall[0] += 10.0
            cpu[0] += 9.5  # the client computed for 9.5 of those 10 s
            assert m.not_answering_for() is None and m.state is State.LIVE
            wall[0] += 1.6  # and then waited, idle: 0.5 + 1.6 s
            assert m.state is State.NOT_ANSWERING
            assert abs(m.not_answering_for() - 2.1) < 1e-9
        await asyncio.wait_for(task, 30)
        assert m.state is State.LIVE
    finally:
        await m.close()
