"""Bytes per poll with one 10 MB entry in a stream, as its first and as its last entry.

Side by side on one private Valkey 9.1, for a stream of 1,000 small entries plus the large one,
2 groups (one caught up, one 100 behind); with the large entry first, one small entry is added
between polls; with it last, the stream is idle (so it stays last):
  old     plain XINFO STREAM + XINFO GROUPS + the per-group commands every poll (what the
          collector did before: the first and last entries come back in full each time);
  new     streamtop's Collector (a large first/last entry is seen once, then the stream is read
          with XLEN, the entries after the last one seen and, when small, the first entry);
  lua     a read-only Lua script that returns XINFO STREAM without the entry bodies (weighed,
          not used: EVALSHA is one more right the read-only user needs, and the server still
          copies the 10 MB entry into Lua on every poll; its server time is shown).
Bytes are the server's: INFO stats total_net_output_bytes before and after each poll (the INFO
reply itself, a few kB, is measured alone and taken off). Server time from INFO commandstats.

Then the stream selected, its Messages page shown (issue 29): the large entry among the newest 50,
one small entry added between polls; `before` re-reads the page every poll (XREVRANGE + - COUNT 50,
as the collector did), `now` reads it whole once (streamtop.pipeline.messagepage), then the entries added
since and XLEN. At the dashboard's 1 s interval, bytes per poll are bytes per second.

    python bench/big_entry.py [--mb 10] [--polls 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from typing import Any

# bench/ is on sys.path when a script here runs; common.py adds the repo root
from common import Row, command_usec, embedded_server, print_table, sync_client, usec_delta

from streamtop.options import PollOptions
from streamtop.pipeline.collector import HEAVY_REFRESH, Collector
from streamtop.pipeline.connection import connect, execute_raw, parse_url
from streamtop.pipeline.messagepage import MessagePages
from streamtop.pipeline.model import Focus

KEY = b"bench:big"
GROUPS = (b"caught-up", b"behind")
SMALL = {b"sensor_id": b"sensor1", b"temp": b"0.5", b"humidity": b"0.5"}
STRIP_XINFO = """
local r = redis.call('XINFO', 'STREAM', KEYS[1])
for i = 1, #r, 2 do
  if r[i] == 'first-entry' or r[i] == 'last-entry' then
    if type(r[i + 1]) == 'table' then r[i + 1] = r[i + 1][1] end
  end
