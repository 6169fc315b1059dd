"""A dry run is the real run with the writes left out (issue 24 item 5): the same validation, the
same selection, the same refusals. Property tests: for random inputs on a random PEL, the dry run's
count and IDs equal what the real run then claims, and a refusal (bad input, or the server's
conditions) is the same in both. Plus the issue's three repros through the commands."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from streamtop.actions import ValidationError
from tests.support.commands import one_json, run
from tests.support.streams import OLD_MS, fill, make_actions

PEL = st.fixed_dictionaries(
    {
        "n": st.integers(1, 12),
        "read": st.integers(1, 12),
        "old": st.sets(st.integers(0, 11), max_size=6),
        "deleted": st.sets(st.integers(0, 11), max_size=3),
        "to_c2": st.sets(st.integers(0, 11), max_size=4),
    }
)
STARTS = st.sampled_from(
    ["0-0", "0", "abc", "", "9999999999999-0", "1-1-1", "18446744073709551616"]
) | st.builds(lambda ms, seq: f"{ms}-{seq}", st.integers(0, 2**64 - 1), st.integers(0, 3))
IDLES = st.sampled_from([0, 1000, OLD_MS // 2, OLD_MS * 10, "2m", "-1", "x"])
COUNTS = st.integers(1, 15) | st.sampled_from([0, "many"])
SOURCES = st.sampled_from([None, b"c1", b"c2", b"nobody"])


def arrange(r, pel: dict) -> list[str]:
    r.flushall()
    n = pel["n"]
    ids = fill(r, n=n, read=min(pel["read"], n), old=[i for i in pel["old"] if i < min(pel["read"], n)])
    for i in pel["to_c2"]:
        if i < min(pel["read"], n):
            r.xclaim("s", "g", "c2", 0, [ids[i]], justid=True)
    for i in pel["deleted"]:
        if i < n:
            r.xdel("s", ids[i])
    return ids


async def outcome(call) -> tuple:
    """(refused how, claimed IDs): a ValidationError, a failed result, or what was (to be) claimed."""
    try:
        res = await call()
    except ValidationError as exc:
        return ("invalid", str(exc)), None
    if not res.ok:
        return ("refused", res.message), None
    return None, (res.claimed, list(res.claimed_ids))


def claim_pair(srv, source, start, idle, count):
    async def both():
        a = await make_actions(srv)
        try:

            def call(dry: bool):
                if source is None:
                    return lambda: a.claim_auto(b"s", b"g", b"c9", idle, count, start=start, dry_run=dry)
                return lambda: a.claim_from(b"s", b"g", source, b"c9", idle, count, dry_run=dry)

            return await outcome(call(True)), await outcome(call(False))
        finally:
            await a.client.aclose()

    return asyncio.run(both())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pel=PEL, source=SOURCES, start=STARTS, idle=IDLES, count=COUNTS)
@example(
    pel={"n": 5, "read": 5, "old": {0, 1, 2}, "deleted": set(), "to_c2": set()},
    source=None,
    start="9999999999999-0",
    idle=0,
    count=10,
)
@example(
    pel={"n": 5, "read": 5, "old": set(), "deleted": {1}, "to_c2": set()},
    source=None,
    start="abc",
    idle=0,
    count=3,
)
@example(
    pel={"n": 6, "read": 6, "old": {0, 3}, "deleted": {3}, "to_c2": {0, 1}},
    source=b"c2",
    start="0-0",
    idle=0,
    count=5,
)
def test_claim_dry_run_counts_and_refuses_as_the_real_run(server, r, pel, source, start, idle, count):
    arrange(r, pel)
    if source is not None:
        start = "0-0"  # --start goes with claim-all only (the command refuses it with --from)
    dry, real = claim_pair(server, source, start, idle, count)
    assert dry == real, f"dry run {dry} but the real run {real}"


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    exists=st.sampled_from(["stream", "none", "string"]),
    group=st.sampled_from([b"g", b"new"]),
    start=st.sampled_from(["$", "0", "abc", "", "5-0", "1-2-3", "18446744073709551616"]),
    mkstream=st.booleans(),
)
def test_group_create_dry_run_refuses_as_the_real_run(server, r, exists, group, start, mkstream):
    r.flushall()
    if exists == "stream":
        fill(r, n=2)
    elif exists == "string":
        r.set("s", "x")

    async def both():
        a = await make_actions(server)
        try:
            out = []
            for dry in (True, False):
                try:
                    res = await a.group_create(b"s", group, start, mkstream=mkstream, dry_run=dry)
                    out.append((res.ok, None if res.ok else res.message))
                except ValidationError as exc:
                    out.append(("invalid", str(exc)))
            return out
        finally:
            await a.client.aclose()

    dry, real = asyncio.run(both())
    assert dry == real


# ---- the repros, through the commands ----------------------------------------------


def test_claim_dry_run_from_a_start_past_every_entry_would_claim_nothing(server, r, capsys):
    fill(r, n=3, old=(0, 1, 2))
    code, out, _ = run(
        server, capsys, "claim", "s", "g", "--to", "c2", "--start", "9999999999999-0", "--dry-run"
    )
    assert code == 2 and out.startswith("nothing to claim: no pending entry of 'g' idle 60,000 ms"), out
    code, out, _ = run(
        server, capsys, "claim", "s", "g", "--to", "c2", "--start", "9999999999999-0", "--yes", "--json"
    )
    assert one_json(out)["claimed"] == 0


def test_claim_dry_run_refuses_a_bad_start_as_the_real_run(server, r, capsys):
    fill(r, n=3, old=(0, 1, 2))
    dry = run(server, capsys, "claim", "s", "g", "--to", "c2", "--start", "abc", "--dry-run")
    real = run(server, capsys, "claim", "s", "g", "--to", "c2", "--start", "abc", "--yes")
    assert dry[0] == real[0] == 1 and dry[2] == real[2] and "'abc' is not a stream ID" in dry[2]


def test_group_create_dry_run_refuses_a_bad_id_as_the_real_run(server, r, capsys):
    fill(r, n=2)
    dry = run(server, capsys, "group", "s", "create", "h", "--id", "abc", "--dry-run")
    real = run(server, capsys, "group", "s", "create", "h", "--id", "abc")
    assert dry[0] == real[0] == 1 and dry[2] == real[2] and "'abc' is not a stream ID" in dry[2]
    dry = run(server, capsys, "group", "s", "create", "g", "--dry-run")
    assert dry[0] == 1 and "group 'g' already exists on 's'" in dry[2]
    assert [g["name"] for g in r.xinfo_groups("s")] == [b"g"]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n=st.integers(1, 12),
    strategy=st.sampled_from(["MAXLEN", "MINID"]),
    threshold=st.integers(0, 14) | st.sampled_from(["abc", "-1", "1-2-3", 2**63]),
)
def test_trim_dry_run_counts_and_refuses_as_the_real_run(server, r, n, strategy, threshold):
    r.flushall()
    ids = fill(r, n=n)
    if strategy == "MINID" and isinstance(threshold, int) and threshold < n:
        threshold = ids[threshold]  # an ID of the stream, else a number the server reads as ms

    async def both():
        a = await make_actions(server)
        try:
            out = []
            for call in (a.trim_preview, a.trim):
                try:
                    res = await call(b"s", strategy, threshold)
                except ValidationError as exc:
                    out.append(("invalid", str(exc)))
                    continue
                p = getattr(res, "preview", None)  # the preview has one, the trim not
                out.append((res.ok, p.removes_max if p is not None else getattr(res, "removed", None)))
            return out
        finally:
            await a.client.aclose()

    dry, real = asyncio.run(both())
    assert dry == real


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pel=PEL, who=SOURCES)
def test_ack_of_a_consumer_dry_run_counts_as_the_real_run(server, r, pel, who, capsys):
    arrange(r, pel)
    name = (who or b"c1").decode()
    dry = run(server, capsys, "ack", "s", "g", "--from", name, "--dry-run", "--json")
    real = run(server, capsys, "ack", "s", "g", "--from", name, "--yes", "--json")
    assert dry[0] == real[0]
    assert one_json(dry[1])["acked"] == one_json(real[1])["acked"]
