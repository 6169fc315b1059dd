"""The actions layer against real servers: claim, ack, trim, groups, produce, dead-letter.

Nothing is lost: XLEN of the source is unchanged by claim, ack and dead-letter; every count the
actions report is checked against the server's own view afterwards.
"""

from __future__ import annotations

import asyncio

import pytest
import redis

from streamtop.actions import ActionResult, Actions, TrimPreview, ValidationError
from streamtop.pipeline.connection import ConnectionSpec, probe_server
from tests.support.cutproxy import CutProxy
from tests.support.streams import every_action, fill, make_actions, pel, server_state

# ---- claim -------------------------------------------------------------------------------


async def test_claim_auto_moves_stuck_entries_only(any_acts, any_r):
    ids = fill(any_r, n=10, old=(0, 2, 4, 6, 8))
    res = await any_acts.claim_auto(b"s", b"g", b"c2", 60_000, 100)
    assert res.ok, res.message
    assert res.claimed == 5 and not res.more
    assert sorted(res.claimed_ids) == sorted(ids[i] for i in (0, 2, 4, 6, 8))
    p = pel(any_r)
    for i, entry_id in enumerate(ids):
        if i % 2 == 0:
            assert p[entry_id] == (b"c2", 2), "claimed: new owner, one more delivery"
        else:
            assert p[entry_id] == (b"c1", 1), "below min idle: stays where it was"
    assert any_r.xlen("s") == 10
    assert "claimed 5" in res.message


async def test_claim_auto_pages_with_cursor_and_stops_at_cap(any_acts, any_r):
    fill(any_r, n=250, old=range(250))
    res = await any_acts.claim_auto(b"s", b"g", b"c2", 60_000, 1000)
    assert res.claimed == 250 and not res.more  # 3 XAUTOCLAIM pages
    assert set(c for c, _ in pel(any_r).values()) == {b"c2"}
    res = await any_acts.claim_auto(b"s", b"g", b"c3", 0, 30)
    assert res.claimed == 30 and res.more
    assert sum(1 for c, _ in pel(any_r).values() if c == b"c3") == 30
    assert "cap 30 reached" in res.message


async def test_claim_after_trim_reports_deleted_ids(any_acts, any_r):
    ids = fill(any_r, n=6, old=range(6))
    any_r.xtrim("s", maxlen=3, approximate=False)  # entries 0..2 gone, still in the PEL
    res = await any_acts.claim_auto(b"s", b"g", b"c2", 60_000, 100)
    assert res.ok, res.message
    assert sorted(res.claimed_ids) == ids[3:]
    if any_acts.server.autoclaim_reports_deleted:
        assert sorted(res.deleted_ids) == ids[:3]
        assert "3 deleted entries dropped" in res.message
        assert set(pel(any_r)) == set(ids[3:])
    else:  # 6.2: [null] entries, no third element; the deleted entries stay pending
        assert res.deleted_ids == []
        assert res.missing == 3
        assert set(pel(any_r)) == set(ids)
    assert any_r.xlen("s") == 3


async def test_claim_ids_claims_exactly_the_selection(any_acts, any_r):
    ids = fill(any_r, n=6, old=range(6))
    res = await any_acts.claim_ids(b"s", b"g", b"c2", 60_000, [ids[1], ids[4]])
    assert res.ok and res.claimed == 2
    p = pel(any_r)
    assert {i for i, (c, _) in p.items() if c == b"c2"} == {ids[1], ids[4]}
    assert p[ids[1]][1] == 2
    any_r.xack("s", "g", ids[0])  # no longer pending: reported, not an error
    res = await any_acts.claim_ids(b"s", b"g", b"c3", 0, [ids[0], ids[2]])
    assert res.ok and res.claimed_ids == [ids[2]] and res.skipped_ids == [ids[0]]
    assert any_r.xlen("s") == 6