end
return r
"""


def setup(r: Any, where: str, mb: float) -> None:
    r.delete(KEY)
    big = {b"blob": b"x" * int(mb * 2**20)}
    if where == "first":
        r.xadd(KEY, big)
    pipe = r.pipeline(transaction=False)
    for _ in range(1000):
        pipe.xadd(KEY, SMALL)
    pipe.execute()
    if where == "last":
        r.xadd(KEY, big)
    for g in GROUPS:
        r.xgroup_create(KEY, g, id="0")
        r.xreadgroup(g, b"c1", {KEY: ">"}, count=2000 if g == b"caught-up" else 900)
        r.xack(KEY, g, *[i for _, es in r.xreadgroup(g, b"c1", {KEY: "0"}, count=2000) for i, _ in es])


def out_bytes(r: Any) -> int:
    return int(r.info("stats")["total_net_output_bytes"])


async def measure(srv: Any, where: str, mb: float, polls: int) -> dict[str, Any]:
    r = sync_client(srv)
    setup(r, where, mb)
    info_cost = out_bytes(r) - out_bytes(r)  # negative: one INFO reply, counted by the second call
    info_cost = -info_cost if info_cost < 0 else 0
    client, server = await connect(parse_url(srv.url))
    sha = r.script_load(STRIP_XINFO)

    async def old() -> None:
        cmds: list[tuple] = [("XINFO", "STREAM", KEY), ("XINFO", "GROUPS", KEY)]
        for g in GROUPS:
            cmds += [("XINFO", "CONSUMERS", KEY, g), ("XPENDING", KEY, g), ("XPENDING", KEY, g, "-", "+", 1)]
        await execute_raw(client, cmds)

    async def lua() -> None:
        cmds: list[tuple] = [("EVALSHA", sha, 1, KEY), ("XINFO", "GROUPS", KEY)]
        for g in GROUPS:
            cmds += [("XINFO", "CONSUMERS", KEY, g), ("XPENDING", KEY, g), ("XPENDING", KEY, g, "-", "+", 1)]
        await execute_raw(client, cmds)

    collector = Collector(client, server, [KEY], PollOptions(estimate_interval=0))  # as measured
    out: dict[str, Any] = {}
    for name, poll in (("old", old), ("new", collector.poll), ("lua", lua)):
        sizes, usec = [], []
        for _ in range(polls):
            if where == "first":  # "last": the stream is idle, the large entry stays last
                r.xadd(KEY, SMALL)
            b0, u0 = out_bytes(r), command_usec(r)
            await poll()
            b1, u1 = out_bytes(r), command_usec(r)
            sizes.append(b1 - b0 - info_cost)
            usec.append(sum(u for _, u in usec_delta(u0, u1).values()))
        out[name] = {"bytes": sizes, "usec": usec}
    await client.aclose()
    r.close()
    return out


async def selected(srv: Any, mb: float, polls: int) -> dict[str, list[int]]:
    """Bytes per poll with the stream selected and its Messages page shown."""
    r = sync_client(srv)
    setup(r, "last", mb)
    info_cost = out_bytes(r) - out_bytes(r)
    info_cost = -info_cost if info_cost < 0 else 0
    client, server = await connect(parse_url(srv.url))
    out: dict[str, list[int]] = {}
    for name in ("before", "now"):
        collector = Collector(client, server, [KEY], PollOptions(estimate_interval=0))
        collector.focus = Focus(key=KEY, group=GROUPS[1])
        b0 = out_bytes(r)
        await collector.poll()  # the first: the stream and the page read whole
        sizes = [out_bytes(r) - b0 - info_cost]
        for _ in range(polls):
            r.xadd(KEY, SMALL)
            if name == "before":
                collector.pages = MessagePages()  # the page read again, as every poll did
            b0 = out_bytes(r)
            await collector.poll()
            sizes.append(out_bytes(r) - b0 - info_cost)
        out[name] = sizes
    await client.aclose()
    r.close()
    return out


def fmt_bytes(n: float) -> str:
    return f"{n / 2**20:.2f} MB" if n >= 2**20 else f"{n / 1024:.1f} kB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=10.0, help="size of the large entry (default 10)")
    ap.add_argument("--polls", type=int, default=10)
    a = ap.parse_args()
    res: dict[str, Any] = {}
    with embedded_server() as srv:
        for where in ("first", "last"):
            res[where] = asyncio.run(measure(srv, where, a.mb, a.polls))
        picked = asyncio.run(selected(srv, a.mb, a.polls))
    rows = []
    for where in ("first", "last"):
        m = res[where]
        old_med = statistics.median(m["old"]["bytes"])
        new_b = m["new"]["bytes"]
        steady = statistics.median(new_b[1:])
        rows.append(
            Row(
                "big",
                f"{a.mb:g} MB entry {where}: old, per poll",
                fmt_bytes(old_med),
                note=f"server {statistics.median(m['old']['usec']) / 1000:.1f} ms/poll",
            )
        )
        rows.append(
            Row(
                "big",
                f"{a.mb:g} MB entry {where}: new, per poll after the 1st",
                fmt_bytes(steady),
                "< 1 MB",
                max(new_b[1:]) < 2**20,
                note=f"max {fmt_bytes(max(new_b[1:]))}; 1st poll {fmt_bytes(new_b[0])}; "
                f"a full read again every {HEAVY_REFRESH:.0f} s; server "
                f"{statistics.median(m['new']['usec'][1:]) / 1000:.2f} ms/poll",
            )
        )
        rows.append(
            Row(
                "big",
                f"{a.mb:g} MB entry {where}: Lua strip (weighed), per poll",
                fmt_bytes(statistics.median(m["lua"]["bytes"])),
                note=f"server {statistics.median(m['lua']['usec']) / 1000:.1f} ms/poll",
            )
        )
    now = picked["now"][1:]  # after the first poll (stream and page read whole)
    rows.append(
        Row(
            "big",
            f"{a.mb:g} MB entry on the selected stream's Messages page: before, per poll (= per s at 1 s)",
            fmt_bytes(statistics.median(picked["before"][1:])),
        )
    )
    rows.append(
        Row(
            "big",
            f"{a.mb:g} MB entry on the selected stream's Messages page: now, per poll after the 1st",
            fmt_bytes(statistics.median(now)),
            "< 1 MB/s",
            max(now) < 2**20,
            note=f"max {fmt_bytes(max(now))}; 1st poll {fmt_bytes(picked['now'][0])} (stream and page "
            f"read whole); plus the stream's full XINFO every {HEAVY_REFRESH:.0f} s: "
            f"{fmt_bytes(a.mb * 2**20 / HEAVY_REFRESH)}/s on average",
        )
    )
    print_table(rows)
    headline: dict[str, int] = {
        f"{w}_{k}_bytes_per_poll": int(statistics.median(res[w][k]["bytes"][1:]))
        for w in res
        for k in ("old", "new", "lua")
    }
    headline["selected_before_bytes_per_poll"] = int(statistics.median(picked["before"][1:]))
    headline["selected_now_bytes_per_poll"] = int(statistics.median(now))
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
