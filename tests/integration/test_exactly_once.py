"""Moves stay exactly-once without MULTI (issue 24 item 2), and ack/trim report what the server did
for a user without +multi (item 4), on the four servers.

Without +multi, redis-py's MULTI ... EXEC ran the "queued" commands one by one: a dead-letter's XADD
ran and its XACK was refused (`+@all -multi -xack`: one more DLQ copy per run), a redrive's XADD ran
and its XDEL was refused (`+@all -multi -xdel`: one more target entry per run). Now both check that
MULTI/EXEC run before writing anything, and refuse. Then the connection is cut before and after
each command of the 3rd move, with and without MULTI rights, and the run repeated: each entry ends
up in exactly one place, once.
"""

from __future__ import annotations

import pytest
import redis

from streamtop.actions import Actions
from streamtop.pipeline.connection import ConnectionSpec, probe_server
from tests.support.cutproxy import CutProxy
from tests.support.streams import fill, make_actions, pel

PW = "pw"
RIGHTS = {
    "all": "+@all",
    "dead-letter without multi": "+@all -multi -xack",
    "redrive without multi": "+@all -multi -xdel",
}


def user(r: redis.Redis, name: str, rules: str) -> str:
    r.execute_command("ACL", "SETUSER", name, "reset", "on", f">{PW}", "~*", "&*", *rules.split())
    return name


async def as_user(srv, name: str, port: int | None = None) -> Actions:
    spec = ConnectionSpec(host="127.0.0.1", port=port or srv.port, username=name, password=PW)
    client = spec.make_client(raw=True)
    return Actions(client, await probe_server(client))


def copies(r: redis.Redis) -> list[str]:
    """The original IDs of the dead-letter copies in s:dlq."""
    if r.type("s:dlq") != b"stream":
        return []
    return [f[b"dlq-original-id"].decode() for _, f in r.xrange("s:dlq")]  # fill's fields are n, payload


def redriven(r: redis.Redis, after: str) -> list[bytes]:
    """The `n` field of the entries redriven into s (after the originals)."""
    return [f[b"n"] for _, f in r.xrange("s", f"({after}", "+")]


def assert_dead_letter_exactly_once(r: redis.Redis, ids: list[str]) -> None:
    moved = copies(r)
    assert len(moved) == len(set(moved)), f"a duplicate copy: {moved}"
    pending = set(pel(r))
    assert set(moved) | pending == set(ids), "an entry left the PEL without a copy"
    assert not set(moved) & pending, "an entry copied but still pending"
    assert r.xlen("s") == len(ids)


def assert_redrive_exactly_once(r: redis.Redis, ids: list[str]) -> None:
    back = redriven(r, ids[-1])
    left = [f[b"n"] for _, f in r.xrange("s:dlq")] if r.exists("s:dlq") else []
    assert sorted(back + left) == sorted(str(i).encode() for i in range(len(ids))), (back, left)


async def test_dead_letter_without_multi_refuses_and_never_copies(any_server, any_r):
    ids = fill(any_r, n=3)
    name = user(any_r, "nomulti", RIGHTS["dead-letter without multi"])
    for _ in range(3):  # the issue: 3 runs, 3 copies
        a = await as_user(any_server, name)
        try:
            res = await a.dead_letter(b"s", b"g", min_deliveries=1)
        finally:
            await a.client.aclose()
        assert not res.ok and "the server refused 'multi'" in res.message, res.message
        assert "+multi +exec" in res.message and "nothing was copied or acked" in res.message
    assert copies(any_r) == [] and len(pel(any_r)) == 3 and ids


async def test_redrive_without_multi_refuses_and_never_re_adds(any_server, any_r):
    ids = fill(any_r, n=3)
    a = await make_actions(any_server)
    await a.dead_letter(b"s", b"g", min_deliveries=1)
    await a.client.aclose()
    name = user(any_r, "nomulti", RIGHTS["redrive without multi"])
    for _ in range(3):  # the issue: target XLEN 1, 2, 3
        b = await as_user(any_server, name)
        try:
            res = await b.redrive(b"s:dlq", to=b"back")
        finally:
            await b.client.aclose()
        assert (
            not res.ok and "the server refused 'multi'" in res.message and "nothing was moved" in res.message
        )
    assert not any_r.exists("back") and any_r.xlen("s:dlq") == 3 and ids


# 2 entries a batch (5 entries: 2, 2, 1); the 2nd batch of each run is cut; up front: XPENDING once
# (the selection), TYPE twice (the DLQ's type, the probe), MULTI and EXEC once (the probe); for
# redrive XRANGE once (the selection). A batch: WATCH; TYPE and each entry's reads; MULTI ... EXEC.
BATCH = 2
DEAD_LETTER_STEPS = [
    ("WATCH", 2),
    ("TYPE", 4),
    ("XPENDING", 4),
    ("XRANGE", 3),
    ("MULTI", 3),
    ("XADD", 3),
    ("XACK", 4),
    ("EXEC", 3),
]
REDRIVE_STEPS = [
    ("WATCH", 2),
    ("TYPE", 4),
    ("XRANGE", 4),
    ("MULTI", 3),
    ("XADD", 4),
    ("XDEL", 3),
    ("EXEC", 3),
]