async def test_claim_ids_below_min_idle_stay(acts, r):
    ids = fill(r, n=3)
    res = await acts.claim_ids(b"s", b"g", b"c2", 3_600_000, ids)
    assert res.ok and res.claimed == 0 and len(res.skipped_ids) == 3
    assert {c for c, _ in pel(r).values()} == {b"c1"}


async def test_claim_into_group_without_consumers_when_existing_required(acts, r):
    r.xadd("s", {"a": "1"})
    r.xgroup_create("s", "g", "0")
    res = await acts.claim_auto(b"s", b"g", b"c1", 0, 10, must_exist=True)
    assert not res.ok and "no consumers" in res.message
    assert r.xinfo_groups("s")[0]["consumers"] == 0
    r.xreadgroup("g", "c1", {"s": ">"})
    res = await acts.claim_auto(b"s", b"g", b"nobody", 0, 10, must_exist=True)
    assert not res.ok and "no consumer 'nobody'" in res.message
    assert r.xinfo_groups("s")[0]["consumers"] == 1


async def test_claim_missing_group_is_a_plain_message(any_acts, any_r):
    any_r.xadd("s", {"a": "1"})
    res = await any_acts.claim_auto(b"s", b"nope", b"c", 0, 10)
    assert not res.ok and res.message.startswith("claim failed: no stream 's' or no group 'nope'")
    assert "\n" not in res.message


# ---- ack ---------------------------------------------------------------------------------


async def test_ack_acks_exactly_the_selected_ids(any_acts, any_r):
    ids = fill(any_r, n=6)
    any_r.xack("s", "g", ids[5])
    res = await any_acts.ack(b"s", b"g", [ids[1], ids[3], ids[5]])
    assert res.ok
    assert res.acked == 2 and sorted(res.acked_ids) == [ids[1], ids[3]]
    assert res.not_pending == [ids[5]]
    assert "1 no longer pending" in res.message
    assert set(pel(any_r)) == {ids[0], ids[2], ids[4]}
    assert any_r.xlen("s") == 6


# ---- trim --------------------------------------------------------------------------------


def trim_fixture(r) -> list[str]:
    """20 entries; g1 read the first 10 and acked 5 of them; g2 (from 0) has read nothing."""
    ids = fill(r, n=20, group="g1", read=10)
    r.xack("s", "g1", *ids[:5])
    r.xgroup_create("s", "g2", "0")
    return ids


async def test_trim_maxlen_exact_preview_matches_trim(any_acts, any_r):
    ids = trim_fixture(any_r)
    res = await any_acts.trim_preview(b"s", "MAXLEN", 8)
    p: TrimPreview = res.preview
    assert res.ok and p.exact == 12 and p.last_removed_id == ids[11]
    impact = {g.name: g for g in p.groups}
    assert (impact[b"g1"].pending, impact[b"g1"].unread) == (5, 2)
    assert (impact[b"g2"].pending, impact[b"g2"].unread) == (0, 12)
    assert any("g2" in w and "12 not yet read" in w for w in p.warnings())
    done = await any_acts.trim(b"s", "MAXLEN", 8)
    assert done.ok and done.removed == p.exact == 12
    assert any_r.xlen("s") == 8 and any_r.xrange("s", count=1)[0][0].decode() == ids[12]


async def test_trim_minid_exact_preview_matches_trim(any_acts, any_r):
    ids = trim_fixture(any_r)
    res = await any_acts.trim_preview(b"s", "MINID", ids[4])
    p = res.preview
    assert p.exact == 4
    impact = {g.name: g for g in p.groups}
    assert (impact[b"g1"].pending, impact[b"g1"].unread) == (0, 0)
    assert (impact[b"g2"].pending, impact[b"g2"].unread) == (0, 4)
    done = await any_acts.trim(b"s", "MINID", ids[4])
    assert done.removed == 4 and any_r.xlen("s") == 16


