"""Monitor against a real server: live, stale with backoff while it is down, live again."""

from __future__ import annotations

import redis

from streamtop.connection import parse_url
from streamtop.embedded import ServerProcess
from streamtop.model import Focus
from streamtop.monitor import Monitor, State, backoff


def test_backoff_doubles_and_caps() -> None:
    assert [backoff(n) for n in range(0, 8)] == [0, 1, 2, 4, 8, 10, 10, 10]


async def test_poll_reads_server_and_focus(server, r) -> None:
    r.xadd("s1", {"a": "1"})
    r.xgroup_create("s1", "g", id="0")
    r.xreadgroup("g", "c", {"s1": ">"})
    m = Monitor(parse_url(server.url))
    assert m.state is State.CONNECTING
    m.set_focus(Focus(key=b"s1", group=b"g"))
    snap = await m.poll()
    try:
        assert m.state is State.LIVE
        assert snap is not None and snap.stream(b"s1").length == 1
        assert [p.consumer for p in snap.focus.pending] == [b"c"]
        assert snap.focus.messages[0].fields == ((b"a", b"1"),)
        m.paused = True
        assert m.state is State.PAUSED
    finally:
        await m.close()


async def test_stale_backoff_and_recovery(own_server) -> None:
    port = own_server.port
    redis.Redis(port=port).xadd("k", {"f": "v"})
    clock = [1000.0]
    spec = parse_url(own_server.url)
    m = Monitor(spec, clock=lambda: clock[0])
    try:
        first = await m.poll()
        assert first is not None and m.state is State.LIVE
        own_server.stop()
        delays = []
        for _ in range(6):
            kept = await m.poll()
            assert kept is first  # the last good snapshot stays
            assert m.state is State.STALE
            delays.append(m.retry_in())
        assert delays == [1, 2, 4, 8, 10, 10]
        assert m.error is not None and "refused" in m.error and f":{port}" in m.error
        assert m.stale_since == 1000.0
        clock[0] += 30
        assert m.stale_age() == 30
        restarted = ServerProcess(own_server.binary, port=port).start()
        try:
            again = await m.poll()
            assert m.state is State.LIVE and m.error is None and m.retry_in() is None
            assert again is not first
            assert again.stream(b"k") is None  # a fresh, empty server: rediscovered, nothing there
        finally:
            restarted.cleanup()
    finally:
        await m.close()


async def test_never_connected_reports_refused() -> None:
    from streamtop.embedded import free_port

    port = free_port()
    m = Monitor(parse_url(f"redis://user:hunter2@127.0.0.1:{port}/0"))
    assert await m.poll() is None
    assert m.state is State.CONNECTING and m.failures == 1
    assert "refused" in m.error and "hunter2" not in m.error
    await m.close()
