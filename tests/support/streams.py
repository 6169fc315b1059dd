"""Arranging and checking server state for the action tests (integration, ui): fill a stream with a
group and a PEL, read the PEL back, snapshot everything an action could change, call every action."""

from __future__ import annotations

import redis

from streamtop.actions import Actions
from streamtop.monitor import Monitor
from streamtop.options import PollOptions, SessionOptions
from streamtop.pipeline.connection import ConnectionSpec, parse_url, probe_server

OLD_MS = 120_000  # idle given to "stuck" entries with XCLAIM ... IDLE


async def make_actions(srv, *, read_only=False, username=None, password=None) -> Actions:
    spec = ConnectionSpec(host=srv.host, port=srv.port, username=username, password=password)
    client = spec.make_client(raw=True)
    return Actions(client, await probe_server(client), read_only=read_only)


def fill(r: redis.Redis, key="s", n=10, group="g", consumer="c1", read=None, old=()) -> list[str]:
    """A stream of n entries; `consumer` reads `read` of them (all by default) into its PEL;
    the entries at the indexes in `old` are made idle for OLD_MS (JUSTID keeps deliveries at 1)."""
    ids = [r.xadd(key, {"n": str(i), "payload": f"v{i}"}).decode() for i in range(n)]
    r.xgroup_create(key, group, "0")
    r.xreadgroup(group, consumer, {key: ">"}, count=read if read is not None else n)
    for i in old:
        r.xclaim(key, group, consumer, 0, [ids[i]], idle=OLD_MS, justid=True)
    return ids


def pel(r: redis.Redis, key="s", group="g") -> dict[str, tuple[bytes, int]]:
    """id -> (consumer, deliveries)."""
    rows = r.xpending_range(key, group, "-", "+", 10_000)
    return {row["message_id"].decode(): (row["consumer"], row["times_delivered"]) for row in rows}


def server_state(r: redis.Redis) -> dict:
    """Everything an action could change, for 'the server is unchanged' checks."""
    out = {}
    for key in sorted(r.keys("*")):
        out[key] = (r.type(key), r.xlen(key) if r.type(key) == b"stream" else r.dump(key))
        if r.type(key) == b"stream":
            for g in r.xinfo_groups(key):
                out[(key, g["name"])] = (
                    g["last-delivered-id"],
                    g["pending"],
                    g["consumers"],
                    tuple(sorted(pel(r, key, g["name"]).items())),
                )
    return out


def every_action(a: Actions, ids: list[str]) -> dict[str, object]:
    return {
        "produce": a.produce_one(b"s"),
        "burst": a.produce_burst(b"s", 10),
        "ack": a.ack(b"s", b"g", ids[:2]),
        "claim": a.claim_auto(b"s", b"g", b"c2", 0, 10),
        "claim ids": a.claim_ids(b"s", b"g", b"c2", 0, ids[:2]),
        "trim": a.trim(b"s", "MAXLEN", 2),
        "create group": a.group_create(b"s", b"g2", "0"),
        "set group ID": a.group_setid(b"s", b"g", "0"),
        "delete consumer": a.consumer_delete(b"s", b"g", b"c1"),
        "destroy group": a.group_destroy(b"s", b"g"),
        "dead-letter": a.dead_letter(b"s", b"g", ids=ids[:2]),
        "dead-letter by count": a.dead_letter(b"s", b"g", min_deliveries=1),
    }


def arrange_orders(r: redis.Redis) -> None:
    """orders: 10 entries; g1 read 4 by c1 (one acked: 3 pending), c2 idle; g2 from `$`."""
    for i in range(10):
        r.xadd("orders", {"n": i}, id=f"1000-{i + 1}")
    r.xgroup_create("orders", "g1", id="0")
    r.xreadgroup("g1", "c1", {"orders": ">"}, count=4)
    r.xack("orders", "g1", "1000-2")
    r.xgroup_createconsumer("orders", "g1", "c2")
    r.xgroup_create("orders", "g2", id="$")


def crashed(r: redis.Redis, n: int = 190) -> list[str]:
    """A consumer that crashed holding entries (issue 13's claim runs): c2 reads 5 entries and
    stays alive; c1 reads `n` and crashes (its entries idle OLD_MS, read once); c3 reads 5 more and
    is busy (not idle)."""
    for i in range(n + 10):
        r.xadd("s", {"n": str(i), "v": b"\xff%d" % i})
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c2", {"s": ">"}, count=5)
    got = r.xreadgroup("g", "c1", {"s": ">"}, count=n)
    c1 = [i.decode() for i, _ in got[0][1]]
    r.xclaim("s", "g", "c1", 0, c1, idle=OLD_MS, justid=True)  # JUSTID: deliveries stay 1
    r.xreadgroup("g", "c3", {"s": ">"}, count=5)
    return c1


def pending_streams(r: redis.Redis, n: int) -> list[bytes]:
    """n streams s:000.., each with 3 entries, one group and one consumer holding them pending."""
    keys = [f"s:{i:03d}".encode() for i in range(n)]
    pipe = r.pipeline(transaction=False)
    for k in keys:
        for _ in range(3):
            pipe.xadd(k, {"f": "v"})
        pipe.xgroup_create(k, "g", id="0")
        pipe.xreadgroup("g", "c1", {k: ">"})
    pipe.execute()
    return keys


def screen_monitor(srv, **options) -> Monitor:
    """A Monitor that reads in full only the rows on screen (`set_focus`), as the dashboard's."""
    return Monitor(parse_url(srv.url), SessionOptions(poll=PollOptions(**options), follow_screen=True))