async def test_trim_minid_counts_from_the_kept_side_when_cheaper(acts, r, monkeypatch):
    from streamtop.actions import trim

    monkeypatch.setattr(trim, "SCAN_CAP", 5)
    monkeypatch.setattr(trim, "PAGE", 2)
    ids = [r.xadd("s", {"n": i}).decode() for i in range(12)]
    p = (await acts.trim_preview(b"s", "MINID", ids[9])).preview
    assert p.exact == 9
    assert (await acts.trim(b"s", "MINID", ids[9])).removed == 9


async def test_trim_maxlen_far_boundary_keeps_the_count_and_says_impact_unknown(acts, r, monkeypatch):
    from streamtop.actions import trim

    monkeypatch.setattr(trim, "SCAN_CAP", 3)
    monkeypatch.setattr(trim, "PAGE", 2)
    fill(r, n=12)
    p = (await acts.trim_preview(b"s", "MAXLEN", 6)).preview
    assert p.exact == 6 and p.last_removed_id is None
    assert (p.groups[0].pending, p.groups[0].unread) == (None, None)
    assert "?" in p.warnings()[0]  # unknown, never 0
    assert (await acts.trim(b"s", "MAXLEN", 6)).removed == 6


async def test_trim_preview_counts_a_large_pel_as_a_lower_bound(acts, r, monkeypatch):
    from streamtop.actions import trim

    monkeypatch.setattr(trim, "SCAN_CAP", 4)
    monkeypatch.setattr(trim, "PAGE", 2)
    fill(r, n=10)
    p = (await acts.trim_preview(b"s", "MAXLEN", 2)).preview
    g = p.groups[0]
    assert p.exact == 8 and g.pending == 4 and g.pending_capped and g.unread == 0
    assert ">=4 still pending" in p.warnings()[0]


async def test_trim_nothing_to_trim(any_acts, any_r):
    fill(any_r, n=5)
    res = await any_acts.trim_preview(b"s", "MAXLEN", 10)
    assert res.ok and res.preview.nothing
    assert res.message.startswith("nothing to trim: 's' has 5 entries")
    res = await any_acts.trim_preview(b"s", "MINID", "1-0")
    assert res.preview.nothing and "nothing to trim" in res.message


async def test_trim_approx_preview_is_a_range(any_acts, any_r):
    fill(any_r, n=30)
    p = (await any_acts.trim_preview(b"s", "MAXLEN", 10, approx=True)).preview
    assert (p.removes_min, p.removes_max) == (0, 20) and p.exact is None
    assert "between 0 and 20" in p.removes_text()
    done = await any_acts.trim(b"s", "MAXLEN", 10, approx=True)
    assert done.ok and p.removes_min <= done.removed <= p.removes_max


async def test_trim_preview_on_missing_or_wrong_key(acts, r):
    r.set("str", "x")
    res = await acts.trim_preview(b"str", "MAXLEN", 1)
    assert not res.ok and "'str' is not a stream" in res.message
    res = await acts.trim_preview(b"nokey", "MAXLEN", 1)
    assert not res.ok and "no stream" in res.message


# ---- groups ------------------------------------------------------------------------------


async def test_group_operations(any_acts, any_r):
    res = await any_acts.group_create(b"new", b"g", "0")
    assert res.ok and any_r.exists("new")  # MKSTREAM
    busy = await any_acts.group_create(b"new", b"g", "$")
    assert not busy.ok and busy.message == "create group failed: group 'g' already exists on 'new'"
    ids = fill(any_r, key="s", n=4)
    assert (await any_acts.group_setid(b"s", b"g", ids[1])).ok
    assert any_r.xinfo_groups("s")[0]["last-delivered-id"].decode() == ids[1]
    pre = await any_acts.consumer_preview(b"s", b"g", b"c1")
    assert pre.pending == 4 and "leave" not in pre.message and "removes them" in pre.message
    gone = await any_acts.consumer_delete(b"s", b"g", b"c1")
    assert gone.ok and gone.pending_dropped == 4
    assert any_r.xpending("s", "g")["pending"] == 0
    gp = await any_acts.group_preview(b"s", b"g")
    assert (gp.exists, gp.pending, gp.consumers, gp.last_delivered_id) == (True, 0, 0, ids[1])
    assert (await any_acts.group_destroy(b"s", b"g")).ok
    assert any_r.xinfo_groups("s") == []
    again = await any_acts.group_destroy(b"s", b"g")
    assert not again.ok and "no group 'g'" in again.message


