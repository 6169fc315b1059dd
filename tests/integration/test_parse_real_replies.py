"""The raw-reply parsers on real replies from the four servers, in every wire mode, and mutations of
them (missing fields, NULLs, truncated lists, bytes/str swapped, junk leaves). They must never raise,
and the same server state must parse to the same model whatever the wire mode. Hand-made odd shapes
are in tests/unit/test_parse.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamtop.pipeline.connection import server_info_from, strip_callbacks
from streamtop.pipeline.model import LagSource
from streamtop.pipeline.parse import (
    build_group,
    group_lag,
    parse_consumers,
    parse_entries,
    parse_groups,
    parse_info,
    parse_pending_entries,
    parse_pending_summary,
    parse_stream,
)
from tests.support.parse_check import parse_everything

ALL_FLAVOURS = ["redis-6.2", "redis-7.0", "valkey-8.1", "valkey-9.1"]

MODES = [(2, False), (3, False), (2, True), (3, True)]  # (protocol, decode_responses)


def _setup(r: redis.Redis) -> None:
    """Every shape we poll: full, emptied, MKSTREAM-empty streams; groups at 0, $, an arbitrary ID
    and after an XDEL in the unread range; consumers with and without pending entries."""
    for i in range(1, 6):
        r.xadd("cap:s", {"f": f"v{i}", "n": str(i)}, id=f"{i}-1")
    r.xgroup_create("cap:s", "g0", id="0")
    r.xgroup_create("cap:s", "gend", id="$")
    r.xgroup_create("cap:s", "garb", id="3-1")
    r.xreadgroup("g0", "c1", {"cap:s": ">"}, count=2)
    r.xreadgroup("g0", "c2", {"cap:s": ">"}, count=1)
    r.xgroup_createconsumer("cap:s", "gend", "idle")
    r.xadd("cap:d", {"f": "v"}, id="1-1")
    r.xadd("cap:d", {"f": "v"}, id="2-1")
    r.xgroup_create("cap:d", "g", id="0")
    r.xdel("cap:d", "2-1")
    r.xadd("cap:emptied", {"f": "v"}, id="1-1")
    r.xdel("cap:emptied", "1-1")
    r.xgroup_create("cap:mk", "g", id="$", mkstream=True)
    r.xadd("cap:bin", {b"\xff": b"\x00\xfe"}, id="1-1")
    r.xgroup_create("cap:bin", b"g\xff", id="0")
    r.xreadgroup(b"g\xff", b"c\x80", {"cap:bin": ">"})


COMMANDS: list[tuple[str, tuple]] = [
    ("stream", ("XINFO", "STREAM", "cap:s")),
    ("stream", ("XINFO", "STREAM", "cap:d")),
    ("stream", ("XINFO", "STREAM", "cap:emptied")),
    ("stream", ("XINFO", "STREAM", "cap:mk")),
    ("groups", ("XINFO", "GROUPS", "cap:s")),
    ("groups", ("XINFO", "GROUPS", "cap:d")),
    ("groups", ("XINFO", "GROUPS", "cap:mk")),
    ("consumers", ("XINFO", "CONSUMERS", "cap:s", "g0")),
    ("consumers", ("XINFO", "CONSUMERS", "cap:s", "gend")),
    ("consumers", ("XINFO", "CONSUMERS", "cap:mk", "g")),
    ("summary", ("XPENDING", "cap:s", "g0")),
    ("summary", ("XPENDING", "cap:s", "gend")),
    ("pending", ("XPENDING", "cap:s", "g0", "-", "+", 10)),
    ("pending", ("XPENDING", "cap:s", "gend", "-", "+", 10)),
    ("entries", ("XRANGE", "cap:s", "-", "+")),
    ("entries", ("XREVRANGE", "cap:s", "+", "-", "COUNT", 2)),
    ("entries", ("XRANGE", "cap:mk", "-", "+")),
    ("info", ("INFO", "server")),
]
BINARY_COMMANDS: list[tuple[str, tuple]] = [  # not decodable: bytes modes only
    ("stream", ("XINFO", "STREAM", "cap:bin")),
    ("groups", ("XINFO", "GROUPS", "cap:bin")),
    ("consumers", ("XINFO", "CONSUMERS", "cap:bin", b"g\xff")),
    ("summary", ("XPENDING", "cap:bin", b"g\xff")),
    ("pending", ("XPENDING", "cap:bin", b"g\xff", "-", "+", 10)),
    ("entries", ("XRANGE", "cap:bin", "-", "+")),
]


@pytest.fixture(scope="module")
def captured(server_pool) -> list[tuple[str, str, tuple[int, bool], str, Any]]:
    """(flavour, kind, mode, command text, raw reply) from every server and wire mode."""
    out = []
    for flavour in ALL_FLAVOURS:
        try:
            srv = server_pool.get(flavour)
        except pytest.skip.Exception:
            continue
        with redis.Redis(host=srv.host, port=srv.port, protocol=2) as setup:
            setup.delete(*[k for k in setup.keys("cap:*")] or ["cap:none"])
            _setup(setup)
            for proto, decode in MODES:
                with redis.Redis(host=srv.host, port=srv.port, protocol=proto, decode_responses=decode) as c:
                    strip_callbacks(c)
                    for kind, cmd in COMMANDS + ([] if decode else BINARY_COMMANDS):
                        out.append(
                            (flavour, kind, (proto, decode), " ".join(map(str, cmd)), c.execute_command(*cmd))
                        )
            setup.delete(*setup.keys("cap:*"))
    assert len({f for f, *_ in out}) >= 1
    return out


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.binary(max_size=6),
    st.just([]),
    st.just({}),
    st.just(b"-"),
    st.just("0-0"),
    st.just(float("inf")),
    st.just("²"),
)


def mutated(value: Any, depth: int = 0) -> st.SearchStrategy:
    """The value itself, or it changed in one of the ways a server, a wire mode or a bug could."""
    options: list[st.SearchStrategy] = [st.just(value), JUNK]
    if isinstance(value, bytes):
        options.append(st.just(value.decode("utf-8", "backslashreplace")))
    elif isinstance(value, str):
        options.append(st.just(value.encode()))
    elif isinstance(value, list | tuple) and depth < 5:
        items = list(value)
        options.append(st.integers(0, len(items)).map(lambda n: items[:n]))  # truncated
        if items:
            children = st.tuples(*[mutated(v, depth + 1) for v in items]).map(list)
            options.append(children)
            options.append(children.flatmap(lambda lst: st.permutations(lst)))
        if len(items) % 2 == 0 and items:  # a flat map: as RESP3 would send it
            options.append(st.just({_hashable(items[i]): items[i + 1] for i in range(0, len(items), 2)}))
    elif isinstance(value, dict) and depth < 5:
        keys = list(value)
        options.append(
            st.sets(st.sampled_from(keys) if keys else st.nothing()).map(
                lambda drop: {k: v for k, v in value.items() if k not in drop}
            )
        )  # missing fields
        if keys:
            options.append(
                st.tuples(*[mutated(value[k], depth + 1) for k in keys]).map(
                    lambda vals: dict(zip(keys, vals, strict=True))
                )
            )
            options.append(st.just([x for kv in value.items() for x in kv]))  # as RESP2 sends it
    return st.one_of(options)


def _hashable(x: Any) -> Any:
    return x if isinstance(x, str | bytes | int | float | bool | type(None)) else repr(x)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parsers_never_raise_on_real_and_mutated_replies(captured, data):
    flavour, kind, mode, cmd, reply = data.draw(st.sampled_from(captured), label="captured")
    parse_everything(data.draw(mutated(reply), label=f"{flavour} {mode} {cmd}"))


def test_every_real_reply_parses(captured):
    assert len(captured) == len({f for f, *_ in captured}) * (4 * len(COMMANDS) + 2 * len(BINARY_COMMANDS))
    for *_, reply in captured:
        parse_everything(reply)


def _model(kind: str, reply: Any) -> Any:
    """The parts of a parsed reply that do not change with time (idle times do)."""
    if kind == "stream":
        return parse_stream(b"k", reply)
    if kind == "groups":
        return [build_group(d) for d in parse_groups(reply)]
    if kind == "consumers":
        return [(c.name, c.pending, c.inactive_ms is None) for c in parse_consumers(reply)]
    if kind == "summary":
        return parse_pending_summary(reply)
    if kind == "pending":
        return [(p.id, p.consumer, p.deliveries) for p in parse_pending_entries(reply)]
    if kind == "entries":
        return parse_entries(reply)
    return server_info_from(parse_info(reply))


def test_every_wire_mode_parses_to_the_same_model(captured):
    by_cmd: dict[tuple[str, str], dict[tuple[int, bool], Any]] = {}
    for flavour, kind, mode, cmd, reply in captured:
        by_cmd.setdefault((flavour, cmd), {})[mode] = _model(kind, reply)
    for (flavour, cmd), models in by_cmd.items():
        baseline = models[(2, False)]
        for mode, model in models.items():
            assert model == baseline, f"{flavour} {cmd}: {mode} differs from RESP2 bytes"


def test_real_replies_parse_to_the_known_state(captured):
    """A sanity anchor for the property test: the parsed values are right, per server."""
    for flavour, _kind, mode, cmd, reply in captured:
        if mode != (2, False):
            continue
        lag_field = flavour != "redis-6.2"
        if cmd == "XINFO STREAM cap:s":
            s = parse_stream(b"cap:s", reply)
            assert (s.length, s.first_entry_id, s.last_entry_id) == (5, "1-1", "5-1")
            assert s.entries_added == (5 if lag_field else None)
        elif cmd == "XINFO STREAM cap:mk":
            s = parse_stream(b"cap:mk", reply)
            assert (s.length, s.first_entry_id, s.last_generated_id) == (0, None, "0-0")
        elif cmd == "XINFO GROUPS cap:s":
            gs = {g.name: g for g in (build_group(d) for d in parse_groups(reply))}
            assert gs[b"g0"].pending == 3 and gs[b"g0"].consumers == 2
            expected = {b"g0": LagSource.EXACT, b"gend": LagSource.EXACT, b"garb": LagSource.UNKNOWN}
            for name, source in expected.items():
                assert gs[name].lag.source is (source if lag_field else LagSource.UNKNOWN), (flavour, name)
            if lag_field:
                assert (gs[b"g0"].lag.value, gs[b"gend"].lag.value) == (2, 0)
        elif cmd == "XINFO GROUPS cap:d":
            (d,) = parse_groups(reply)
            assert group_lag(d).source is LagSource.UNKNOWN  # NULL after XDEL, or no field on 6.2
            assert group_lag(d, 1).text() == "~1"
        elif cmd == "XPENDING cap:s g0":
            ps = parse_pending_summary(reply)
            assert (ps.count, ps.smallest_id, ps.greatest_id) == (3, "1-1", "3-1")
            assert ps.consumers == ((b"c1", 2), (b"c2", 1))
        elif cmd == "XPENDING cap:s gend":
            assert parse_pending_summary(reply) == parse_pending_summary([0, None, None, None])
        elif cmd.startswith("XINFO CONSUMERS cap:bin"):
            assert [c.name for c in parse_consumers(reply)] == [b"c\x80"]
        elif cmd == "XRANGE cap:bin - +":
            assert parse_entries(reply) == [("1-1", [(b"\xff", b"\x00\xfe")])]
