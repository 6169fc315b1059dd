"""Dead-letter never acks what it did not copy (issue 11 item 2), on real servers.

The DLQ key is tried as every Redis type, changed under a move, and the connection is cut before and
after each command of a move. Every time: XLEN of the source is unchanged, the DLQ holds exactly one
copy of each entry that left the PEL (entries acked == entries copied), and the result says so.
"""

from __future__ import annotations

import asyncio

import pytest
import redis

from tests.support.cutproxy import actions_cut
from tests.support.streams import fill, make_actions, pel

SETUP = {
    "string": lambda r: r.set("s:dlq", "precious"),
    "list": lambda r: r.rpush("s:dlq", "a", "b"),
    "hash": lambda r: r.hset("s:dlq", "f", "v"),
    "set": lambda r: r.sadd("s:dlq", "m"),
    "zset": lambda r: r.zadd("s:dlq", {"m": 1.0}),
}


def copies(r: redis.Redis, dlq="s:dlq") -> list[str]:
    """The original IDs of the copies in the DLQ (only our copies: entries with dlq-original-id)."""
    return [f[b"dlq-original-id"].decode() for _, f in r.xrange(dlq) if b"dlq-original-id" in f]


def assert_nothing_lost(r: redis.Redis, ids: list[str]) -> None:
    """Source intact; each entry is either still pending or copied, exactly once, never both."""
    assert r.xlen("s") == len(ids)
    moved = copies(r) if r.type("s:dlq") == b"stream" else []
    assert len(moved) == len(set(moved)), "a duplicate copy"
    pending = set(pel(r))
    assert set(moved) | pending == set(ids), "an entry left the PEL without a copy"
    assert not set(moved) & pending, "an entry copied but still pending"


@pytest.mark.parametrize("kind", sorted(SETUP))
async def test_dlq_of_another_type_is_refused_and_nothing_is_acked(acts, r, kind):
    ids = fill(r, n=5)
    SETUP[kind](r)
    dump = r.dump("s:dlq")
    res = await acts.dead_letter(b"s", b"g", ids=ids)
    assert not res.ok
    assert f"dead-letter key 's:dlq' is a {kind}, not a stream" in res.message
    assert "nothing was copied or acked" in res.message and res.moved == []
    assert len(pel(r)) == 5 and r.xlen("s") == 5
    assert r.dump("s:dlq") == dump, "the DLQ key is untouched"


@pytest.mark.parametrize("kind", ["absent", "stream"])
async def test_dlq_absent_or_a_stream_receives_every_entry(acts, r, kind):
    ids = fill(r, n=5)
    if kind == "stream":
        r.xadd("s:dlq", {"older": "entry"})
    res = await acts.dead_letter(b"s", b"g", ids=ids, dlq_key=b"s:dlq")
    assert res.ok, res.message
    assert copies(r) == ids and pel(r) == {} and r.xlen("s") == 5
    assert r.xlen("s:dlq") == 5 + (kind == "stream")
    assert [i for i, _ in res.moved] == ids


async def test_dlq_of_another_type_on_every_server(any_acts, any_r):
    ids = fill(any_r, n=3)
    any_r.set("dead", "x")
    res = await any_acts.dead_letter(b"s", b"g", min_deliveries=1, dlq_key=b"dead")
    assert not res.ok and "dead-letter key 'dead' is a string" in res.message
    assert "'s' is not a stream" not in res.message  # the source is not blamed
    assert len(pel(any_r)) == 3 and any_r.get("dead") == b"x"
    assert ids


async def test_dlq_turned_into_a_string_during_a_move_is_never_half_applied(server, r):
    """Someone replaces the DLQ with a string between the read and EXEC of the 2nd batch (2
    entries a batch): the WATCH aborts that EXEC, the retry sees the string and refuses; 2 moved
    (the 1st batch), 3 still pending."""
    ids = fill(r, n=5)

    def replace_dlq() -> None:
        with redis.Redis(host=server.host, port=server.port) as other:
            other.delete("s:dlq")
            other.set("s:dlq", "mine now")

    async with actions_cut(server, "XRANGE", 3, hook=replace_dlq) as (a, proxy):
        res = await a.dead_letter(b"s", b"g", ids=ids, batch=2)
    assert proxy.dropped, "the hook ran"
    assert not res.ok and "dead-letter key 's:dlq' is a string" in res.message
    assert "(2 moved before that)" in res.message
    assert r.get("s:dlq") == b"mine now"
    assert set(pel(r)) == set(ids[2:]) and r.xlen("s") == 5  # the two copies went with the DEL


