"""Whether a consumer is gone, waiting, busy, or whether the server cannot tell.

Libraries leave their consumers behind (taskiq names each worker start with a fresh uuid and never
deletes it), so a group collects names nobody reads with. But a long idle time alone proves nothing
(issue 25): a reader blocked in `XREADGROUP ... BLOCK 0` on a quiet stream (walrus
`cg.read(block=0)`) makes no new attempt until an entry comes, and a handler busy for 90 s makes
none until it is done. Both were called gone, deleted by `delconsumer --gone` and had their entry
claimed away. So a consumer is **gone** only on evidence that it could have read and did not:

- entries were there for its group after its last attempt and nobody took them: a reader blocked
  on the group would have been handed them at once (the server serves blocked readers on every
  XADD), so an undelivered entry newer than its last attempt means it is not waiting. On 7.2+
  `idle` is the time since its last attempt; before 7.2 it is the time since its last success, so
  there the entry must have waited the whole gone-after time;
- on 7.2+, entries were added after its last attempt and others took them: 7.2+ runs every reader
  blocked on the stream again at each XADD (its idle time restarts whoever is handed the entry;
  measured on Valkey 8.1 and 9.1), so it was not blocked there. The entry IDs are dated with the
  server's clock: the poll's TIME (`poll_clock`), else cannot tell;
- or its connection is known closed (CLIENT LIST, when the server lets us read it): the group's
  other consumers have connections named after them and none carries its name; or no connection
  open now could have made its last attempt (every one is younger, and none is reading now).

Otherwise it is **waiting** (7.2+: its last attempt returned nothing and nothing was added since:
a blocked reader looks like this), **busy** (7.2+: its last attempt got entries it still holds, and
it has not asked since: a long handler looks like this; or its named connection is open), or
**cannot tell** (before 7.2 the server does not say whether it still asks; or its last read got
entries it already acked). Only gone is acted on: `delconsumer --gone`, the claim dialog's order.

Headless: a pure function of one poll and, where read (`read_clients`, one command), CLIENT LIST,
so the dashboard, `status --json` and the delete action agree on the same facts. The dashboard
judges from its poll alone (no CLIENT LIST each second); `status` and the delete action also read
CLIENT LIST when a consumer is idle past the gone-after time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis

from streamtop.pipeline.model import (
    ConsumerInfo,
    GroupInfo,
    LagSource,
    Snapshot,
    TimeLagSource,
    id_ms,
    time_based,
)
from streamtop.pipeline.parse import Reply
from streamtop.pipeline.units import duration_ms

GONE_AFTER_MS = 60_000  # no read attempted for this long before any verdict but "active"
OWN_NAME = b"streamtop"  # streamtop's own connections (connection.py names them): never a consumer's
# an entry counts as added after the last attempt only this much after it (poll_clock already
# takes the end of the round trip, so an attempt is never placed later than it was)
CLOCK_SLACK_MS = 100
READ_COMMANDS = frozenset({"xreadgroup", "xautoclaim", "xclaim"})  # what a consumer's connection runs


class State(StrEnum):
    ACTIVE = "active"  # attempted a read within GONE_AFTER_MS
    WAITING = "waiting"  # asked, got nothing, and nothing came since (a blocked reader)
    BUSY = "busy"  # holds what its last read got, or its named connection is open
    GONE = "gone"  # could have read and did not, or its connection is known closed
    UNKNOWN = "cannot tell"


@dataclass(frozen=True, slots=True)
class Liveness:
    """`gone`: True gone (evidence), False alive (active, waiting, busy), None cannot tell."""

    gone: bool | None
    reason: str = ""
    state: State = State.ACTIVE


ALIVE = Liveness(False)


@dataclass(frozen=True, slots=True)
class Conn:
    """One connection of CLIENT LIST: what liveness reads of it."""

    id: int
    name: bytes
    age_s: int
    idle_s: int
    flags: str
    cmd: str

    @property
    def blocked_reading(self) -> bool:
        return "b" in self.flags and self.cmd == "xreadgroup"


@dataclass(frozen=True, slots=True)
class Clients:
    """CLIENT LIST as read with the poll, without the reader's own connection(s)."""

    conns: tuple[Conn, ...]

    def named(self, name: bytes) -> list[Conn]:
        return [c for c in self.conns if c.name == name]


