"""Every parser on one reply: the check shared by the hand-made shapes (unit) and the real and
mutated server replies (integration)."""

from __future__ import annotations

from typing import Any

from streamtop.pipeline.connection import server_info_from
from streamtop.pipeline.model import LagSource, id_ms
from streamtop.pipeline.parse import (
    build_group,
    group_lag,
    pairs,
    parse_consumers,
    parse_entries,
    parse_groups,
    parse_info,
    parse_pending_entries,
    parse_pending_summary,
    parse_stream,
    version_tuple,
)


def parse_everything(reply: Any) -> None:
    """Every parser on one reply, whatever it is (a reply meant for another parser is also an odd
    shape); the results must be model objects whose fields can be read."""
    s = parse_stream(b"k", reply)
    assert isinstance(s.length, int)
    id_ms(s.first_entry_id)
    id_ms(s.last_generated_id)
    for d in parse_groups(reply):
        assert isinstance(d["name"], bytes)
        g = build_group(d, parse_consumers(reply), parse_pending_summary(reply, reply), estimate=3)
        assert g.lag.source is not LagSource.UNKNOWN
        group_lag(d).text()
        assert isinstance(g.pending, int) and isinstance(g.last_delivered_id, str)
    build_group(pairs(reply))
    for c in parse_consumers(reply):
        assert isinstance(c.name, bytes) and isinstance(c.idle_ms, int)
    ps = parse_pending_summary(reply, reply)
    assert isinstance(ps.count, int)
    for p in parse_pending_entries(reply):
        assert isinstance(p.id, str) and isinstance(p.deliveries, int)
    for entry_id, fields in parse_entries(reply):
        assert isinstance(entry_id, str)
        assert all(isinstance(f, bytes) and isinstance(v, bytes) for f, v in fields)
    info = parse_info(reply)
    server_info_from(info, info)
    version_tuple(info.get("redis_version"))
