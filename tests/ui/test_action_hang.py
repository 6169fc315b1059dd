"""An action sent while the server hangs (SIGSTOP of a real server), issue 24: it fails at the
documented bound (one reply timeout, 10 s; it used to take 20 s: the re-read after the timeout
waited as long again on a fresh connection) and says the server is not answering, not that the
connection dropped. What happened is read again once the server answers, and said."""

from __future__ import annotations

import time

import pytest
import redis

from streamtop.actions.base import is_not_answering, lost_words
from streamtop.monitor import Monitor, State
from streamtop.options import SessionOptions
from streamtop.pipeline.connection import REPLY_TIMEOUT, parse_url
from streamtop.ui.app import StreamtopApp
from streamtop.ui.dialogs import ActionFinished
from tests.support.processes import stopped
from tests.support.streams import fill
from tests.support.waiting import until


def test_a_timeout_is_not_answering_and_a_drop_is_a_drop():
    assert is_not_answering(redis.TimeoutError("Timeout reading from h:1"))
    assert "not answering" in lost_words(redis.TimeoutError("Timeout reading from h:1"))
    assert not is_not_answering(redis.ConnectionError("Connection closed by server."))
    assert lost_words(redis.ConnectionError("x")) == "the connection dropped"


@pytest.mark.slow
async def test_an_ack_during_a_hang_says_not_answering_and_is_read_again_after(own_server):
    with redis.Redis(port=own_server.port) as r:
        ids = fill(r, key="k", n=3, group="g", consumer="c1")
    monitor = Monitor(parse_url(own_server.url), SessionOptions(interval=0.5, follow_screen=True))
    app = StreamtopApp(monitor)
    notes: list[str] = []
    app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and monitor.state is State.LIVE)
        with stopped(own_server):
            started = time.monotonic()
            result = await monitor.actions.ack(b"k", b"g", ids[:1])
            took = time.monotonic() - started
            # the bound itself is the behaviour asked for: one reply timeout, not two
            assert took < REPLY_TIMEOUT * 1.5, took
            assert not result.ok and "not answering" in result.message, result.message
            assert "dropped" not in result.message and "connection lost" not in result.message
            assert result.recheck is not None
            app.post_message(ActionFinished(result))
            await until(pilot, lambda: notes, "the failure said")
            assert "read again when the server answers" in notes[0], notes
        await until(pilot, lambda: any("the server answers again" in n for n in notes), "read again", 40)
        again = next(n for n in notes if "the server answers again" in n)
        with redis.Redis(port=own_server.port) as r:
            pending = {e["message_id"].decode() for e in r.xpending_range("k", "g", "-", "+", 10)}
        if ids[0] in pending:
            assert "1 still pending" in again, again
        else:
            assert "1 of 1 are no longer pending" in again, again
