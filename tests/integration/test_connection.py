"""Connection options as redis-cli users expect them, and one-line errors from real servers."""

from __future__ import annotations

import dataclasses

import pytest

from streamtop.embedded import free_port, start_server
from streamtop.pipeline.connection import (
    ConfigError,
    ConnectError,
    ConnectionSpec,
    build_spec,
    connect,
    describe_error,
    parse_url,
)

SECRET = "s3cr3t-Pa55"


# options and precedence ----------------------------------------------------------------------


def test_default_is_redis_cli_default():
    spec = build_spec(env={})
    assert (spec.scheme, spec.host, spec.port, spec.db, spec.password, spec.tls) == (
        "redis",
        "127.0.0.1",
        6379,
        0,
        None,
        False,
    )
    assert spec.display_url() == "redis://127.0.0.1:6379/0"


def test_url_beats_redis_url_and_options_beat_url():
    env = {"REDIS_URL": "redis://envhost:7000/3"}
    spec = build_spec(env=env)
    assert (spec.host, spec.port, spec.db) == ("envhost", 7000, 3)
    spec = build_spec(url="redis://urlhost:7001/4", env=env)
    assert (spec.host, spec.port, spec.db) == ("urlhost", 7001, 4)
    spec = build_spec(url="redis://urlhost:7001/4", host="opthost", port="7002", db="5", env=env)
    assert (spec.host, spec.port, spec.db) == ("opthost", 7002, 5)
    spec = build_spec(port="7003", env=env)  # -p alone keeps REDIS_URL's host and db
    assert (spec.host, spec.port, spec.db) == ("envhost", 7003, 3)


def test_password_precedence_and_user():
    url = f"redis://alice:{SECRET}@h:1/0"
    assert build_spec(url=url, env={}).password == SECRET
    assert build_spec(url=url, env={}).username == "alice"
    assert build_spec(url=url, env={"REDISCLI_AUTH": "fromenv"}).password == "fromenv"
    assert build_spec(url=url, password="flag", env={"REDISCLI_AUTH": "fromenv"}).password == "flag"
    assert build_spec(password="flag", env={}).password == "flag"
    assert build_spec(env={"REDISCLI_AUTH": "fromenv"}).password == "fromenv"
    assert build_spec(url=url, user="bob", env={}).username == "bob"
    assert build_spec(url="redis://:pw%40x@h", env={}).password == "pw@x"  # percent-decoded


def test_unix_and_rediss_urls():
    spec = build_spec(url=f"unix://bob:{SECRET}@/run/redis.sock?db=2", env={})
    assert (spec.scheme, spec.path, spec.db, spec.username, spec.password) == (
        "unix",
        "/run/redis.sock",
        2,
        "bob",
        SECRET,
    )
    assert spec.address == "/run/redis.sock"
    assert spec.client_kwargs()["unix_socket_path"] == "/run/redis.sock"
    spec = build_spec(url="rediss://h:6380/1", env={})
    assert (spec.tls, spec.port, spec.db) == (True, 6380, 1)
    kw = spec.client_kwargs()  # verified by default, as redis-cli
    assert kw["ssl"] is True and kw["ssl_cert_reqs"] == "required" and kw["ssl_check_hostname"] is True
    kw = build_spec(url="rediss://h:6380/1", insecure=True, env={}).client_kwargs()
    assert kw["ssl_cert_reqs"] == "none" and kw["ssl_check_hostname"] is False
    spec = build_spec(url="redis://h", tls=True, env={})  # --tls turns redis:// into rediss://
    assert (spec.tls, spec.scheme) == (True, "rediss")
    spec = build_spec(url="redis://[::1]:7000/2", env={})
    assert (spec.host, spec.port, spec.db) == ("::1", 7000, 2)
    assert spec.display_url() == "redis://[::1]:7000/2"