# ---- produce -----------------------------------------------------------------------------


async def test_produce_one_and_burst(acts, r):
    res = await acts.produce_one(b"p")
    assert res.ok and r.xlen("p") == 1
    fields = r.xrange("p")[0][1]
    assert set(fields) == {b"sensor_id", b"temp", b"humidity"}
    seen = []
    res = await acts.produce_burst(b"p", 1200, progress=lambda done, n: seen.append((done, n)))
    assert res.ok and res.added == 1200 and r.xlen("p") == 1201
    assert seen[-1] == (1200, 1200) and len(seen) == 3
    res = await acts.produce_burst(b"p", "50", maxlen="10")
    assert res.ok and r.xlen("p") == 10


async def test_produce_burst_cancel_stops_after_the_chunk_in_flight(acts, r):
    cancel = asyncio.Event()
    res = await acts.produce_burst(b"p", 100_000, progress=lambda done, n: cancel.set(), cancel=cancel)
    assert res.ok and res.cancelled and res.added == 500
    assert r.xlen("p") == 500 and "cancelled" in res.message


async def test_produce_into_wrong_type(acts, r):
    r.set("str", "x")
    res = await acts.produce_burst(b"str", 10)
    assert not res.ok and "'str' is not a stream" in res.message and "after 0 of 10" in res.message


# ---- dead-letter -------------------------------------------------------------------------


async def test_dead_letter_selected_moves_each_entry_once(any_acts, any_r):
    ids = fill(any_r, n=6)
    sel = [ids[0], ids[2], ids[3]]
    res = await any_acts.dead_letter(b"s", b"g", ids=sel)
    assert res.ok and [m[0] for m in res.moved] == sel
    dlq = any_r.xrange("s:dlq")
    assert [f[b"dlq-original-id"].decode() for _, f in dlq] == sel
    first = dlq[0][1]
    assert first[b"n"] == b"0" and first[b"payload"] == b"v0"
    assert (first[b"dlq-group"], first[b"dlq-consumer"], first[b"dlq-deliveries"]) == (b"g", b"c1", b"1")
    assert first[b"dlq-source"] == b"s"
    assert set(pel(any_r)) == {ids[1], ids[4], ids[5]}
    assert any_r.xlen("s") == 6
    again = await any_acts.dead_letter(b"s", b"g", ids=sel)  # a retry moves nothing twice
    assert again.ok and again.moved == [] and sorted(again.not_pending) == sel
    assert any_r.xlen("s:dlq") == 3


async def test_dead_letter_by_deliveries_to_a_chosen_key(any_acts, any_r):
    ids = fill(any_r, n=5)
    for _ in range(2):  # entries 1 and 3 redelivered twice more: 3 deliveries
        any_r.xclaim("s", "g", "c2", 0, [ids[1], ids[3]])
    res = await any_acts.dead_letter(b"s", b"g", min_deliveries=3, dlq_key=b"dead")
    assert res.ok and sorted(m[0] for m in res.moved) == [ids[1], ids[3]]
    dead = any_r.xrange("dead")
    assert sorted(f[b"dlq-original-id"].decode() for _, f in dead) == [ids[1], ids[3]]
    assert {f[b"dlq-deliveries"] for _, f in dead} == {b"3"}
    assert {f[b"dlq-consumer"] for _, f in dead} == {b"c2"}
    assert set(pel(any_r)) == {ids[0], ids[2], ids[4]}
    none = await any_acts.dead_letter(b"s", b"g", min_deliveries=3, dlq_key=b"dead")
    assert none.ok and "nothing to dead-letter" in none.message and any_r.xlen("dead") == 2


