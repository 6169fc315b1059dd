"""Without INFO (issue 24): `+@all -@dangerous` is a common ACL, and INFO is in @dangerous. The
dashboard used to stay CONNECTING forever, `status` and `serve` exited. Each now works as such a
user on a real server: HELLO (which every user may send) names the server, its version and mode,
and the round trip's time stands in for the server load, said as an upper bound."""

from __future__ import annotations

import json

import pytest
import redis

from streamtop import cli
from streamtop.pipeline.connection import build_spec, server_info_from_hello
from streamtop.ui.header import header_text
from tests.support.scrape import Served
from tests.support.streams import fill
from tests.support.ui import SIZE, make_app
from tests.support.waiting import until

USER, PASSWORD = "no-info", "no-info-pw"
RULES = ("reset", "on", f">{PASSWORD}", "~*", "&*", "+@all", "-@dangerous")


@pytest.fixture(params=["redis-6.2", "redis-7.0", "valkey-9.1"])
def no_info(request, server_pool):
    srv = server_pool.get(request.param)
    with redis.Redis(host=srv.host, port=srv.port, protocol=2) as r:
        r.flushall()
        r.execute_command("ACL", "SETUSER", USER, *RULES)
        version = r.info("server")
        fill(r, key="orders", n=6, group="billing", consumer="c1", read=4)
        yield srv, r, version.get("valkey_version") or version["redis_version"]
        r.acl_deluser(USER)


def url(srv) -> str:
    return f"redis://{USER}:{PASSWORD}@127.0.0.1:{srv.port}/0"


def test_the_user_is_refused_info(no_info):
    srv, _, _ = no_info
    c = redis.Redis(host=srv.host, port=srv.port, username=USER, password=PASSWORD)
    try:
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.info()
    finally:
        c.close()


def test_status_without_info(no_info, capsys):
    srv, _, version = no_info
    code = cli.main(["status", "--url", url(srv), "--no-auth-warning", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["server"]["version"] == version and doc["server"]["mode"] == "standalone"
    [orders] = [s for s in doc["streams"] if s["key"] == "orders"]
    assert orders["length"] == 6 and orders["groups"][0]["pending"] == 4


async def test_serve_without_info(no_info):
    srv, _, _ = no_info
    served = Served(build_spec(url=url(srv)))
    try:
        await served.poll()
        page = served.scrape()
    finally:
        await served.close()
    assert page.value("streamtop_up") == 1
    assert page.value("redis_stream_length", db="db0", stream="orders") == 6
    assert page.value("redis_stream_group_messages_pending", db="db0", stream="orders", group="billing") == 4


@pytest.mark.slow
async def test_dashboard_without_info(no_info):
    srv, _, version = no_info
    app = make_app(url(srv))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.monitor.state.value == "live", "LIVE, not CONNECTING")
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.stream(b"orders") is not None)
        app.select(b"orders", b"billing")
        await until(pilot, lambda: len(app.w("pending").entries) == 4, "pending page")
        await until(pilot, lambda: app.header_info().server_load is not None, "a load figure")
        line = header_text(app.header_info(), 250).plain
        assert version in line
        assert "(round trip)" in line  # an upper bound, said as one


@pytest.mark.parametrize(
    ("reply", "title", "compat", "mode"),
    [
        (
            [b"server", b"redis", b"version", b"7.0.15", b"proto", 2, b"mode", b"standalone"],
            "Redis 7.0.15",
            (7, 0, 15),
            "standalone",
        ),
        (
            {b"server": b"valkey", b"version": b"9.1.2", b"mode": b"cluster"},
            "Valkey 9.1.2",
            (7, 2, 4),
            "cluster",
        ),
        ([], "Redis (version unknown)", (0, 0, 0), "standalone"),
    ],
)
def test_hello_replies_name_the_server(reply, title, compat, mode):
    info = server_info_from_hello(reply)
    assert (info.title, info.compat_version, info.mode) == (title, compat, mode)