def test_display_url_and_repr_never_hold_the_password():
    specs = [
        build_spec(url=f"redis://alice:{SECRET}@h:1/2", env={}),
        build_spec(url=f"rediss://:{SECRET}@h:1/0", env={}),
        build_spec(url=f"unix://:{SECRET}@/tmp/x.sock?db=3", env={}),
        build_spec(password=SECRET, env={}),
        build_spec(env={"REDISCLI_AUTH": SECRET}),
    ]
    assert specs[0].display_url() == "redis://alice@h:1/2"
    assert specs[1].display_url() == "rediss://h:1/0"
    assert specs[2].display_url() == "unix:///tmp/x.sock?db=3"
    for spec in specs:
        assert spec.password == SECRET
        assert SECRET not in spec.display_url()
        assert SECRET not in repr(spec) and SECRET not in str(spec)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://h:6379", ["unknown URL scheme", "'http'"]),
        ("localhost:6379", ["unknown URL scheme"]),
        (f"//:{SECRET}@h:1", ["no scheme"]),
        ("redis://h:0", ["port 0", "out of range"]),
        ("redis://h:65536", ["port 65536", "out of range"]),
        ("redis://h:port", ["port in the URL", "not a number"]),
        (f"redis://admin:{SECRET}", ["port in the URL", "not a number"]),  # forgotten @host
        ("redis://h:1/x", ["database in the URL", "not a number"]),
        ("redis://h:1/-1", ["database -1", "negative"]),
        ("unix://", ["unix:// URL needs a socket path"]),
    ],
)
def test_bad_urls_are_one_line_config_errors(url, words):
    with pytest.raises(ConfigError) as info:
        build_spec(url=url, env={})
    msg = str(info.value)
    assert "\n" not in msg and SECRET not in msg
    for w in words:
        assert w in msg


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        (dict(port="70000"), ["port 70000", "-p", "out of range"]),
        (dict(port="0"), ["port 0", "out of range"]),
        (dict(port="x"), ["port 'x'", "not a number"]),
        (dict(db="-2"), ["database -2", "negative"]),
        (dict(port="٣"), ["port '٣'", "not a number"]),  # int() would take it as 3
        (dict(port="6_379"), ["port '6_379'", "not a number"]),
        (dict(db="9" * 4400), ["database", "not a number"]),  # beyond int()'s digit limit: no traceback
        (dict(db="99999999999"), ["database 99999999999", "out of range"]),
        (dict(url="unix:///tmp/s", tls=True), ["TLS", "unix"]),
        (dict(cacert="/nonexistent/ca.pem"), ["--cacert", "not found"]),
    ],
)
def test_bad_options_are_config_errors(kw, words):
    with pytest.raises(ConfigError) as info:
        build_spec(env={}, **kw)
    for w in words:
        assert w in str(info.value)


def test_blocking_clients_outlast_their_block():
    spec = ConnectionSpec()
    assert spec.make_client(block_ms=6000).connection_pool.connection_kwargs["socket_timeout"] > 6
    assert spec.make_sync_client(block_ms=30000).connection_pool.connection_kwargs["socket_timeout"] > 30


@pytest.mark.slow
async def test_blocking_read_is_not_cut_by_the_socket_timeout(server, r):
    spec = dataclasses.replace(parse_url(server.url), connect_timeout=1.0)
    client = spec.make_client(block_ms=1500)
    client.connection_pool.connection_kwargs["socket_timeout"] = 2.5  # block + a margin, kept small
    try:
        assert await client.xread({"nothing": "$"}, block=1500) == []
    finally:
        await client.aclose()


# who answered --------------------------------------------------------------------------------


async def test_server_identity(any_server):
    client, info = await connect(parse_url(any_server.url))
    await client.aclose()
    expected = {
        "redis-6.2": ("redis", "6.2"),
        "redis-7.0": ("redis", "7.0"),
        "valkey-8.1": ("valkey", "8.1"),
        "valkey-9.1": ("valkey", "9.1"),
    }
    flavour = next(
        k for k, (name, ver) in expected.items() if info.name == name and info.version.startswith(ver + ".")
    )
    assert info.mode == "standalone"
    assert info.has_lag == (flavour != "redis-6.2")
    assert info.autoclaim_reports_deleted == (flavour != "redis-6.2")
    assert info.has_inactive == flavour.startswith("valkey")
    if info.name == "valkey":
        assert info.compat_version == (7, 2, 4)  # Valkey's frozen redis_version decides the fields


