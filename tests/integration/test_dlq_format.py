"""Dead-letter then redrive gives back exactly the entry's own fields (issue 24 item 1), whatever
they are named: the DLQ copy ends with a count of the entry's own fields (streamtop.actions.
dlqformat), so a field of its own named `dlq-missing` or `dlq-source` is never taken for metadata.
Entries written in the previous format (no count) are still read, by their fixed metadata tail.

Fields are compared as raw (name, value) pairs in order, duplicates kept: redis-py's dicts would
hide exactly the losses this checks for."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from streamtop.pipeline.parse import parse_entries
from tests.support.streams import make_actions

Fields = list[tuple[bytes, bytes]]
DLQ_NAMES = [
    b"dlq-missing",
    b"dlq-source",
    b"dlq-original-id",
    b"dlq-group",
    b"dlq-consumer",
    b"dlq-deliveries",
    b"dlq-fields",
    b"dlq-note",
]


async def raw(client, key: bytes) -> list[tuple[str, Fields]]:
    return [(i, list(f)) for i, f in parse_entries(await client.execute_command("XRANGE", key, "-", "+"))]


async def round_trip(srv, fields: Fields) -> tuple[Fields, list, object, object]:
    """XADD `fields` to h, read it in group g, dead-letter it, redrive it to `back`: (what `back`
    holds, what the DLQ still holds, both results)."""
    a = await make_actions(srv)
    c = a.client
    try:
        await c.execute_command("DEL", b"h", b"h:dlq", b"back")
        entry_id = (await c.execute_command("XADD", b"h", "*", *[x for kv in fields for x in kv])).decode()
        await c.execute_command("XGROUP", "CREATE", b"h", b"g", "0")
        await c.execute_command("XREADGROUP", "GROUP", b"g", b"c", "STREAMS", b"h", ">")
        dead = await a.dead_letter(b"h", b"g", ids=[entry_id])
        back = await a.redrive(b"h:dlq", to=b"back")
        got = await raw(c, b"back")
        left = await raw(c, b"h:dlq")
    finally:
        await c.aclose()
    return (got[0][1] if got else []), left, dead, back


def test_the_issue_repro_keeps_a_field_named_dlq_missing(server):
    """`XADD h * a 1 dlq-missing 0`, dead-letter, `redrive h:dlq --to back`: back held `a 1` only."""
    fields = [(b"a", b"1"), (b"dlq-missing", b"0")]
    got, left, dead, back = asyncio.run(round_trip(server, fields))
    assert dead.ok and back.ok, (dead.message, back.message)
    assert got == fields and left == []


names = st.sampled_from(DLQ_NAMES) | st.binary(min_size=0, max_size=12)
values = st.sampled_from([b"", b"0", b"1", b"dlq-missing", b"h"]) | st.binary(max_size=12)
field_lists = st.lists(st.tuples(names, values), min_size=1, max_size=8).flatmap(
    lambda fs: st.just(fs) | st.just(fs + fs[:1])  # a repeated name (and pair) now and then
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fields=field_lists)
@example(fields=[(b"a", b"1"), (b"dlq-missing", b"1")])
@example(fields=[(b"dlq-fields", b"0")])
@example(fields=[(b"dlq-fields", b"5"), (b"x", b"")])
@example(
    fields=[
        (b"dlq-original-id", b"1-1"),
        (b"dlq-group", b"g"),
        (b"dlq-consumer", b"c"),
        (b"dlq-deliveries", b"1"),
        (b"dlq-source", b"h"),
    ]
)
@example(fields=[(b"", b""), (b"\xff\x00", b"\x1b[31m"), (b"", b"")])
def test_any_field_list_survives_dead_letter_then_redrive_exactly(any_server, fields):
    got, left, dead, back = asyncio.run(round_trip(any_server, fields))
    assert dead.ok and len(dead.moved) == 1, dead.message
    assert back.ok and len(back.moved) == 1, back.message
    assert got == fields, "the same fields, same order, duplicates kept"
    assert left == [], "the DLQ copy went"


OLD = [  # as streamtop before issue 24 wrote them: own fields, then this fixed tail
    ([(b"a", b"1"), (b"dlq-missing", b"0")], False),
    ([(b"dlq-source", b"elsewhere")], False),
    ([(b"x", b"1"), (b"dlq-original-id", b"9-9"), (b"dlq-fields", b"0")], False),
    ([], True),  # dead-lettered without data: dlq-missing 1 after the tail, no own fields
]


async def test_entries_in_the_previous_format_are_still_redriven_exactly(acts, r):
    for own, missing in OLD:
        tail = [
            (b"dlq-original-id", b"5-0"),
            (b"dlq-group", b"g"),
            (b"dlq-consumer", b"c1"),
            (b"dlq-deliveries", b"7"),
            (b"dlq-source", b"h"),
        ] + ([(b"dlq-missing", b"1")] if missing else [])
        r.execute_command("XADD", "h:dlq", "*", *[x for kv in own + tail for x in kv])
    res = await acts.redrive(b"h:dlq")
    assert res.ok and len(res.moved) == 3 and len(res.without_data) == 1
    assert [f for _, f in await raw(acts.client, b"h")] == [own for own, missing in OLD if not missing]
