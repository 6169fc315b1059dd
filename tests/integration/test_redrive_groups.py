"""A redrive reaches every group of its target (issue 25 item 1): before anything is written it
names each group that will read the redriven entries and whether it had already acked the
originals; with a group other than the one that dead-lettered them, it refuses unless
--all-groups, and a per-group retry stream (--to) is the way around. And it reports only what it
moved, not what it planned (issue 24 item 12)."""

from __future__ import annotations

import redis

from tests.support.commands import one_json, run
from tests.support.cutproxy import actions_cut
from tests.support.streams import make_actions


def two_groups(r: redis.Redis, n: int = 2) -> list[str]:
    """s: n entries; g1 reads them and never acks (the failing one), g2 reads and acks them."""
    ids = [r.xadd("s", {"order": str(i)}).decode() for i in range(n)]
    for g in ("g1", "g2"):
        r.xgroup_create("s", g, "0")
        r.xreadgroup(g, "c", {"s": ">"})
    r.xack("s", "g2", *ids)
    return ids


def test_redrive_refuses_when_another_group_reads_the_target(any_server, any_r, capsys):
    two_groups(any_r)
    code, _, err = run(any_server, capsys, "deadletter", "s", "g1", "--min-deliveries", "1", "--yes")
    assert code == 0 and any_r.xlen("s:dlq") == 2, err
    for extra in (["--dry-run"], ["--yes"]):
        code, _, err = run(any_server, capsys, "redrive", "s:dlq", *extra)
        assert code == 2, err
        assert "redrive refused" in err and "'s' is read by 'g1' (dead-lettered them: the retry)" in err
        assert "'g2' (had already acked 2 of 2: it would process them again)" in err
        assert "--to KEY" in err and "--all-groups" in err
    assert any_r.xlen("s") == 2 and any_r.xlen("s:dlq") == 2, "nothing written"
    code, out, _ = run(any_server, capsys, "redrive", "s:dlq", "--dry-run", "--json")
    doc = one_json(out)
    assert not doc["ok"] and [
        (g["name"], g["dead_lettered_them"], g["already_acked"]) for g in doc["groups"]
    ] == [
        ("g1", True, 2),  # acked by the dead-letter itself
        ("g2", False, 2),
    ]


def test_a_per_group_retry_stream_or_all_groups(any_server, any_r, capsys):
    two_groups(any_r)
    run(any_server, capsys, "deadletter", "s", "g1", "--min-deliveries", "1", "--yes")
    code, out, err = run(
        any_server, capsys, "redrive", "s:dlq", "--to", "s:retry:g1", "--count", "1", "--yes"
    )
    assert code == 0 and out.startswith("redrove 1 entries from 's:dlq': 1 to 's:retry:g1'"), err
    assert any_r.xlen("s:retry:g1") == 1 and any_r.xlen("s") == 2
    any_r.xgroup_create("s:retry:g1", "g1", "0")  # the retry stream is read by g1 alone: no refusal
    code, out, err = run(any_server, capsys, "redrive", "s:dlq", "--to", "s:retry:g1", "--yes")
    assert code == 0 and "'s:retry:g1' is read by 'g1' (dead-lettered them: the retry)" in out, err
    assert any_r.xlen("s:retry:g1") == 2 and any_r.xlen("s:dlq") == 0 and any_r.xlen("s") == 2


async def test_all_groups_redrives_to_every_group(any_acts, any_r):
    two_groups(any_r)
    await any_acts.dead_letter(b"s", b"g1", min_deliveries=1)
    refused = await any_acts.redrive(b"s:dlq")
    assert not refused.ok and refused.other_groups == [(b"s", b"g2")]
    res = await any_acts.redrive(b"s:dlq", all_groups=True)
    assert res.ok and len(res.moved) == 2, res.message
    assert "'g2' (had already acked 2 of 2: it would process them again)" in res.message
    again = any_r.xreadgroup("g2", "c", {"s": ">"})
    assert len(again[0][1]) == 2, "g2 reads them again: what --all-groups said"


async def test_a_group_that_never_read_them_is_named_too(any_acts, any_r):
    two_groups(any_r)
    await any_acts.dead_letter(b"s", b"g1", min_deliveries=1)
    any_r.xgroup_create("s", "late", "$")
    res = await any_acts.redrive(b"s:dlq", dry_run=True)
    assert not res.ok and "'late' (had already acked" in res.message
    assert {g for _, g in res.other_groups} == {b"g2", b"late"}


async def test_a_concurrent_redrive_is_reported_as_what_happened(server, r):
    """Another redrive takes the other entries while this one moves its first: the result says 1
    moved (1 to 's'), 4 left meanwhile; never the 5 it planned."""
    for i in range(5):
        r.xadd("s", {"n": str(i)})
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"})
    a = await make_actions(server)
    await a.dead_letter(b"s", b"g", min_deliveries=1)
    await a.client.aclose()
    dlq = [i for i, _ in r.xrange("s:dlq")]

    def the_other_redrive() -> None:
        with redis.Redis(host=server.host, port=server.port) as other:
            other.xdel("s:dlq", *dlq[1:])

    # the hook runs at the 2nd move's XRANGE
    async with actions_cut(server, "XRANGE", 3, hook=the_other_redrive) as (a, proxy):
        res = await a.redrive(b"s:dlq")
    assert proxy.dropped
    assert res.ok and res.message.startswith("redrove 1 entries from 's:dlq': 1 to 's';"), res.message
    assert "4 left the DLQ meanwhile" in res.message and res.to == {b"s": 1}
