"""Results tell the truth after a lost reply (issue 11 item 8) and three of item 10's small points.

A real server runs each command; the TCP proxy in cutproxy.py throws its reply away (or never lets it
reach the server). The action must then re-read the server and say what happened, or say "may have
been applied" when it cannot: never "failed" for something that ran. Counts are checked against the
server's own view.
"""

from __future__ import annotations

import pytest
import redis

from streamtop.actions import Actions, ValidationError
from streamtop.pipeline.connection import ConnectionSpec, probe_server
from tests.support.cutproxy import actions_cut
from tests.support.streams import OLD_MS, fill, make_actions, pel


async def run(srv, command: str, call, n: int = 1, when: str = "after", **kw):
    async with actions_cut(srv, command, n, when, **kw) as (a, proxy):
        res = await call(a)
    assert proxy.dropped, f"the proxy never saw {command} #{n}"
    return res


# ---- trim ---------------------------------------------------------------------------------


async def test_trim_whose_reply_is_lost_reports_what_it_removed(server, r):
    pipe = r.pipeline()
    for i in range(1000):
        pipe.xadd("app:event", {"n": i})
    pipe.execute()
    assert r.xlen("app:event") == 1000
    res = await run(server, "XTRIM", lambda a: a.trim(b"app:event", "MAXLEN", 100))
    assert r.xlen("app:event") == 100, "the server ran the trim"
    assert res.ok, res.message
    assert "failed" not in res.message
    assert "the connection dropped after the trim was sent" in res.message
    assert "'app:event' now has 100 entries, 900 fewer" in res.message
    assert res.removed == 900 and res.length_after == 100


async def test_trim_that_never_reached_the_server_says_so(server, r):
    ids = fill(r, n=20)
    res = await run(server, "XTRIM", lambda a: a.trim(b"s", "MINID", ids[15]), when="before")
    assert r.xlen("s") == 20
    assert not res.ok and "still has 20 entries (20 before)" in res.message
    assert "run it again" in res.message


async def test_trim_lost_and_unreadable_says_may_have_been_applied(server, r):
    fill(r, n=20)
    res = await run(server, "XTRIM", lambda a: a.trim(b"s", "MAXLEN", 5), refuse_after=True)
    assert r.xlen("s") == 5
    assert not res.ok and "may have been applied" in res.message and "XLEN s" in res.message
    assert "trim failed" not in res.message and res.may_have_applied


# ---- ack ----------------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["before", "after"])
async def test_ack_whose_reply_is_lost_reports_what_is_still_pending(server, r, when):
    ids = fill(r, n=5)
    res = await run(server, "XACK", lambda a: a.ack(b"s", b"g", ids[:3]), when=when)
    still = [i for i in ids[:3] if i in pel(r)]
    assert "the connection dropped after the ack was sent" in res.message
    assert res.still_pending == still
    if when == "after":
        assert still == [] and res.ok and "3 of 3 are no longer pending in 'g'" in res.message
    else:
        assert len(still) == 3 and not res.ok and "3 still pending: ack them again" in res.message
    assert r.xlen("s") == 5


# ---- claim --------------------------------------------------------------------------------


async def test_xclaim_whose_reply_is_lost_reports_the_owners(server, r):
    ids = fill(r, n=6, old=(0, 1))
    r.xreadgroup("g", "c3", {"s": "0"})  # nothing new; c3 exists
    res = await run(server, "XCLAIM", lambda a: a.claim_ids(b"s", b"g", b"c2", 60_000, ids[:3]))
    owners = {i: c for i, (c, _) in pel(r).items()}
    assert [owners[i] for i in ids[:3]] == [b"c2", b"c2", b"c1"], "idle filter applied by the server"
    assert res.ok and "failed" not in res.message
    assert "2 of 3 now belong to 'c2'; 1 to 'c1'" in res.message
    assert res.claimed_ids == ids[:2]


