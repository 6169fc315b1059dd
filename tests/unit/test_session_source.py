"""The session made once on a PollSource (docs/internals-session.md): a list of snapshots polled as a
server would be, the interval held in one place, the options immutable."""

from __future__ import annotations

import dataclasses

import pytest

from streamtop.monitor import Monitor, State
from streamtop.options import SessionOptions
from streamtop.pipeline.model import Focus
from streamtop.pipeline.source import ListSource, Wants
from tests.support.sample import sample_series


async def test_a_list_is_polled_as_a_server_then_nothing_new_is_not_fed_twice() -> None:
    snaps = sample_series(3)
    source = ListSource(snaps[:2])
    m = Monitor.on(source, url="hub://somewhere")
    assert m.state is State.CONNECTING and m.url == "hub://somewhere" and m.actions is None
    assert await m.poll() is snaps[0]
    assert await m.poll() is snaps[1]
    assert m.polls == 2 and m.state is State.LIVE and m.last is snaps[1]
    rate = m.history.stream_rate(b"orders")
    assert rate is not None  # two polls: the rates are fed
    assert await m.poll() is snaps[1]  # nothing new: the last one, not a third poll
    assert m.polls == 2 and m.history.stream_rate(b"orders") == rate
    source.push(snaps[2])
    assert await m.poll() is snaps[2] and m.polls == 3
    await m.close()


async def test_the_source_is_told_what_to_read_in_one_value_and_the_interval_lives_in_the_session() -> None:
    source = ListSource(sample_series(1))
    m = Monitor.on(source, SessionOptions(interval=0.5, follow_screen=True))
    m.set_focus(Focus(key=b"orders", group=b"billing", visible=frozenset({b"orders"})))
    await m.poll()
    assert source.wants == Wants(
        focus=m.focus,
        visible=frozenset({b"orders"}),
        follow_screen=True,
        interval=0.5,
        answer_timeout=2.0,
    )
    m.set_interval(5.0)
    assert m.interval == 5.0 and m.answer_timeout == 10.0 and m.poll_delay() == 5.0
    await m.poll()
    assert source.wants.interval == 5.0 and source.wants.answer_timeout == 10.0
    m.request_discovery()
    assert source.discoveries == 1


def test_the_options_are_given_once() -> None:
    options = SessionOptions(read_only=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.interval = 2.0  # type: ignore[misc]
    m = Monitor.on(ListSource(), options)
    assert m.read_only and m.options is options
    with pytest.raises(AttributeError):
        m.interval = 2.0  # type: ignore[misc]  # set_interval is the one way
    with pytest.raises(ValueError):
        Monitor(None)
