"""Least privilege: the dashboard, `streamtop status` and every `--read-only` path work as a user
with only the documented watching ACL, on Valkey 9.1 and Redis 7.0; each action works with the
documented extra commands. The server's ACL LOG proves nothing else was even tried: the only
denials allowed are the best-effort CLIENT SETNAME / SETINFO, which streamtop does without."""

from __future__ import annotations

import json

import pytest
import redis

from streamtop import cli
from streamtop.actions import Actions
from streamtop.pipeline.connection import ConnectionSpec, probe_server
from tests.support.acl import PASSWORD, USER, denied, set_user, url
from tests.support.streams import every_action, fill, server_state
from tests.support.ui import SIZE, is_dialog, make_app
from tests.support.waiting import until

ACTION_ACL = {  # key -> (what docs/security.md calls it, extra commands)
    "produce": "+xadd",
    "burst": "+xadd",
    "ack": "+xack",  # no MULTI since issue 24: XPENDING, XACK, XPENDING in one round trip
    "claim": "+xautoclaim",
    "claim ids": "+xclaim",
    "trim": "+xtrim",  # no MULTI since issue 24 (XLEN is in the watching ACL)
    "create group": "+xgroup|create",
    "set group ID": "+xgroup|setid",
    "delete consumer": "+xgroup|delconsumer",
    "destroy group": "+xgroup|destroy",
    "dead-letter": "+xadd +xack +xdel +watch +unwatch +multi +exec",  # XDEL takes back a copy
}


@pytest.fixture(params=["valkey-9.1", "redis-7.0"])
def acl_server(request, server_pool):
    srv = server_pool.get(request.param)
    with redis.Redis(host=srv.host, port=srv.port, protocol=2) as r:
        r.flushall()
        yield srv, r
        r.acl_deluser(USER)
        r.execute_command("ACL", "LOG", "RESET")


def arrange(r: redis.Redis) -> list[str]:
    ids = fill(r, key="orders", n=6, group="billing", consumer="c1", read=4)
    r.xadd("audit", {"who": "me"})
    r.set("not-a-stream", "x")
    return ids


def test_the_watching_acl_cannot_write(acl_server):
    srv, r = acl_server
    set_user(r)
    with redis.Redis(host=srv.host, port=srv.port, username=USER, password=PASSWORD) as c:
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.xadd("orders", {"f": "v"})
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.execute_command("CLIENT", "SETNAME", "x")  # why SETNAME must be best effort


@pytest.mark.slow
async def test_dashboard_as_the_watching_user(acl_server):
    srv, r = acl_server
    arrange(r)
    set_user(r)
    app = make_app(url(srv))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and len(app.snapshot.streams) == 2)
        app.select(b"orders", b"billing")
        await until(pilot, lambda: len(app.w("pending").entries) == 4, what="pending page")
        app.main.show_tab("messages-tab")  # the messages are read while their tab is shown
        await until(pilot, lambda: len(app.w("messages").entries) == 6, what="messages page")
        first = app.snapshot.taken_at
        await until(pilot, lambda: app.snapshot.taken_at > first + 0.25, what="a few more polls")
        assert app.monitor.state.value == "live" and app.monitor.error is None
        snap = app.snapshot
        assert {s.key for s in snap.streams} == {b"orders", b"audit"}
        assert all(s.error is None for s in snap.streams)
        [billing] = next(s for s in snap.streams if s.key == b"orders").groups
        assert billing.pending == 4 and billing.error is None
        assert app.w("consumers-table").row_keys == [b"c1".hex()]
        assert "NOPERM" not in app.header_info().state + str(app.header_info().error)
    assert denied(r) == set()