async def test_xautoclaim_whose_reply_is_lost_reports_what_the_consumer_owns(server, r):
    fill(r, n=10, old=(0, 2, 4, 6, 8))
    r.xclaim("s", "g", "c2", 0, [r.xrange("s")[9][0]], justid=True)  # c2 owned 1 before
    res = await run(server, "XAUTOCLAIM", lambda a: a.claim_auto(b"s", b"g", b"c2", OLD_MS // 2, 100))
    c2 = sum(1 for c, _ in pel(r).values() if c == b"c2")
    assert c2 == 6
    assert res.ok and "failed" not in res.message
    assert "'c2' now owns 6 pending entries (+5 since the claim started)" in res.message


# ---- burst --------------------------------------------------------------------------------


async def test_burst_that_hits_oom_reports_the_exact_count(own_server):
    with redis.Redis(host=own_server.host, port=own_server.port) as r:
        r.xadd("s", {"seed": "1"})
        used = int(r.info("memory")["used_memory"])
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("maxmemory", used + 1_500_000)
        before = r.xlen("s")
        a = await make_actions(own_server)
        try:
            res = await a.produce_burst(b"s", 200_000)
        finally:
            await a.client.aclose()
        r.config_set("maxmemory", 0)
        added = r.xlen("s") - before
    assert not res.ok and "OOM" in res.message
    assert 0 < added < 200_000
    assert res.added == added
    assert f"(after {added:,} of 200,000 added)" in res.message


@pytest.mark.parametrize("when", ["before", "after"])
async def test_burst_whose_chunk_reply_is_lost_counts_on_the_server(server, r, when):
    r.xadd("s", {"seed": "1"})
    res = await run(server, "XADD", lambda a: a.produce_burst(b"s", 2000), n=700, when=when)
    added = r.xlen("s") - 1
    assert 500 <= added < 2000
    assert not res.ok and "the connection dropped after a chunk of 500 was sent" in res.message
    assert res.added == added and res.added_confirmed == 500
    assert f"{added:,} of 2,000 added" in res.message


# ---- item 10: trim preview, NOPERM, auth failure ------------------------------------------


async def test_maxlen_limit_is_the_servers(any_server, any_r):
    """The preview refuses a MAXLEN the server would refuse (it used to say "nothing to trim"),
    and the largest one it allows is one the server accepts."""
    fill(any_r, n=3)
    a = await make_actions(any_server)
    try:
        for call in (a.trim_preview, a.trim):
            with pytest.raises(ValidationError, match="at most 9,223,372,036,854,775,807"):
                await call(b"s", "MAXLEN", 2**63)
        assert (await a.trim_preview(b"s", "MAXLEN", 2**63 - 1)).preview.nothing
        assert (await a.trim(b"s", "MAXLEN", 2**63 - 1)).ok
    finally:
        await a.client.aclose()
    with pytest.raises(redis.ResponseError):
        any_r.execute_command("XTRIM", "s", "MAXLEN", 2**63)
    assert any_r.xlen("s") == 3


READ_ONLY = [
    "~*",
    "+@read",
    "+xinfo",
    "+xpending",
    "+xrange",
    "+scan",
    "+info",
    "+ping",
    "-@write",
    "+client",
    "+hello",
]


@pytest.mark.parametrize(
    ("action", "need", "refused"),
    [
        ("ack", "needs +xack on 's'", "'xack'"),
        ("trim", "needs +xtrim on 's'", "'xtrim'"),
        ("dead_letter", "needs +xadd on 's:dlq' and +xack on 's'", "'multi'"),
        ("produce_one", "needs +xadd on 's'", "'xadd'"),
    ],
)
async def test_noperm_names_the_command_that_needs_the_right(server, r, action, need, refused):
    ids = fill(r, n=3)
    r.execute_command("ACL", "SETUSER", "viewer", "on", ">pw", *READ_ONLY)
    a = await make_actions(server, username="viewer", password="pw")
    calls = {
        "ack": lambda: a.ack(b"s", b"g", ids[:1]),
        "trim": lambda: a.trim(b"s", "MAXLEN", 1),
        "dead_letter": lambda: a.dead_letter(b"s", b"g", ids=ids[:1]),
        "produce_one": lambda: a.produce_one(b"s"),
    }
    try:
        res = await calls[action]()
    finally:
        await a.client.aclose()
    assert not res.ok and "permission denied (NOPERM)" in res.message
    assert need in res.message and f"the server refused {refused}" in res.message
    assert len(pel(r)) == 3 and r.xlen("s") == 3


async def test_dead_letter_noperm_on_the_dlq_key_names_it(server, r):
    ids = fill(r, n=2)
    r.execute_command("ACL", "SETUSER", "worker", "on", ">pw", "~s", "+@all")
    a = await make_actions(server, username="worker", password="pw")
    try:
        res = await a.dead_letter(b"s", b"g", ids=ids)
    finally:
        await a.client.aclose()
    assert not res.ok and "needs +xadd on 's:dlq'" in res.message
    assert len(pel(r)) == 2 and not r.exists("s:dlq")


async def test_auth_failure_after_a_restart_is_not_connection_lost(own_server):
    own_server.stop()
    own_server.extra_args = ["--requirepass", "first-secret"]
    own_server.start()
    spec = ConnectionSpec(host=own_server.host, port=own_server.port, password="first-secret")
    client = spec.make_client(raw=True)
    a = Actions(client, await probe_server(client))
    try:
        assert (await a.produce_one(b"s")).ok
        own_server.stop()
        own_server.extra_args = ["--requirepass", "second-secret"]
        own_server.start()
        res = await a.produce_one(b"s")
        again = await a.produce_one(b"s")
    finally:
        await client.aclose()
    for r in (res, again):
        assert not r.ok and "authentication failed" in r.message, r.message
        assert "connection lost" not in r.message and "secret" not in r.message


# ---- delete gone consumers ------------------------------------------------------------------


def idle_consumers(r, *names: str) -> None:
    r.xadd("s", {"n": 1})
    r.xgroup_create("s", "g", id="0")
    for name in names:
        r.xgroup_createconsumer("s", "g", name)


def consumer_names(r) -> set[bytes]:
    return {c["name"] for c in r.xinfo_consumers("s", "g")}


@pytest.mark.parametrize("when", ["before", "after"])
async def test_delete_gone_whose_reply_is_lost_says_what_the_server_holds(server, r, when):
    from streamtop.actions.gone import delete_gone

    idle_consumers(r, "dead")
    res = await run(server, "EVAL", lambda a: delete_gone(a, b"s", b"g", [b"dead"], 1), when=when)
    assert res.ok and "failed" not in res.message, res.message
    ran = when == "after"
    assert (b"dead" in consumer_names(r)) is not ran
    assert res.deleted == ([b"dead"] if ran else [])
    assert [n for n, _ in res.skipped] == ([] if ran else [b"dead"])


async def test_delete_gone_lost_and_unreadable_says_may_have_been_deleted(server, r):
    from streamtop.actions.gone import delete_gone

    idle_consumers(r, "dead")
    res = await run(server, "EVAL", lambda a: delete_gone(a, b"s", b"g", [b"dead"], 1), refuse_after=True)
    assert b"dead" not in consumer_names(r)
    assert not res.ok and "may have been deleted" in res.message and "XINFO CONSUMERS s g" in res.message
    assert "failed" not in res.message and res.may_have_applied
