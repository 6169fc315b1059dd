"""Lag sanity (issue 25, item 4): after XTRIM below a group's position, Redis 7.0 and both Valkeys
report a lag that counts the trimmed entries (36 with 30 entries left); 6.2 has none. A group below
the first entry has the whole stream to read, so its lag is the stream's length, exactly, in
`status --json` and in `serve`'s page alike (one place: parse.group_lag). A lag above what can be
after the group's position is never exact (unit: tests/unit/test_lag_bound.py)."""

from __future__ import annotations

import json

from streamtop import cli
from tests.support.scrape import Served


def arrange(r) -> None:
    """40 entries, a group that read 4 of them, the stream trimmed to its last 30."""
    for i in range(40):
        r.xadd("s", {"i": i})
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "c", {"s": ">"}, count=4)
    r.xtrim("s", maxlen=30, approximate=False)


def test_status_json_gives_the_stream_length_exactly_after_a_trim_past_the_group(capsys, any_server, any_r):
    arrange(any_r)
    server_says = any_r.xinfo_groups("s")[0].get("lag")
    assert server_says in (36, None)  # 36 on 7.0+ (entries gone counted), no field on 6.2
    assert cli.main(["status", "--url", any_server.url, "--json", "s"]) == 0
    [g] = json.loads(capsys.readouterr().out)["streams"][0]["groups"]
    assert (g["lag"], g["lag_source"], g["lag_text"], g["lag_estimate"]) == (30, "exact", "30", None)


async def test_serve_exports_the_stream_length_not_the_servers_impossible_lag(any_server, any_r):
    arrange(any_r)
    served = Served.on(any_server)
    try:
        await served.poll()
        page = served.scrape()
    finally:
        await served.close()
    at = {"db": "db0", "stream": "s", "group": "g"}
    assert page.value("redis_stream_group_lag", **at) == 30
    assert page.value("streamtop_stream_group_lag_is_estimate", **at) == 0