async def test_dead_letter_of_a_trimmed_entry_keeps_its_metadata(acts, r):
    ids = fill(r, n=3)
    r.xdel("s", ids[0])
    res = await acts.dead_letter(b"s", b"g", ids=[ids[0]])
    assert res.ok
    ((_, fields),) = r.xrange("s:dlq")
    assert fields[b"dlq-missing"] == b"1" and fields[b"dlq-original-id"].decode() == ids[0]
    assert ids[0] not in pel(r)


# ---- read-only and permissions ------------------------------------------------------------


async def test_read_only_refuses_every_action_and_changes_nothing(any_server, any_r):
    ids = fill(any_r, n=5)
    before = server_state(any_r)
    a = await make_actions(any_server, read_only=True)
    try:
        for name, call in every_action(a, ids).items():
            res = await call
            assert isinstance(res, ActionResult) and not res.ok, name
            assert res.message.startswith("read-only mode:") and "refused" in res.message, name
        assert (await a.trim_preview(b"s", "MAXLEN", 2)).ok  # a read: still allowed
    finally:
        await a.client.aclose()
    assert server_state(any_r) == before


async def test_acl_user_without_write_gets_noperm_for_every_action(any_server, any_r):
    ids = fill(any_r, n=5)
    any_r.execute_command("ACL", "SETUSER", "viewer", "on", ">viewerpw", "~*", "+@all", "-@write")
    before = server_state(any_r)
    a = await make_actions(any_server, username="viewer", password="viewerpw")
    try:
        for name, call in every_action(a, ids).items():
            res = await call
            assert not res.ok, name
            assert "permission denied (NOPERM)" in res.message, (name, res.message)
            assert "\n" not in res.message and "viewerpw" not in res.message
            assert "pipeline" not in res.message
        assert (await a.trim_preview(b"s", "MAXLEN", 2)).ok
    finally:
        await a.client.aclose()
    assert server_state(any_r) == before


# ---- validation: a clear message and nothing sent -----------------------------------------


def commands_processed(r: redis.Redis) -> int:
    return int(r.info("stats")["total_commands_processed"])


BAD_INPUT = [
    ("produce_burst", (b"s", 0), "burst size must be at least 1"),
    ("produce_burst", (b"s", 1_000_001), "at most 1,000,000"),
    ("produce_burst", (b"s", "ten"), "must be a whole number, got 'ten'"),
    ("produce_burst", (b"s", ""), "burst size is empty"),
    ("produce_burst", (b"s", 10, -1), "MAXLEN cannot be negative"),
    ("produce_one", (b"",), "stream key is empty"),
    ("ack", (b"s", b"g", []), "no pending entry selected"),
    ("ack", (b"s", b"g", ["abc"]), "'abc' is not a stream ID"),
    ("ack", (b"s", b"", ["1-1"]), "group is empty"),
    ("claim_auto", (b"s", b"g", b"c", "-5", 10), "cannot be negative"),
    ("claim_auto", (b"s", b"g", b"c", "soon", 10), "must be a number of seconds"),
    ("claim_auto", (b"s", b"g", b"c", "", 10), "min idle time is empty"),
    ("claim_auto", (b"s", b"g", b"c", 0, 0), "cap must be at least 1"),
    ("claim_auto", (b"s", b"g", b"", 0, 10), "consumer is empty"),
    ("claim_ids", (b"s", b"g", b"c", 0, []), "no pending entry selected"),
    ("trim_preview", (b"s", "MINID", "yesterday"), "MINID 'yesterday' is not a stream ID"),
    ("trim", (b"s", "MINID", "1-2-3"), "is not a stream ID"),
    ("trim", (b"s", "MAXLEN", "-3"), "MAXLEN cannot be negative"),
    ("trim", (b"s", "LEN", 3), "MAXLEN or MINID"),
    ("group_create", (b"s", b"g", "latest"), "start ID 'latest' is not a stream ID"),
    ("group_setid", (b"s", b"g", "99999999999999999999999-0"), "is not a stream ID"),
    ("dead_letter", (b"s", b"g"), "give either the selected entries or a minimum delivery count"),
    ("dead_letter", (b"s", b"g", [], None), "no pending entry selected"),
    ("dead_letter", (b"s", b"g", None, 0), "minimum deliveries must be at least 1"),
    ("dead_letter", (b"s", b"g", None, 2, b"s"), "must not be the source stream"),
]


