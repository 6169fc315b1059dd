"""Dead-letter then redrive (issue 13): entries go back to their source stream with exactly their
original fields, atomically per batch: never lost, never duplicated, also when the connection is cut
before or after any command of a move."""

from __future__ import annotations

import pytest
import redis

from streamtop.actions import ValidationError
from tests.support.cutproxy import actions_cut
from tests.support.streams import make_actions, pel


def originals(r: redis.Redis, n: int = 6) -> list[tuple[str, list[tuple[bytes, bytes]]]]:
    """n entries with binary values, a repeated-looking field order and one field named like the
    DLQ metadata; group g reads them all."""
    out = []
    for i in range(n):
        fields = [(b"z", b"\xff\x00%d" % i), (b"a", b"line\nbreak"), (b"dlq-note", b"mine %d" % i)]
        entry_id = r.execute_command("XADD", "s", "*", *[x for kv in fields for x in kv]).decode()
        out.append((entry_id, fields))
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c1", {"s": ">"})
    return out


def fields_of(r: redis.Redis, key: str, after: str | None = None) -> list[list[tuple[bytes, bytes]]]:
    return [list(f.items()) for _, f in r.xrange(key, f"({after}" if after else "-", "+")]


async def test_dead_letter_then_redrive_restores_the_content_exactly(any_acts, any_r):
    orig = originals(any_r)
    last = orig[-1][0]
    res = await any_acts.dead_letter(b"s", b"g", ids=[i for i, _ in orig])
    assert res.ok and len(res.moved) == 6 and pel(any_r) == {}
    dry = await any_acts.redrive(b"s:dlq", dry_run=True)
    reach = "; 's' is read by 'g' (dead-lettered them: the retry)"
    assert dry.ok and dry.message == "would redrive 6 entries from 's:dlq': 6 to 's'" + reach
    assert any_r.xlen("s:dlq") == 6 and any_r.xlen("s") == 6, "a dry run changes nothing"
    res = await any_acts.redrive(b"s:dlq")
    assert res.ok, res.message
    assert res.message == "redrove 6 entries from 's:dlq': 6 to 's'" + reach
    assert fields_of(any_r, "s", after=last) == [f for _, f in orig], "the same fields, same order"
    assert any_r.xlen("s:dlq") == 0
    got = any_r.xreadgroup("g", "c1", {"s": ">"})  # the group reads them as new entries
    assert len(got[0][1]) == 6
    again = await any_acts.redrive(b"s:dlq")
    assert again.ok and again.nothing and any_r.xlen("s") == 12


async def test_redrive_filters_by_group_range_count_and_target(any_acts, any_r):
    orig = originals(any_r, 8)
    any_r.xgroup_create("s", "h", "0")
    any_r.xreadgroup("h", "c9", {"s": ">"})
    await any_acts.dead_letter(b"s", b"g", ids=[i for i, _ in orig[:4]])
    await any_acts.dead_letter(b"s", b"h", ids=[i for i, _ in orig[4:]])
    dlq = [i.decode() for i, _ in any_r.xrange("s:dlq")]
    res = await any_acts.redrive(b"s:dlq", group=b"h", to=b"fixed", count=3)
    assert res.ok and res.to == {b"fixed": 3}
    assert fields_of(any_r, "fixed") == [f for _, f in orig[4:7]]
    res = await any_acts.redrive(b"s:dlq", to=b"fixed", start=dlq[1], end=dlq[2])
    assert fields_of(any_r, "fixed")[3:] == [f for _, f in orig[1:3]]
    assert [i.decode() for i, _ in any_r.xrange("s:dlq")] == [dlq[0], dlq[3], dlq[7]]
    with pytest.raises(ValidationError, match="after the end"):
        await any_acts.redrive(b"s:dlq", start=dlq[3], end=dlq[0])
    with pytest.raises(ValidationError, match="must not be the dead-letter"):
        await any_acts.redrive(b"s:dlq", to=b"s:dlq")