def parse_client_list(reply: Reply, own_ids: Iterable[int] = ()) -> Clients:
    """CLIENT LIST (the raw text, or redis-py's list of dicts) without the connections `own_ids`."""
    own = set(own_ids)
    rows: list[Mapping[str, Reply]]
    if isinstance(reply, list | tuple):
        rows = [r for r in reply if isinstance(r, Mapping)]
    else:
        body = reply.decode("utf-8", "surrogateescape") if isinstance(reply, bytes) else str(reply or "")
        rows = [dict(f.split("=", 1) for f in line.split(" ") if "=" in f) for line in body.splitlines()]
    conns = []
    for r in rows:
        try:
            cid = int(r.get("id", -1))
            conn = Conn(
                id=cid,
                name=_bytes(r.get("name", "")),
                age_s=int(r.get("age", 0)),
                idle_s=int(r.get("idle", 0)),
                flags=str(r.get("flags", "")),
                cmd=_text(r.get("cmd", "")).split("|")[0].lower(),
            )
        except (TypeError, ValueError):
            continue
        if cid not in own:
            conns.append(conn)
    return Clients(tuple(conns))


def _bytes(v: object) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode("utf-8", "surrogateescape")


def _text(v: object) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _closed(consumer: ConsumerInfo, group: GroupInfo, clients: Clients) -> str | None:
    """Why its connection is known closed, or None."""
    others = [c.name for c in group.consumer_list if c.name != consumer.name]
    if any(clients.named(n) for n in others):
        return "no open connection is named after it, while the group's other consumers' are (CLIENT LIST)"
    idle_s = consumer.idle_ms // 1000
    could = [
        c for c in clients.conns if c.name != OWN_NAME and (c.age_s >= idle_s - 1 or c.cmd in READ_COMMANDS)
    ]
    if not could:
        return (
            f"no connection open now could have made its last read {duration_ms(consumer.idle_ms)} ago: "
            "every one is younger, and none is reading (CLIENT LIST)"
        )
    return None


def _waiting_entries(consumer: ConsumerInfo, group: GroupInfo, gone_after_ms: int) -> int | None:
    """Since when (ms) an entry has waited for the group, undelivered, when that proves this
    consumer is not asking for new entries; else None."""
    lag = group.lag
    behind = lag.best is not None and lag.best > 0
    tl = group.time_lag
    if not behind or tl.source is not TimeLagSource.EXACT or tl.ms is None or lag.source is LagSource.UNKNOWN:
        return None
    if consumer.inactive_ms is not None:  # 7.2+: added after its last attempt, which got nothing
        asked_in_vain = consumer.inactive_ms != consumer.idle_ms  # else busy with what it got
        return tl.ms if asked_in_vain and tl.ms < consumer.idle_ms else None
    return tl.ms if tl.ms >= gone_after_ms and consumer.pending == 0 else None


def liveness(
    consumer: ConsumerInfo,
    group: GroupInfo,
    now_ms: float = 0.0,
    gone_after_ms: int | None = None,
    clients: Clients | None = None,
    server_clock: bool = False,
) -> Liveness:
    """`now_ms`: when the poll was taken (epoch ms; 0: unknown), to tell whether the group was
    delivered entries after the consumer's last attempt, `server_clock` when it is the server's
    TIME (entry IDs are stamped with it; `poll_clock`); `gone_after_ms`
    defaults to GONE_AFTER_MS as it is when called (tests shorten it); `clients`: CLIENT LIST,
    None when not read (no rights, or not asked)."""
    gone_after_ms = GONE_AFTER_MS if gone_after_ms is None else gone_after_ms
    idle = consumer.idle_ms
    if idle < gone_after_ms:
        return ALIVE
    since = duration_ms(idle)
    if clients is not None:
        mine = clients.named(consumer.name) if consumer.name else []
        if any(c.blocked_reading for c in mine):
            return Liveness(
                False, "waiting: its connection (named after it) is blocked in XREADGROUP", State.WAITING
            )
        if mine:
            c = min(mine, key=lambda c: c.idle_s)
            return Liveness(
                False,
                f"busy: its connection (named after it) is open, last command {c.cmd or '?'} "
                f"{duration_ms(c.idle_s * 1000)} ago",
                State.BUSY,
            )
        if (why := _closed(consumer, group, clients)) is not None:
            return Liveness(True, f"no read attempted for {since}; {why}", State.GONE)
    if (waited := _waiting_entries(consumer, group, gone_after_ms)) is not None:
        return Liveness(
            True,
            f"entries wait for its group, undelivered for {duration_ms(waited)}, and it has not read "
            f"for {since}: a reader waiting on the group would have been handed them",
            State.GONE,
        )
    if consumer.inactive_ms is None:  # before 7.2: idle is since its last success
        return Liveness(
            None,
            f"no read for {since}; before 7.2 the server does not say whether it still asks "
            "(a reader blocked on a quiet stream looks the same): cannot tell",
            State.UNKNOWN,
        )
    if consumer.inactive_ms == idle:  # its last attempt got entries
        if consumer.pending:
            return Liveness(
                False,
                f"busy: its last read, {since} ago, got entries it still holds ({consumer.pending:,} "
                "pending), and it has not asked since (a long handler looks like this)",
                State.BUSY,
            )
        return Liveness(
            None,
            f"its last read, {since} ago, got entries, now acked, and it has not asked since: busy "
            "or gone, cannot tell",
            State.UNKNOWN,
        )
    delivered_ms = id_ms(group.last_delivered_id)
    came = (
        now_ms > 0
        and delivered_ms is not None
        and time_based(delivered_ms, int(now_ms))
        and delivered_ms > now_ms - idle + CLOCK_SLACK_MS
    )
    if came and server_clock:
        # 7.2+ runs every reader blocked on the stream again at each XADD (its seen-time moves,
        # whoever is handed the entry): an entry added after its last attempt means it is not
        # blocked there. Others took it, or it waits: either way this consumer did not ask.
        return Liveness(
            True,
            f"no read attempted for {since}, though entries were added for its group since (others "
            "took them): a reader blocked on the stream asks again at every XADD",
            State.GONE,
        )
    if came:  # the poll's clock is not the server's (no TIME): the IDs cannot be compared with it
        return Liveness(
            None,
            f"no read attempted for {since}, and other consumers took entries added about since: "
            "without the server's clock, cannot tell",
            State.UNKNOWN,
        )
    never = consumer.inactive_ms < 0
    return Liveness(
        False,
        f"waiting: no read attempted for {since}"
        + (" (it never got an entry)" if never else "")
        + ", and nothing came for its group since (a reader blocked with BLOCK 0 looks like this)",
        State.WAITING,
    )