# errors from real servers --------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth_server():
    """Valkey 9.1 with a default password and an ACL user."""
    srv = start_server("valkey-9.1", extra_args=["--requirepass", SECRET])
    import redis

    with redis.Redis(host=srv.host, port=srv.port, password=SECRET) as c:
        c.execute_command("ACL", "SETUSER", "alice", "on", f">{SECRET}x", "~*", "+@all")
    yield srv
    srv.cleanup()


async def _error(spec: ConnectionSpec) -> str:
    with pytest.raises(ConnectError) as info:
        await connect(spec)
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg
    if spec.password and spec.password != "wrong":  # "wrong" is also one of our words
        assert spec.password not in msg
    return msg


async def test_connection_refused_names_address_and_demo():
    port = free_port()
    msg = await _error(parse_url(f"redis://127.0.0.1:{port}"))
    assert msg == f"connection refused at 127.0.0.1:{port}: is the server running? (try `streamtop demo`)"


@pytest.mark.parametrize("password", ["wrong", SECRET + "-not"])
async def test_wrong_password(auth_server, password):
    spec = build_spec(url=auth_server.url, password=password, env={})
    msg = await _error(spec)
    assert msg.startswith(f"authentication failed at 127.0.0.1:{auth_server.port} for the default user")
    assert "wrong password or unknown user" in msg  # our words survive a password that is a word


async def test_unknown_user_and_user_with_wrong_password(auth_server):
    msg = await _error(build_spec(url=auth_server.url, user="mallory", password=SECRET, env={}))
    assert "authentication failed" in msg and "user 'mallory'" in msg
    msg = await _error(build_spec(url=auth_server.url, user="alice", password=SECRET, env={}))
    assert "authentication failed" in msg and "user 'alice'" in msg
    client, info = await connect(build_spec(url=auth_server.url, user="alice", password=SECRET + "x", env={}))
    await client.aclose()
    assert info.name == "valkey"


async def test_missing_password(auth_server):
    msg = await _error(build_spec(url=auth_server.url, env={}))
    assert "requires a password" in msg and "-a" in msg


async def test_password_for_a_server_without_one(server):
    msg = await _error(build_spec(url=server.url, password=SECRET, env={}))
    assert "no password set" in msg


@pytest.mark.slow
async def test_tls_against_a_plain_server(server):
    spec = dataclasses.replace(build_spec(url=server.url, tls=True, env={}), connect_timeout=0.5)
    msg = await _error(spec)
    assert msg.startswith(f"TLS handshake with 127.0.0.1:{server.port}")


def test_describe_error_redacts_the_password_in_server_text():
    spec = build_spec(password=SECRET, env={})
    failed = f"Command # 1 (AUTH {SECRET}) of pipeline caused error: weird\nsecond line"
    msg = describe_error(RuntimeError(failed), spec)
    assert SECRET not in msg and "(AUTH ***)" in msg and "\n" not in msg


# passwords as redis-cli reads them, and never shown ------------------------------------------------


def test_url_userinfo_without_a_colon_is_the_password():
    spec = build_spec(url=f"redis://{SECRET}@h:1/0", env={})
    assert (spec.username, spec.password) == (None, SECRET)
    spec = build_spec(url=f"unix://{SECRET}@/run/redis.sock", env={})
    assert (spec.username, spec.password) == (None, SECRET)
    spec = build_spec(url="redis://p%40ss%3Aword@h", env={})  # percent-decoded, ':' inside is data
    assert (spec.username, spec.password) == (None, "p@ss:word")
    for url, who in (
        (f"redis://alice:{SECRET}@h", ("alice", SECRET)),
        (f"redis://:{SECRET}@h", (None, SECRET)),
        ("redis://alice:@h", ("alice", "")),
    ):
        assert (parse_url(url).username, parse_url(url).password) == who, url
    assert SECRET not in build_spec(url=f"redis://{SECRET}@h:1/0", env={}).display_url()


async def test_password_only_url_on_a_real_server(auth_server):
    client, info = await connect(build_spec(url=f"redis://{SECRET}@127.0.0.1:{auth_server.port}", env={}))
    await client.aclose()
    assert info.name == "valkey"
    msg = await _error(build_spec(url=f"redis://{SECRET}-no@127.0.0.1:{auth_server.port}", env={}))
    assert "the default user" in msg and SECRET not in msg and "user '" not in msg