async def test_redrive_skips_entries_without_data_and_refuses_another_type(any_acts, any_r):
    orig = originals(any_r, 3)
    any_r.xtrim("s", maxlen=2, approximate=False)  # the first one loses its data while pending
    await any_acts.dead_letter(b"s", b"g", ids=[i for i, _ in orig])
    res = await any_acts.redrive(b"s:dlq", dry_run=True)
    assert "1 dead-lettered without data (nothing to restore) stay" in res.message
    any_r.set("str", "x")
    res = await any_acts.redrive(b"s:dlq", to=b"str")
    assert not res.ok and "'str' is a string, not a stream" in res.message
    assert any_r.xlen("s:dlq") == 3 and any_r.get("str") == b"x"


async def test_the_dry_run_says_a_target_will_be_created_or_refuses_another_type(acts, r):
    """Said before XADD creates the stream (issue 18); the source stream deleted meanwhile too."""
    orig = originals(r, 2)
    await acts.dead_letter(b"s", b"g", ids=[i for i, _ in orig])
    res = await acts.redrive(b"s:dlq", to=b"fresh", dry_run=True)
    assert res.ok and res.message.endswith("'fresh' does not exist: a new stream will be created")
    assert res.new_streams == [b"fresh"] and not r.exists("fresh")
    res = await acts.redrive(b"s:dlq", dry_run=True)
    assert "new stream" not in res.message and res.new_streams == []
    r.delete("s")
    res = await acts.redrive(b"s:dlq", dry_run=True)
    assert res.message.endswith("'s' does not exist: a new stream will be created")
    r.set("str", "x")
    res = await acts.redrive(b"s:dlq", to=b"str", dry_run=True)
    assert (
        not res.ok
        and res.message == "redrive refused: 'str' is a string, not a stream: nothing would be moved"
    )
    assert r.xlen("s:dlq") == 2


async def test_redrive_is_refused_read_only_but_a_dry_run_works(any_server, any_r):
    originals(any_r, 2)
    a = await make_actions(any_server)
    await a.dead_letter(b"s", b"g", min_deliveries=1)
    await a.client.aclose()
    ro = await make_actions(any_server, read_only=True)
    try:
        assert (await ro.redrive(b"s:dlq")).message.startswith("read-only mode")
        assert (await ro.redrive(b"s:dlq", dry_run=True)).would_move
    finally:
        await ro.client.aclose()
    assert any_r.xlen("s:dlq") == 2


# each command of a batch's move, 2 entries a batch (5 entries: 2, 2, 1); the 2nd batch is cut (XRANGE
# also runs once up front: the selection; TYPE twice: the targets' types and the MULTI/EXEC probe;
# MULTI and EXEC once: the probe). WATCH; TYPE and each XRANGE in one write; MULTI ... EXEC in one.
STEPS = [("WATCH", 2), ("TYPE", 4), ("XRANGE", 4), ("MULTI", 3), ("XADD", 3), ("XDEL", 4), ("EXEC", 3)]


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize(("command", "n"), STEPS)
async def test_a_cut_at_any_step_of_a_redrive_loses_and_duplicates_nothing(server, r, command, n, when):
    orig = originals(r, 5)
    a = await make_actions(server)
    await a.dead_letter(b"s", b"g", min_deliveries=1)
    await a.client.aclose()
    last = orig[-1][0]
    async with actions_cut(server, command, n, when) as (a, proxy):
        res = await a.redrive(b"s:dlq", batch=2)
    assert proxy.dropped
    assert not res.ok and "connection lost" in res.message and "run it again" in res.message
    back = fields_of(r, "s", after=last)
    left = [
        [(k, v) for k, v in f if not k.startswith(b"dlq-") or k == b"dlq-note"] for f in fields_of(r, "s:dlq")
    ]
    assert sorted(map(tuple, back + left)) == sorted(tuple(f) for _, f in orig), "each once, in one place"
    ran = when == "after" and command in ("MULTI", "XADD", "XDEL", "EXEC")
    assert len(back) == (4 if ran else 2)
    assert ("they were moved" in res.message) == ran and f"{len(back)} moved in all" in res.message
    assert res.in_flight == (res.in_flight_ids[0], "moved" if ran else "not moved")
    assert len(res.in_flight_ids) == 2
    b = await make_actions(server)
    try:
        retry = await b.redrive(b"s:dlq")
    finally:
        await b.client.aclose()
    assert retry.ok and len(retry.moved) == 5 - len(back)
    assert sorted(map(tuple, fields_of(r, "s", after=last))) == sorted(tuple(f) for _, f in orig)
    assert r.xlen("s:dlq") == 0