def poll_clock(snapshot: Snapshot | None) -> tuple[float, bool]:
    """(now in epoch ms, whether it is the server's clock) for judging the consumers of a poll."""
    if snapshot is None:
        return 0.0, False
    if snapshot.server_time_ms is not None:  # TIME opened the round trip: its end bounds the idle times'
        return float(snapshot.server_time_ms) + snapshot.duration_ms, True
    return snapshot.taken_at * 1000, False


def group_liveness(
    group: GroupInfo,
    now_ms: float = 0.0,
    gone_after_ms: int | None = None,
    clients: Clients | None = None,
    server_clock: bool = False,
) -> dict[bytes, Liveness]:
    return {
        c.name: liveness(c, group, now_ms, gone_after_ms, clients, server_clock) for c in group.consumer_list
    }


def claim_order(
    group: GroupInfo,
    now_ms: float = 0.0,
    gone_after_ms: int | None = None,
    clients: Clients | None = None,
    server_clock: bool = False,
) -> list[ConsumerInfo]:
    """Who a claim should go to first: not gone, then the most recently seen (a gone consumer is
    never the default target)."""
    states = group_liveness(group, now_ms, gone_after_ms, clients, server_clock)
    return sorted(group.consumer_list, key=lambda c: (states[c.name].gone is True, c.idle_ms))


def deletable(
    group: GroupInfo, now_ms: float = 0.0, gone_after_ms: int | None = None, clients: Clients | None = None
) -> list[bytes]:
    """Gone consumers holding no pending entries: deleting them loses nothing."""
    states = group_liveness(group, now_ms, gone_after_ms, clients)
    return [c.name for c in group.consumer_list if states[c.name].gone is True and c.pending == 0]


async def read_clients(client: aioredis.Redis | aioredis.RedisCluster) -> Clients | None:
    """CLIENT LIST (normal clients) without the connection that reads it; None when the server
    refuses it (an ACL without +client) or fails: liveness then judges without it, and a verdict
    that needs it is "cannot tell", never gone."""
    try:
        pipe = client.pipeline(transaction=False)
        pipe.execute_command("CLIENT", "ID")
        pipe.execute_command("CLIENT", "LIST", "TYPE", "normal")
        own, reply = await pipe.execute(raise_on_error=False)
    except Exception:
        return None
    if isinstance(reply, Exception):
        return None
    return parse_client_list(reply, [] if isinstance(own, Exception) else [int(own)])


def needs_clients(groups: Sequence[GroupInfo], gone_after_ms: int | None = None) -> bool:
    """Whether CLIENT LIST can change a verdict: some consumer idle past the gone-after time."""
    limit = GONE_AFTER_MS if gone_after_ms is None else gone_after_ms
    return any(c.idle_ms >= limit for g in groups for c in g.consumer_list)
