"""Claim runs reach every stuck entry exactly once (issue 13): a crashed consumer's 190 entries all end
in the target with deliveries 2, whether taken "from c1" or by "claim all stuck", on every server."""

from __future__ import annotations

import pytest
import redis

from tests.support.cutproxy import actions_cut
from tests.support.streams import crashed, pel


def assert_all_once(r: redis.Redis, c1: list[str], claimed: list[str]) -> None:
    assert len(claimed) == len(set(claimed)), "an entry was claimed twice in one run"
    assert sorted(claimed) == sorted(c1)
    p = pel(r)
    assert {i for i, (c, _) in p.items() if c == b"c1"} == set()
    assert all(p[i] == (b"c2", 2) for i in c1), "every entry in c2, delivered exactly twice"
    assert sum(1 for c, _ in p.values() if c == b"c3") == 5 and r.xlen("s") == 200


async def test_crash_then_claim_from_the_crashed_consumer(any_acts, any_r):
    c1 = crashed(any_r)
    res = await any_acts.claim_from(b"s", b"g", b"c1", b"c2", 60_000)
    assert res.ok, res.message
    assert_all_once(any_r, c1, res.claimed_ids)
    assert res.owners == {b"c1": 190}
    assert res.message.startswith("claimed 190 from 'c1' into 'c2'")
    again = await any_acts.claim_from(b"s", b"g", b"c1", b"c2", 60_000)
    assert again.ok and again.nothing and again.claimed == 0


async def test_crash_then_claim_all_stuck_in_one_run(any_acts, any_r):
    c1 = crashed(any_r)
    seen: list[int] = []
    res = await any_acts.claim_auto(
        b"s", b"g", b"c2", 60_000, 10_000, progress=lambda done, cap: seen.append(done)
    )
    assert res.ok, res.message
    assert_all_once(any_r, c1, res.claimed_ids)
    assert res.owners == {b"c1": 190} and "from 'c1' (190)" in res.message
    assert seen == sorted(seen) and seen[-1] == 190 and not res.more


async def test_claim_all_with_min_idle_zero_never_claims_twice(any_acts, any_r):
    """Every entry is claimable again right after its claim (min idle 0): the cursor still moves on."""
    c1 = crashed(any_r, n=250)
    res = await any_acts.claim_auto(b"s", b"g", b"c2", 0, 10_000)
    ids = res.claimed_ids
    assert len(ids) == len(set(ids)) == 260  # c1's 250, c2's own 5 and c3's 5
    p = pel(any_r)
    assert all(p[i] == (b"c2", 2) for i in c1)
    assert res.owners == {b"c1": 250, b"c2": 5, b"c3": 5}


async def test_a_capped_run_continues_from_its_cursor(any_acts, any_r):
    c1 = crashed(any_r)
    first = await any_acts.claim_auto(b"s", b"g", b"c2", 60_000, 100)
    assert first.more and first.claimed == 100
    assert f"run again from {first.cursor}" in first.message
    second = await any_acts.claim_auto(b"s", b"g", b"c2", 60_000, 100, start=first.cursor)
    assert not second.more
    assert_all_once(any_r, c1, first.claimed_ids + second.claimed_ids)


async def test_claim_from_reports_entries_without_data(any_acts, any_r):
    """Entries trimmed away while c1 held them are reported, never counted as claimed."""
    c1 = crashed(any_r, n=20)
    any_r.xtrim("s", maxlen=20, approximate=False)  # c2's 5 and c1's first 5 lose their data
    gone = [i for i in c1 if not any_r.xrange("s", i, i)]
    assert len(gone) == 5
    res = await any_acts.claim_from(b"s", b"g", b"c1", b"c2", 60_000)
    assert res.ok, res.message
    assert sorted(res.claimed_ids) == sorted(set(c1) - set(gone))
    assert sorted(res.deleted_ids) == sorted(gone)
    assert "5 IDs without data (trimmed or deleted) were not claimed" in res.message


async def test_claim_from_validates_before_sending(any_acts):
    from streamtop.actions import ValidationError

    with pytest.raises(ValidationError, match="the same"):
        await any_acts.claim_from(b"s", b"g", b"c1", b"c1", 0)


@pytest.mark.parametrize("when", ["before", "after"])
async def test_claim_from_whose_xclaim_reply_is_lost_reports_the_owners(server, r, when):
    c1 = crashed(r, n=150)
    async with actions_cut(server, "XCLAIM", 2, when) as (a, proxy):
        res = await a.claim_from(b"s", b"g", b"c1", b"c2", 60_000)
    assert proxy.dropped and res.lost_reply
    p = pel(r)
    in_c2 = [i for i in c1 if p[i][0] == b"c2"]
    assert len(in_c2) == (150 if when == "after" else 100)
    assert f"{len(in_c2) - 100} of 50 now belong to 'c2'" in res.message
    assert "100 claimed before that" in res.message and res.claimed == len(in_c2)