@pytest.mark.parametrize(
    "args",
    [[], ["--json"], ["--json", "orders", "--max-lag", "100", "--max-pending", "100", "--max-idle", "3600"]],
)
def test_status_as_the_watching_user(acl_server, capsys, args):
    srv, r = acl_server
    arrange(r)
    set_user(r)
    code = cli.main(["status", "--url", url(srv), "--no-auth-warning", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == "" and "NOPERM" not in out and PASSWORD not in out
    if "--json" in args:
        doc = json.loads(out)
        orders = next(s for s in doc["streams"] if s["key"] == "orders")
        assert orders["length"] == 6 and orders["error"] is None
        assert orders["groups"][0]["pending"] == 4 and orders["groups"][0]["error"] is None
    else:
        assert "orders" in out and "billing" in out
    assert denied(r) == set()


@pytest.mark.slow
def test_an_acl_without_time_costs_one_refusal_then_the_local_clock(acl_server, capsys):
    """The watching ACL before time lags had no +time: the collector asks TIME once, is
    refused, and uses its own clock from then on (one ACL LOG entry, not one per poll)."""
    srv, r = acl_server
    arrange(r)
    set_user(r, "-time")
    code = cli.main(["status", "--url", url(srv), "--no-auth-warning", "--json", "--window", "0.5"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["polls_in_window"] > 2
    [billing] = next(s for s in doc["streams"] if s["key"] == "orders")["groups"]
    assert billing["time_lag_source"] == "exact" and billing["time_lag_ms"] >= 0
    assert denied(r) == {"time"}
    # the log folds repeats of one refusal into one entry with a count
    assert sum(int(e["count"]) for e in r.acl_log(count=100) if e["object"] == "time") == 1


@pytest.mark.slow
async def test_read_only_dashboard_refuses_every_key_politely(acl_server):
    srv, r = acl_server
    arrange(r)
    set_user(r)
    before = server_state(r)
    app = make_app(url(srv), read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None and app.actions is not None)
        app.select(b"orders", b"billing")
        await until(pilot, lambda: len(app.w("pending").entries) == 4)
        notes: list[str] = []
        for key in ("e", "E", "a", "c", "t", "g", "D"):
            await pilot.press(key)
            await pilot.pause()
            assert not is_dialog(app), key
            # read each refusal right away: a toast leaves app._notifications when it expires
            notes += [m for m in (str(n.message) for n in app._notifications) if m not in notes]
        assert sum("read-only mode" in m for m in notes) == 7, notes
        assert not any("NOPERM" in m.upper() or "permission" in m for m in notes), notes
    assert server_state(r) == before
    assert denied(r) == set()


async def test_read_only_actions_layer_as_the_watching_user(acl_server):
    """Every action refused by the guard (no NOPERM: nothing is sent); the previews, which only
    read, answer."""

    srv, r = acl_server
    ids = arrange(r)
    set_user(r)
    before = server_state(r)
    spec = ConnectionSpec(host=srv.host, port=srv.port, username=USER, password=PASSWORD)
    client = spec.make_client(raw=True)
    a = Actions(client, await probe_server(client), read_only=True)
    try:
        actions = every_action(a, ids)
        for name, call in actions.items():
            res = await call
            assert not res.ok and res.message.startswith("read-only mode:"), (name, res.message)
        for preview in (
            a.trim_preview(b"orders", "MAXLEN", 2),
            a.group_preview(b"orders", b"billing"),
            a.consumer_preview(b"orders", b"billing", b"c1"),
        ):
            res = await preview
            assert res.ok and "NOPERM" not in res.message, res.message
    finally:
        await client.aclose()
    assert server_state(r) == before
    assert denied(r) == set()


def _calls(a: Actions, ids: list[str]) -> dict:
    k, g = b"orders", b"billing"
    return {
        "produce": lambda: a.produce_one(k),
        "burst": lambda: a.produce_burst(k, 10),
        "ack": lambda: a.ack(k, g, ids[:2]),
        "claim": lambda: a.claim_auto(k, g, b"c2", 0, 10),
        "claim ids": lambda: a.claim_ids(k, g, b"c2", 0, ids[:2]),
        "trim": lambda: a.trim(k, "MAXLEN", 2),
        "create group": lambda: a.group_create(k, b"g2", "0"),
        "set group ID": lambda: a.group_setid(k, g, "0"),
        "delete consumer": lambda: a.consumer_delete(k, g, b"c1"),
        "destroy group": lambda: a.group_destroy(k, g),
        "dead-letter": lambda: a.dead_letter(k, g, ids=ids[:2]),
    }


@pytest.mark.parametrize("action", list(ACTION_ACL))
async def test_each_action_needs_only_its_documented_commands(acl_server, action):
    """The watching ACL plus the action's line (and write access to the keys) is enough, and
    without the line the action is refused with NOPERM, changing nothing."""
    srv, r = acl_server
    spec = ConnectionSpec(host=srv.host, port=srv.port, username=USER, password=PASSWORD)
    for extra, ok in ((("~*",), False), (("~*", ACTION_ACL[action]), True)):
        r.flushall()
        ids = arrange(r)
        set_user(r, *extra)
        before = server_state(r)
        client = spec.make_client(raw=True)
        try:
            res = await _calls(Actions(client, await probe_server(client)), ids)[action]()
        finally:
            await client.aclose()
        assert res.ok == ok, (action, extra, res.message)
        if ok:
            assert denied(r) == set(), action
        else:
            assert "NOPERM" in res.message and server_state(r) == before, res.message


def test_produce_command_needs_only_xadd(acl_server, capsys):
    srv, r = acl_server
    arrange(r)
    set_user(r, "~*", "+xadd")
    code = cli.main(["produce", "orders", "-n", "5", "--maxlen", "8", "--url", url(srv), "--no-auth-warning"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert r.xlen("orders") == 8 and denied(r) == set()


@pytest.mark.slow
async def test_cluster_watching_needs_cluster_slots():
    """A cluster adds CLUSTER SLOTS, CLUSTER NODES (which slots are migrating) and ASKING to the
    watching ACL, as docs/security.md says (and COMMAND for the actions' cluster client,
    which reads the command table when it starts)."""
    from streamtop.embedded import ClusterProcess
    from streamtop.monitor import Monitor
    from streamtop.session import make_action_client

    cluster = ClusterProcess().start()
    try:
        seed = cluster.nodes[0]
        with redis.RedisCluster(host=seed.host, port=seed.port) as rc:
            for i in range(6):
                rc.xadd(f"s{i}", {"n": i})
        for extra, watching_ok in (((), False), (("+cluster|slots", "+cluster|nodes", "+asking"), True)):
            for node in cluster.nodes:
                with redis.Redis(host=node.host, port=node.port) as c:
                    set_user(c, *extra, "%W~*", "+xadd", "+command" if watching_ok else "")
            m = Monitor(ConnectionSpec(host=seed.host, port=seed.port, username=USER, password=PASSWORD))
            try:
                snap = await m.poll()
                if watching_ok:
                    snap = await m.poll()
                    assert m.state.value == "live" and len(snap.streams) == 6
                    assert all(s.error is None for s in snap.streams)
                    client = make_action_client(m.spec, m.server)
                    try:
                        assert await client.execute_command("XADD", "s1", "*", "f", "v")
                    finally:
                        await client.aclose()
                else:
                    assert m.state.value != "live" and "NOPERM" in str(m.error).upper()
            finally:
                await m.close()
        for node in cluster.nodes:
            with redis.Redis(host=node.host, port=node.port) as c:
                assert denied(c) == set()
    finally:
        cluster.cleanup()