@pytest.mark.parametrize("rights", ["all", "without multi"])
@pytest.mark.parametrize("action", ["dead-letter", "redrive"])
async def test_a_cut_at_any_step_with_or_without_multi_never_loses_or_duplicates(
    any_server, any_r, action, rights
):
    rules = RIGHTS["all"] if rights == "all" else RIGHTS[f"{action} without multi"]
    steps = DEAD_LETTER_STEPS if action == "dead-letter" else REDRIVE_STEPS
    for command, n in steps:
        for when in ("before", "after"):
            any_r.flushall()
            ids = fill(any_r, n=5)
            if action == "redrive":
                setup = await make_actions(any_server)
                await setup.dead_letter(b"s", b"g", min_deliveries=1)
                await setup.client.aclose()
            name = user(any_r, "mover", rules)

            async def move(a: Actions):
                if action == "dead-letter":
                    return await a.dead_letter(b"s", b"g", min_deliveries=1, batch=BATCH)
                return await a.redrive(b"s:dlq", batch=BATCH)

            check = (
                assert_dead_letter_exactly_once if action == "dead-letter" else assert_redrive_exactly_once
            )
            proxy = CutProxy(any_server.port, command, n, when)
            async with proxy as port:
                a = await as_user(any_server, name, port)
                try:
                    res = await move(a)
                finally:
                    await a.client.aclose()
            where = f"{action} as {rules!r}, cut {when} {command} #{n}: {res.message}"
            assert not res.ok, where
            assert proxy.dropped or rights != "all", where
            check(any_r, ids)
            again = await as_user(any_server, name)  # the same user runs it again: never a duplicate
            try:
                await move(again)
            finally:
                await again.client.aclose()
            check(any_r, ids)
            full = await make_actions(any_server)  # and with every right, it finishes: all moved once
            try:
                done = await move(full)
            finally:
                await full.client.aclose()
            assert done.ok, where
            check(any_r, ids)
            if action == "dead-letter":
                assert sorted(copies(any_r)) == sorted(ids) and pel(any_r) == {}, where
            else:
                assert len(redriven(any_r, ids[-1])) == 5 and any_r.xlen("s:dlq") == 0, where


# ---- item 4: ack and trim tell what the server did, without +multi --------------------------


async def test_ack_and_trim_as_a_stream_user_report_what_the_server_did(any_server, any_r):
    """`+@stream` (no +multi): `ack` of a consumer's 3 entries said "refused ... 0 acked" while
    pending went 3 -> 0; `trim --maxlen 1` said "refused" while XLEN went 5 -> 1."""
    fill(any_r, n=5, read=3)
    name = user(any_r, "streamer", "+@stream +@connection +info")
    a = await as_user(any_server, name)
    try:
        acked = await a.ack_consumer(b"s", b"g", b"c1")
        trimmed = await a.trim(b"s", "MAXLEN", 1)
    finally:
        await a.client.aclose()
    assert pel(any_r) == {} and any_r.xlen("s") == 1
    assert acked.ok and acked.acked == 3, acked.message
    assert acked.message == "acked 3 entries 'c1' held in 'g'"
    assert trimmed.ok and trimmed.message == "trimmed 4 entries from 's' (MAXLEN = 1); 1 left", (
        trimmed.message
    )
    assert trimmed.removed == 4 and trimmed.length_after == 1


async def test_without_exec_nothing_moves_and_the_connection_is_not_left_inside_multi(any_server, any_r):
    """`+@all -exec`: MULTI is accepted, EXEC refused, and the server keeps that connection inside
    MULTI: it is closed, so the client's next command runs instead of being queued."""
    fill(any_r, n=3)
    name = user(any_r, "noexec", "+@all -exec")
    a = await as_user(any_server, name)
    try:
        res = await a.dead_letter(b"s", b"g", min_deliveries=1)
        after = await a.client.execute_command("XLEN", b"s")
    finally:
        await a.client.aclose()
    assert not res.ok and "the server refused 'exec'" in res.message, res.message
    assert after == 3, "a plain reply, not QUEUED"
    assert copies(any_r) == [] and len(pel(any_r)) == 3


@pytest.mark.parametrize(("batch", "last_exec"), [(200, 2), (2, 4)])
@pytest.mark.parametrize("action", ["dead-letter", "redrive"])
async def test_the_last_moves_reply_lost_after_it_ran_is_no_failure(server, r, action, batch, last_exec):
    """Every entry moved, the reply to the last batch lost: the result said "failed ... 5 moved in
    all: run it again to move the rest" for a run that had done everything (and a re-run found
    nothing). It is done: ok, with the lost reply said. (One batch of 5, or 2, 2 and 1.)"""
    ids = fill(r, n=5)
    if action == "redrive":
        setup = await make_actions(server)
        await setup.dead_letter(b"s", b"g", min_deliveries=1)
        await setup.client.aclose()
    proxy = CutProxy(server.port, "EXEC", last_exec, "after")  # the 1st EXEC is the probe's
    async with proxy as port:
        client = ConnectionSpec(host="127.0.0.1", port=port).make_client(raw=True)
        a = Actions(client, await probe_server(client))
        try:
            if action == "dead-letter":
                res = await a.dead_letter(b"s", b"g", min_deliveries=1, batch=batch)
            else:
                res = await a.redrive(b"s:dlq", batch=batch)
        finally:
            await client.aclose()
    assert proxy.dropped
    if action == "dead-letter":
        assert_dead_letter_exactly_once(r, ids)
        assert sorted(copies(r)) == sorted(ids) and pel(r) == {}
    else:
        assert_redrive_exactly_once(r, ids)
        assert len(redriven(r, ids[-1])) == 5 and r.xlen("s:dlq") == 0
    assert res.ok, res.message
    assert "failed" not in res.message and "run it again" not in res.message, res.message
    assert "5 entries" in res.message and "connection was lost" in res.message, res.message
    assert len(res.moved) == 5
