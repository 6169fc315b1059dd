"""Monitor against a real server: live, stale with backoff while it is down, live again."""

from __future__ import annotations

import dataclasses

import pytest
import redis
import redis.asyncio as aioredis

from streamtop.embedded import ServerProcess
from streamtop.monitor import ErrorKind, Monitor, State, first_contact
from streamtop.options import SessionOptions
from streamtop.pipeline.connection import ConfigError, parse_url, retry_delay
from streamtop.pipeline.model import Focus
from streamtop.pipeline.source import ListSource
from tests.support.waiting import wait_for


def test_backoff_doubles_and_caps() -> None:
    assert [retry_delay(n) for n in range(0, 8)] == [0, 1, 2, 4, 8, 10, 10, 10]


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


def _others(port: int, name: str | None = None) -> int:
    """Connections to the server other than the one asking (only those named `name` if given)."""
    with redis.Redis(port=port) as c:
        me = c.client_id()
        return sum(
            1 for cl in c.client_list() if int(cl["id"]) != me and (name is None or cl["name"] == name)
        )


def _all_closed(*ports: int, name: str | None = None) -> None:
    """Wait until the servers list no other connection: a server notices a close asynchronously."""
    wait_for(lambda: all(_others(port, name) == 0 for port in ports), "the clients to be closed")


async def test_actions_client_is_separate_survives_a_failed_poll_and_is_closed(server, r) -> None:
    r.xadd("k", {"f": "v"})
    m = Monitor(parse_url(server.url))
    try:
        await m.poll()
        assert m.action_client is not None and m.action_client is not m.client
        assert await m.action_client.execute_command("XLEN", "k") == 1  # it works
        generation, client = m.action_generation, m.action_client
        await m.reset_connection()  # what a failed poll does: an action in flight keeps its client
        assert m.client is None and m.action_client is client
        assert await client.execute_command("PING")
        await m.poll()  # same server again: the actions keep their client
        assert m.action_generation == generation and m.action_client is client
        assert _others(server.port, "streamtop") == 2  # the poll client and the actions' one
    finally:
        await m.close()
    assert m.action_client is None and m.client is None
    _all_closed(server.port, name="streamtop")


async def test_the_monitor_owns_the_actions_and_keeps_them_on_its_actions_client(server, r) -> None:
    """The session builds `Actions` (the UI never does): none before the first connection, on the
    actions client after it, a new one with a new client, gone after close; read-only follows."""
    r.xadd("k", {"f": "v"})
    m = Monitor(parse_url(server.url), SessionOptions(read_only=True))
    try:
        assert m.actions is None
        await m.poll()
        first = m.actions
        assert first is not None and first.client is m.action_client and first.read_only
        refused = await first.produce_one(b"k")
        assert not refused.ok and "read-only" in refused.message and r.xlen("k") == 1
        m.set_read_only(False)  # the guard of the current Actions follows at once
        assert (await first.produce_one(b"k")).ok and r.xlen("k") == 2
        await m._replace_action_client(m.server)  # what a reconnect to another server does
        assert m.actions is not first and m.actions.client is m.action_client is not first.client
        assert not m.actions.read_only
    finally:
        await m.close()
    assert m.actions is None


async def test_the_app_reads_the_sessions_actions_and_can_only_add_read_only(server, r) -> None:
    from streamtop.ui.app import StreamtopApp

    r.xadd("k", {"f": "v"})
    m = Monitor(parse_url(server.url))
    try:
        await m.poll()
        app = StreamtopApp(m, read_only=True)
        assert app.actions is m.actions and m.read_only and app.read_only
        refused = await app.actions.produce_one(b"k")
        assert not refused.ok and r.xlen("k") == 1
        assert StreamtopApp(m, read_only=False).read_only  # a session's guard is never lifted
        assert StreamtopApp(Monitor.on(ListSource())).actions is None
    finally:
        await m.close()


@pytest.mark.slow
async def test_cluster_action_client_is_closed(cluster_server) -> None:
    from streamtop.pipeline.connection import build_spec

    m = Monitor(build_spec(url=cluster_server.url, cluster=True))
    try:
        await m.poll()
        assert m.server.mode == "cluster" and isinstance(m.action_client, aioredis.RedisCluster)
        assert await m.action_client.execute_command("XADD", "{x}:s", "*", "f", "v")
        assert sum(_others(n.port) for n in cluster_server.nodes) > 0
    finally:
        await m.close()
    _all_closed(*[n.port for n in cluster_server.nodes])


@pytest.fixture(scope="module")
def cluster_server():
    from streamtop.embedded import ClusterProcess

    c = ClusterProcess().start()
    yield c
    c.cleanup()


async def test_config_error_propagates_and_closes(server) -> None:
    from streamtop.pipeline.connection import build_spec

    m = Monitor(build_spec(url=server.url, cluster=True, env={}))
    with pytest.raises(ConfigError, match="standalone"):
        await m.poll()
    assert m.client is None and m.failures == 0
    await m.close()
    _all_closed(server.port, name="streamtop")


async def test_a_bug_propagates_and_keeps_the_connection(server, r, monkeypatch) -> None:
    r.xadd("k", {"f": "v"})
    m = Monitor(parse_url(server.url))
    try:
        await m.poll()
        client = m.client

        async def broken() -> None:
            raise KeyError("parser bug")

        monkeypatch.setattr(m.collector, "poll", broken)
        with pytest.raises(KeyError):
            await m.poll()
        assert m.client is client and m.failures == 0 and m.state is State.LIVE
    finally:
        await m.close()


@pytest.mark.slow
async def test_first_contact_classifies_by_type(server, own_server) -> None:
    from streamtop.embedded import free_port
    from streamtop.pipeline.connection import build_spec

    assert await first_contact(parse_url(server.url)) is None
    down = await first_contact(parse_url(f"redis://127.0.0.1:{free_port()}/0"))
    assert down is not None and down.kind is ErrorKind.TRANSIENT and "refused" in down.message
    mode = await first_contact(build_spec(url=server.url, cluster=True, env={}))
    assert mode is not None and mode.kind is ErrorKind.FATAL and "--cluster" in mode.message
    tls_spec = dataclasses.replace(build_spec(url=server.url, tls=True, env={}), connect_timeout=0.5)
    tls = await first_contact(tls_spec)
    assert tls is not None and tls.kind is ErrorKind.FATAL
    with redis.Redis(port=own_server.port) as c:
        c.config_set("requirepass", "s3cret")
    for url in (own_server.url, f"redis://:wrong@127.0.0.1:{own_server.port}/0"):
        auth = await first_contact(parse_url(url))
        assert auth is not None and auth.kind is ErrorKind.FATAL and "s3cret" not in auth.message


async def test_the_history_of_a_poll_is_built_with_the_gc_paused(server, r, monkeypatch) -> None:
    """A poll's history samples (60,000 groups in a first read of 30,000 streams, issue 28) are
    built inside the collector's counted GC pause, as the poll itself is; after it, the GC is on
    again."""
    import gc

    from streamtop.pipeline.history import History

    r.xadd("s1", {"a": "1"})
    r.xgroup_create("s1", "g", id="0")
    seen: list[bool] = []
    steps = History.steps

    def watched(self, snap):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        yield from steps(self, snap)
        seen.append(gc.isenabled())

    monkeypatch.setattr(History, "steps", watched)
    m = Monitor(parse_url(server.url))
    try:
        assert gc.isenabled()
        assert (await m.poll()) is not None
        assert seen and not any(seen), seen
        assert gc.isenabled()
    finally:
        await m.close()