@pytest.mark.parametrize(("method", "args", "message"), BAD_INPUT)
async def test_bad_input_raises_before_anything_is_sent(acts, r, method, args, message):
    before = commands_processed(r)
    with pytest.raises(ValidationError, match=None) as info:
        await getattr(acts, method)(*args)
    assert message in str(info.value)
    assert commands_processed(r) == before + 1  # only the INFO of this check itself


# ---- dead-letter when the connection drops ----------------------------------------------


@pytest.mark.parametrize("when", ["before", "after"])
async def test_dead_letter_survives_a_dropped_connection(server, r, when):
    ids = fill(r, n=5)
    proxy = CutProxy(server.port, "EXEC", 3, when)  # the 2nd batch of 2 (the 1st EXEC: the MULTI probe)
    port = await proxy.start()
    spec = ConnectionSpec(host="127.0.0.1", port=port)
    client = spec.make_client(raw=True)
    a = Actions(client, await probe_server(client))
    try:
        res = await a.dead_letter(b"s", b"g", ids=ids, batch=2)
    finally:
        await client.aclose()
        await proxy.close()
    assert not res.ok and "connection" in res.message and "run it again" in res.message
    expected = 4 if when == "after" else 2  # the cut EXEC ran (after) or never arrived (before)
    assert r.xlen("s:dlq") == expected and len(pel(r)) == 5 - expected
    b = await make_actions(server)
    try:
        retry = await b.dead_letter(b"s", b"g", ids=ids)
    finally:
        await b.client.aclose()
    assert retry.ok and len(retry.moved) == 5 - expected
    moved = [f[b"dlq-original-id"].decode() for _, f in r.xrange("s:dlq")]
    assert sorted(moved) == sorted(ids) and len(moved) == 5  # each exactly once
    assert pel(r) == {} and r.xlen("s") == 5


async def test_a_parsed_client_works_too(server, r):
    """The app passes a raw client; a plain redis-py client (parsed replies) must not break."""
    spec = ConnectionSpec(host=server.host, port=server.port)
    client = spec.make_client(raw=False)
    a = Actions(client, await probe_server(client))
    try:
        ids = fill(r, n=6, old=(0, 1))
        assert (await a.claim_auto(b"s", b"g", b"c2", 60_000, 10)).claimed == 2
        assert (await a.claim_ids(b"s", b"g", b"c3", 0, [ids[2]])).claimed_ids == [ids[2]]
        assert (await a.ack(b"s", b"g", [ids[5]])).acked_ids == [ids[5]]
        p = (await a.trim_preview(b"s", "MAXLEN", 3)).preview
        assert p.exact == 3 and p.groups[0].pending == 3
        assert (await a.consumer_preview(b"s", b"g", b"c2")).pending == 2
        assert len((await a.dead_letter(b"s", b"g", ids=[ids[3]])).moved) == 1
        assert (await a.group_preview(b"s", b"g")).pending == 4
        nogroup = await a.ack(b"s", b"nope", [ids[0]])
        assert not nogroup.ok and "no group 'nope'" in nogroup.message
    finally:
        await client.aclose()