async def test_header_never_shows_the_password(auth_server):
    """Live with the right password, failing with a wrong one: the header has the URL without it."""
    from streamtop.ui.header import header_text
    from tests.support.ui import SIZE, make_app
    from tests.support.waiting import until

    for url, state in (
        (f"redis://{SECRET}@127.0.0.1:{auth_server.port}/0", "LIVE"),
        (f"redis://:{SECRET}-no@127.0.0.1:{auth_server.port}/0", "authentication failed"),
        (f"redis://alice:{SECRET}x@127.0.0.1:{auth_server.port}/0", "LIVE"),
    ):
        app = make_app(url)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: state in app.w("header").render().plain)  # noqa: B023
            shown = app.w("header").render().plain  # one line: a long error leaves no room for the URL
            full = header_text(app.header_info()).plain  # every part, before any is dropped
            assert SECRET not in shown and SECRET not in full
            assert f"127.0.0.1:{auth_server.port}/0" in full


# the client name is best effort ---------------------------------------------------------------------


async def test_client_name_is_set_when_allowed_and_skipped_when_refused(server, r):
    spec = parse_url(server.url)
    client, _ = await connect(spec)
    names = {c["name"] for c in r.client_list()}
    await client.aclose()
    assert "streamtop" in names  # allowed: still named, for CLIENT LIST
    r.execute_command("ACL", "SETUSER", "viewer", "on", ">viewer-pw", "~*", "+@all", "-client")
    viewer = build_spec(url=server.url, user="viewer", password="viewer-pw", env={})
    client, info = await connect(viewer)  # NOPERM on SETNAME: connected anyway, unnamed
    try:
        assert info.name == "valkey"
        assert await client.execute_command("XLEN", "nothing") == 0
    finally:
        await client.aclose()
    with viewer.make_sync_client() as sync:  # the blocking client (demo, scripts) too
        assert sync.ping() is True
    entries = r.acl_log()
    assert {e["object"] for e in entries} <= {"client|setname", "client|setinfo"}
    assert any(e["object"] == "client|setname" for e in entries)  # it was asked, and refused


async def test_wrong_database_still_fails_after_the_name_hook(server):
    """The hook keeps redis-py's handshake: AUTH and SELECT errors are still errors."""
    msg = await _error(build_spec(url=server.url, db="99999", env={}))
    assert "DB index is out of range" in msg


# IPv6 addresses in brackets -------------------------------------------------------------------------


def test_ipv6_address_and_url_in_brackets():
    spec = build_spec(url="redis://[::1]:7000/2", env={})
    assert spec.address == "[::1]:7000" and spec.display_url() == "redis://[::1]:7000/2"
    spec = build_spec(host="::1", port="6379", env={})
    assert spec.address == "[::1]:6379" and spec.display_url() == "redis://[::1]:6379/0"
    assert build_spec(host="fe80::1%eth0", env={}).address == "[fe80::1%eth0]:6379"
    assert ConnectionSpec(host="127.0.0.1", port=1).address == "127.0.0.1:1"
    msg = describe_error(TimeoutError("timed out"), spec)
    assert msg == "timed out talking to [::1]:6379"


def test_cluster_node_addresses_in_brackets():
    from streamtop.pipeline.cluster import ClusterCollector, parse_cluster_slots

    topo = parse_cluster_slots([[0, 16383, [b"::1", 7000, b"id"]]], "::1")
    assert topo.primaries == {"[::1]:7000": ((0, 16383),)}
    node = ClusterCollector.__new__(ClusterCollector)
    node.spec = build_spec(url="redis://[::1]:7000", env={})
    assert (node._node_spec("[::1]:7001").host, node._node_spec("[::1]:7001").port) == ("::1", 7001)


async def test_ipv6_refused_names_the_bracketed_address():
    port = free_port()
    msg = await _error(build_spec(host="::1", port=str(port), env={}))
    assert msg.startswith(f"connection refused at [::1]:{port}:"), msg