# Each command of a batch's move, in order, with 2 entries a batch (5 entries: batches of 2, 2, 1).
# The 2nd batch is cut: XPENDING also runs 5 times up front (the selection check) and twice in the
# 1st batch's read, so the 2nd batch's first is its 8th occurrence; TYPE runs twice up front (the
# DLQ's type, and inside the MULTI/EXEC probe), MULTI and EXEC once (the probe). WATCH, then the read
# (TYPE, XPENDING and XRANGE of each entry) in one write, then MULTI, XADD, XACK ... EXEC in one.
STEPS = [
    ("WATCH", 2),
    ("TYPE", 4),
    ("XPENDING", 8),
    ("XRANGE", 3),
    ("MULTI", 3),
    ("XADD", 3),
    ("XACK", 4),
    ("EXEC", 3),
]


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize(("command", "n"), STEPS)
async def test_a_cut_at_any_step_loses_and_duplicates_nothing(server, r, command, n, when):
    ids = fill(r, n=5)
    async with actions_cut(server, command, n, when) as (a, proxy):
        res = await a.dead_letter(b"s", b"g", ids=ids, batch=2)
    assert proxy.dropped
    assert not res.ok and "connection lost" in res.message and "run it again" in res.message
    assert_nothing_lost(r, ids)
    # the result tells the truth about the batch in flight: moved, both, iff the server ran its EXEC
    ran = when == "after" and command in ("MULTI", "XADD", "XACK", "EXEC")
    assert len(copies(r)) == (4 if ran else 2)
    assert [i for i, _ in res.moved] == copies(r)
    assert ("they were moved (copied and acked" in res.message) == ran
    assert res.in_flight_ids == ids[2:4] and res.in_flight == (ids[2], "moved" if ran else "not moved")
    assert f"{len(copies(r))} moved in all" in res.message

    b = await make_actions(server)
    try:
        retry = await b.dead_letter(b"s", b"g", ids=ids)
    finally:
        await b.client.aclose()
    assert retry.ok and len(retry.moved) == 5 - len(res.moved)
    assert sorted(copies(r)) == sorted(ids) and pel(r) == {} and r.xlen("s") == 5


# ---- batches: one MULTI/EXEC for many entries, the outcome still told per entry ---------------


async def test_an_entry_acked_by_someone_else_inside_a_batch_is_raced_alone(server, r):
    """A worker acks the 3rd of 5 entries after the batch read them and before its EXEC (XACK
    trips no WATCH): in the EXEC that entry's XACK returns 0, its copy is taken back and it alone
    is reported as acked meanwhile; the 4 others are moved. (One entry a transaction read each
    entry just before its own move, so it found the 3rd no longer pending: never raced.)"""
    ids = fill(r, n=5)

    def worker_acks() -> None:
        with redis.Redis(host=server.host, port=server.port) as other:
            assert other.xack("s", "g", ids[2]) == 1

    # the 1st MULTI is the MULTI/EXEC probe, the 2nd the batch's
    async with actions_cut(server, "MULTI", 2, hook=worker_acks) as (a, proxy):
        res = await a.dead_letter(b"s", b"g", ids=ids)
    assert proxy.dropped, "the hook ran"
    assert res.ok, res.message
    assert res.raced == [ids[2]] and [i for i, _ in res.moved] == ids[:2] + ids[3:]
    assert "moved 4 entries" in res.message and "1 acked by someone else meanwhile" in res.message
    assert copies(r) == ids[:2] + ids[3:], "the raced entry's copy was taken back"
    assert pel(r) == {} and r.xlen("s") == 5


async def test_a_lost_reply_mid_run_then_a_re_run_never_duplicates(server, r):
    """The reply to the 1st of 2 batches' EXEC is lost after it ran, with older copies already in
    the DLQ: the batch's copies are found among the DLQ's last entries, the result says its 3
    entries were moved (and only them); the re-run moves the other 2, each entry copied once."""
    ids = fill(r, n=5)
    older = fill(r, key="old", n=4)
    first = await make_actions(server)
    try:
        assert (await first.dead_letter(b"old", b"g", ids=older, dlq_key=b"s:dlq")).ok
    finally:
        await first.client.aclose()
    async with actions_cut(server, "EXEC", 2, "after") as (a, proxy):
        res = await a.dead_letter(b"s", b"g", ids=ids, batch=3)
    assert proxy.dropped
    assert not res.ok and "connection lost" in res.message
    assert "they were moved (copied and acked" in res.message and "3 moved in all" in res.message
    assert res.in_flight == (ids[0], "moved") and res.in_flight_ids == ids[:3]
    assert [i for i, _ in res.moved] == ids[:3]
    assert set(pel(r)) == set(ids[3:])
    b = await make_actions(server)
    try:
        again = await b.dead_letter(b"s", b"g", ids=ids, batch=3)
    finally:
        await b.client.aclose()
    assert again.ok and [i for i, _ in again.moved] == ids[3:] and again.not_pending == ids[:3]
    mine = [f[b"dlq-original-id"].decode() for _, f in r.xrange("s:dlq") if f[b"dlq-source"] == b"s"]
    assert sorted(mine) == sorted(ids) and len(mine) == 5, "each copied exactly once"
    assert pel(r) == {} and r.xlen("s") == 5


async def test_progress_is_told_per_batch_and_a_cancel_stops_between_batches(acts, r):
    ids = fill(r, n=7)
    seen: list[tuple[int, int]] = []
    stop = asyncio.Event()

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= 4:
            stop.set()

    res = await acts.dead_letter(b"s", b"g", ids=ids, batch=2, progress=progress, cancel=stop)
    assert seen == [(2, 7), (4, 7)]
    assert res.ok and res.cancelled and [i for i, _ in res.moved] == ids[:4]
    assert "stopped by you: 3 not moved (still pending)" in res.message
    assert set(pel(r)) == set(ids[4:]) and copies(r) == ids[:4]
